"""ONNX Runtime for inference on the CPU: the same network, its forward pass in about 0.8 of eager torch's time here
(channels_last; `skinseg benchmark` reports the ratio).

A model is exported once per (weights, input size) into the user's cache folder and reused; the export is a plain
ONNX graph (no code). Outputs match torch to ~1e-6, so masks and Jaccard are unchanged (`skinseg benchmark` and the
tests compare both). Training always uses torch.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from skinseg_core.atomic import atomic_path
from skinseg_core.checkpoint import LoadedModel
from skinseg_core.paths import user_cache_dir

log = logging.getLogger(__name__)

OPSET = 17


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def export_onnx(model: torch.nn.Module, input_size: int, path: Path) -> Path:
    """Write the network as ONNX for [N,C,S,S] inputs (C = its input channels, 6 or 9) (any batch N) and scores [N,1,S,S]; atomic."""
    model = model.eval()
    example = torch.zeros(1, int(getattr(model, "in_channels", 6)), input_size, input_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter's deprecation notices
        torch.onnx.export(model, (example,), str(tmp), input_names=["x"], output_names=["scores"],
                          dynamic_axes={"x": {0: "batch"}, "scores": {0: "batch"}}, opset_version=OPSET,
                          dynamo=False)
    return path


def cached_export(loaded: LoadedModel) -> Path:
    """The model's ONNX export in the cache folder, made on first use (a few seconds)."""
    key = f"{loaded.info.get('weights_sha256', 'unknown')[:24]}-{loaded.input_size}-opset{OPSET}.onnx"
    path = user_cache_dir() / "onnx" / key
    if not path.exists():
        log.info("exporting %s to ONNX at %s", loaded.name, path)
        export_onnx(loaded.model, loaded.input_size, path)
    return path


class OnnxRunner:
    """Scores from an ONNX export with ONNX Runtime on the CPU."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads() or (os.cpu_count() or 1)
        options.log_severity_level = 3
        # Spinning worker threads win a little latency on an idle machine but starve everything else on a busy
        # one (the GUI, a training run): a desktop app shares its cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """float32 [N,6,S,S] -> float32 [N,1,S,S] scores (pre-tanh)."""
        return self.session.run(None, {"x": np.ascontiguousarray(inputs, dtype=np.float32)})[0]
