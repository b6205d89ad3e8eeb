"""int8 static quantisation of an ONNX export, and the benchmark that judges it on real photos."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.inference import Segmenter
from skinseg_core.models import scores_to_probabilities
from skinseg_core.onnx_backend import OnnxRunner, export_onnx
from skinseg_core.quantise import calibration_inputs, quantise_int8

REPO = Path(__file__).resolve().parents[2]


def _photos(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(count)]


def test_calibration_inputs_are_the_segmenters_own_with_the_flips_mirror_image(tiny_checkpoint):
    loaded = load_checkpoint(tiny_checkpoint)
    flipping = Segmenter(loaded, device="cpu", tta=True, refine=False)
    photos = _photos(2)
    inputs = list(calibration_inputs(flipping, photos))
    assert len(inputs) == 2 and inputs[0].shape == (2, 6, 32, 32) and inputs[0].dtype == np.float32
    np.testing.assert_array_equal(inputs[0][1], inputs[0][0][..., ::-1])
    np.testing.assert_array_equal(inputs[1], flipping.network_inputs(photos[1]).numpy())
    assert not np.array_equal(inputs[0], inputs[1])
    plain = next(calibration_inputs(Segmenter(loaded, device="cpu", tta=False, refine=False), photos))
    np.testing.assert_array_equal(plain, inputs[0][:1])


def test_int8_copy_is_quantised_and_follows_fp32(tiny_checkpoint, tmp_path):
    loaded = load_checkpoint(tiny_checkpoint)
    segmenter = Segmenter(loaded, device="cpu", tta=True, refine=False)
    fp32 = export_onnx(loaded.model, loaded.input_size, tmp_path / "fp32.onnx")
    int8 = quantise_int8(fp32, calibration_inputs(segmenter, _photos(6)), tmp_path / "int8.onnx")
    ops = {node.op_type for node in onnx.load(str(int8)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert not list(tmp_path.glob("*.skinseg-tmp"))  # written atomically: no temporary file left behind

    x = np.ascontiguousarray(np.concatenate(list(calibration_inputs(segmenter, _photos(2, seed=7)))))
    p32 = scores_to_probabilities(torch.from_numpy(OnnxRunner(fp32)(x))).numpy()
    p8 = scores_to_probabilities(torch.from_numpy(OnnxRunner(int8)(x))).numpy()
    assert p8.shape == p32.shape == (4, 1, 32, 32)
    assert np.abs(p8 - p32).mean() < 0.05  # close, not equal: 8-bit activations round
    assert np.corrcoef(p8.ravel(), p32.ravel())[0, 1] > 0.9


def test_segmenter_runs_a_given_onnx_file_and_only_on_the_onnx_backend(tiny_checkpoint, tmp_path):
    loaded = load_checkpoint(tiny_checkpoint)
    fp32 = export_onnx(loaded.model, loaded.input_size, tmp_path / "fp32.onnx")
    plain = Segmenter(loaded, device="cpu", backend="onnx", tta=False, refine=False)
    int8 = quantise_int8(fp32, calibration_inputs(plain, _photos(4)), tmp_path / "int8.onnx")
    rgb = _photos(1, seed=3)[0]
    quantised = Segmenter(loaded, device="cpu", backend="onnx", tta=False, refine=False, onnx_file=int8)
    a, b = plain.network_probabilities(rgb), quantised.network_probabilities(rgb)
    assert a.shape == b.shape and not np.array_equal(a, b)  # the int8 file ran, not the cached fp32 export
    assert np.abs(a - b).mean() < 0.05
    with pytest.raises(ValueError, match="ONNX backend"):
        Segmenter(loaded, device="cpu", backend="torch", onnx_file=int8)


def test_int8_benchmark_scores_every_test_set_and_gives_a_verdict(shared_data, tiny_checkpoint, tmp_path):
    out = tmp_path / "int8.json"
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "int8_quantisation.py"),
                           "--model", str(tiny_checkpoint), "--data-root", str(shared_data), "--limit", "1",
                           "--per-set", "1", "--repeats", "2", "--json", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert set(result["scores"]) == {"lfw_parts", "sfa", "abdomen", "ecu_subset", "clinical_fitz17k", "lfw_groups"}
    for by_variant in result["scores"].values():
        for skin, background in by_variant.values():
            assert 0.0 <= skin <= 1.0 and 0.0 <= background <= 1.0
    assert result["calibration_photos"] == 6
    assert all(result["forward_ms"][batch]["int8"] > 0 for batch in ("1", "2"))
    verdict = "qualifies" if result["qualifies"] else "does not qualify"
    assert f"int8 {verdict} for inference" in done.stdout
    assert "| lfw_groups |" in done.stdout


def test_without_quantisation_tools_the_benchmark_times_fp32_only(tiny_checkpoint, monkeypatch):
    import importlib.util

    from skinseg_core import benchmark, quantise

    def missing(name, *args, **kwargs):
        raise ModuleNotFoundError(f"No module named {name!r}")

    with monkeypatch.context() as patched:
        patched.setattr(importlib.util, "find_spec", missing)
        assert quantise.quantisation_available() is False
    monkeypatch.setattr(benchmark, "quantisation_available", lambda: False)
    result = benchmark.run_benchmark(tiny_checkpoint, device="cpu", repeats=1, include_50mp=False)
    assert result["forward_onnx_ms"] > 0
    assert "forward_int8_ms" not in result and "int8_vs_onnx_time_ratio" not in result
    assert "int8" not in benchmark.format_benchmark(result)
