"""`skinseg models`: the presets with their parameter counts and forward-pass GFLOPs at 128 and 256 px."""

from __future__ import annotations

from typing import Any

import torch

from skinseg_core.flops import count_parameters, forward_gflops
from skinseg_core.models import PRESETS, build_model, preset_names

# The paper's Table I, for comparison in the listing.
PAPER_PARAMS = {"unet": 7.5e6, "unet-large": 150e6, "dense-res-unet": 149.9e6}


def preset_table() -> list[dict[str, Any]]:
    """One row per preset. Networks are built on the 'meta' device: 150M-parameter presets cost no memory here."""
    rows = []
    for name in preset_names():
        with torch.device("meta"):
            model = build_model(name)
        rows.append({
            "name": name,
            "arch": PRESETS[name]["arch"],
            "params": count_parameters(model),
            "paper_params": PAPER_PARAMS.get(name),
            "gflops_128": round(forward_gflops(model, 128), 3),
            "gflops_256": round(forward_gflops(model, 256), 3),
            "input_size": int(model.config["input_size"]),
        })
    return rows
