"""`skinseg benchmark`: medians of repeated timings on this machine. It reports figures and asserts nothing.

Photos are synthetic JPEGs (smooth colour fields with skin-toned blobs) made in a temporary folder, so the benchmark
needs no data folder and never touches the user's photos.
"""

from __future__ import annotations

import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

import skinseg_core
from skinseg_core.face_colour import gate_map
from skinseg_core.flops import forward_gflops
from skinseg_core.imageio import read_photo, write_mask_png
from skinseg_core.inference import Segmenter
from skinseg_core.losses import jaccard_loss
from skinseg_core.models import build_from_config, scores_to_probabilities
from skinseg_core.onnx_backend import OnnxRunner, cached_export, onnxruntime_available
from skinseg_core.preprocess import model_input
from skinseg_core.quantise import calibration_inputs, quantisation_available, quantise_int8
from skinseg_core.refine import refine_map

PHOTO_SIZES = {"photo_1mp_ms": (1152, 864), "photo_12mp_ms": (4000, 3000), "photo_50mp_ms": (8165, 6124)}


def synthetic_photo(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A JPEG that compresses and decodes like a photo: smooth gradients, noise and skin-coloured ellipses."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, size=(max(height // 64, 2), max(width // 64, 2), 3), dtype=np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(6):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (int(rng.integers(width // 20, width // 5)), int(rng.integers(height // 20, height // 5)))
        cv2.ellipse(image, center, axes, float(rng.uniform(0, 180)), 0, 360, (120, 160, 210), -1)  # BGR skin tone
    noise = rng.integers(0, 12, size=(min(height, 512), min(width, 512), 3), dtype=np.uint8)
    image[: noise.shape[0], : noise.shape[1]] = cv2.add(image[: noise.shape[0], : noise.shape[1]], noise)
    cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return path


def median_ms(function: Callable[[], Any], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _with_and_without_gate(segmenter: Segmenter, photo_to_mask: Callable[[], None], repeats: int
                           ) -> tuple[float, float]:
    """Median ms of `photo_to_mask` with the segmenter's face colour gate and without it, timed in turns so that the
    machine's drift falls on both alike."""
    gate = segmenter.face_gate
    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        for _ in range(max(repeats, 3)):
            for on in (True, False):
                segmenter.face_gate = gate if on else None
                start = time.perf_counter()
                photo_to_mask()
                times[on].append((time.perf_counter() - start) * 1000.0)
    finally:
        segmenter.face_gate = gate
    return statistics.median(times[True]), statistics.median(times[False])


def matmul_gflops(n: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of a large fp32 matrix multiply: the practical peak the network's convolutions are compared with."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    ms = median_ms(lambda: torch.mm(a, b), repeats)
    return 2.0 * n**3 / (ms / 1000.0) / 1e9


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _int8_export(segmenter: Segmenter) -> Path:
    """An int8 copy of the model's ONNX export, calibrated on a few synthetic photos: enough to time it (its speed
    does not depend on the calibrated ranges), not to judge its masks (benchmarks/int8_quantisation.py does that on
    real photos). Written once per model into the cache folder beside the fp32 export."""
    fp32 = cached_export(segmenter.loaded)
    path = fp32.with_name(fp32.stem + "-int8-timing.onnx")
    if not path.exists():
        with tempfile.TemporaryDirectory(prefix="skinseg-bench-") as tmp:
            rgbs = (read_photo(synthetic_photo(Path(tmp) / f"{i}.jpg", 640, 480, seed=i)).rgb for i in range(4))
            quantise_int8(fp32, calibration_inputs(segmenter, rgbs), path)
    return path


def run_benchmark(model: str | Path | None = None, device: str = "auto", repeats: int = 5,
                  include_50mp: bool = True) -> dict[str, Any]:
    segmenter = Segmenter(model, device=device)
    net, size, dev = segmenter.model, segmenter.input_size, segmenter.device
    result: dict[str, Any] = {
        "skinseg_version": skinseg_core.__version__,
        "model": segmenter.loaded.name,
        "input_size": size,
        "device": segmenter.device_description,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "repeats": repeats,
    }

    x = model_input(net, torch.rand(1, 3, size, size, device=dev)).contiguous(memory_format=torch.channels_last)

    def torch_forward() -> None:
        with torch.inference_mode():
            net(x)
        _sync(dev)

    timings = {"torch": median_ms(torch_forward, max(repeats, 10), warmup=3)}
    if dev.type == "cpu" and onnxruntime_available():
        runner = segmenter._onnx or OnnxRunner(cached_export(segmenter.loaded))
        x_numpy = x.contiguous().cpu().numpy()
        timings["onnx"] = median_ms(lambda: runner(x_numpy), max(repeats, 10), warmup=3)
        result["forward_onnx_ms"] = round(timings["onnx"], 3)
        result["onnx_vs_torch_time_ratio"] = round(timings["onnx"] / timings["torch"], 3)
        if quantisation_available():
            int8_runner = OnnxRunner(_int8_export(segmenter))
            timings["int8"] = median_ms(lambda: int8_runner(x_numpy), max(repeats, 10), warmup=3)
            result["forward_int8_ms"] = round(timings["int8"], 3)
            result["int8_vs_onnx_time_ratio"] = round(timings["int8"] / timings["onnx"], 3)
    result["forward_torch_ms"] = round(timings["torch"], 3)
    result["backend"] = segmenter.backend
    # The photo timings below run as the user's photos do: with the model's test-time flip when it has one (two
    # network passes per photo); forward_ms is one pass.
    result["test_time_flip"] = segmenter.tta
    # ... and with its guided filter; refine_ms is that step alone on a 4:3 photo at its working size.
    result["guided_filter"] = segmenter.guided_filter.to_dict() if segmenter.guided_filter else None
    if segmenter.guided_filter:
        side = segmenter.refine_long_side
        rgb = np.random.default_rng(0).integers(0, 256, (side * 3 // 4, side, 3), dtype=np.uint8)
        small = np.random.default_rng(1).random((size, size), dtype=np.float32)
        result["refine_ms"] = round(median_ms(
            lambda: refine_map(rgb, small, segmenter.guided_filter, side), max(repeats, 10), warmup=2), 3)
    # ... and with its face colour gate; face_gate_ms is both face searches on the synthetic 4:3 photo as the gate
    # reads it, with the network's map of it (the second search looks around its small skin parts), plus the gate
    # and its colour balance check, one face given when none is found.
    result["face_colour_gate"] = segmenter.face_gate.to_dict() if segmenter.face_gate else None
    if segmenter.face_gate:
        gate = segmenter.face_gate
        with tempfile.TemporaryDirectory(prefix="skinseg-bench-") as tmp:
            photo_rgb = segmenter.read(synthetic_photo(Path(tmp) / "gate.jpg", 1600, 1200)).rgb
        segmenter.face_gate = None
        try:
            compact = segmenter.compact_probabilities(photo_rgb)
        finally:
            segmenter.face_gate = gate
        height, width = photo_rgb.shape[:2]
        stand_in = [(width * 2 // 5, height // 4, width // 5, height // 3)]
        result["face_gate_ms"] = round(median_ms(
            lambda: gate_map(gate.balanced(photo_rgb, stand_in), compact, gate.faces(photo_rgb, compact) or stand_in,
                             gate),
            max(repeats, 10), warmup=2), 3)
    result["forward_ms"] = round(timings[segmenter.backend], 3)
    result["gflops"] = round(forward_gflops(net, size), 4)
    result["achieved_gflops"] = round(result["gflops"] / (result["forward_ms"] / 1000.0), 2)
    result["peak_gflops"] = round(matmul_gflops(), 2)
    result["achieved_fraction_of_peak"] = round(result["achieved_gflops"] / result["peak_gflops"], 4)

    with tempfile.TemporaryDirectory(prefix="skinseg-bench-") as tmp:
        folder = Path(tmp)
        sizes = {k: v for k, v in PHOTO_SIZES.items() if include_50mp or k != "photo_50mp_ms"}
        for key, (width, height) in sizes.items():
            photo = synthetic_photo(folder / f"{key}.jpg", width, height)
            out = folder / f"{key}_mask.png"

            def photo_to_mask(photo: Path = photo, out: Path = out) -> None:
                write_mask_png(out, segmenter.predict(photo).mask(0.5))

            result[key] = round(median_ms(photo_to_mask, repeats), 2)
            if key == "photo_12mp_ms" and segmenter.face_gate:
                with_ms, without_ms = _with_and_without_gate(segmenter, photo_to_mask, repeats)
                result["photo_12mp_without_face_gate_ms"] = round(without_ms, 2)
                result["face_gate_time_ratio_12mp"] = round(with_ms / without_ms, 3)

    # One training step at batch 16 on a copy of the network (the bundled weights stay untouched).
    train_net = build_from_config(net.config).to(dev)
    train_net.load_state_dict(net.state_dict())
    train_net.to(memory_format=torch.channels_last).train()
    optimizer = torch.optim.SGD(train_net.parameters(), lr=0.001, momentum=0.9)
    images = torch.rand(16, 3, size, size, device=dev).contiguous(memory_format=torch.channels_last)
    masks = (torch.rand(16, 1, size, size, device=dev) > 0.5).float()

    def train_step() -> None:
        loss = jaccard_loss(scores_to_probabilities(train_net(model_input(train_net, images))), masks)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        _sync(dev)

    result["train_step_ms"] = round(median_ms(train_step, max(2, repeats // 2)), 2)
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["peak_memory_mb"] = round(rss / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
    if dev.type == "cuda":
        result["peak_gpu_memory_mb"] = round(torch.cuda.max_memory_allocated(dev) / 2**20, 1)
    return result


def format_benchmark(result: dict[str, Any]) -> str:
    lines = [f"SkinSeg {result['skinseg_version']} · model {result['model']} · input {result['input_size']} px · "
             f"{result['device']} · backend {result['backend']} · torch {result['torch']}"]
    labels = [
        ("forward_ms", "forward pass at input size (default backend)", "ms"),
        ("forward_torch_ms", "  torch eager, channels_last", "ms"),
        ("forward_onnx_ms", "  ONNX Runtime", "ms"),
        ("onnx_vs_torch_time_ratio", "  ONNX / torch time", ""),
        ("forward_int8_ms", "  ONNX Runtime int8 (static; not used)", "ms"),
        ("int8_vs_onnx_time_ratio", "  int8 / fp32 ONNX time", ""),
        ("gflops", "GFLOPs per forward pass", ""),
        ("achieved_gflops", "achieved GFLOP/s", ""),
        ("peak_gflops", "large matmul GFLOP/s (same run)", ""),
        ("achieved_fraction_of_peak", "achieved / matmul", ""),
        ("refine_ms", "guided filter at 2x input size (4:3 photo)", "ms"),
        ("face_gate_ms", "face searches + face colour gate (4:3 photo)", "ms"),
        ("photo_1mp_ms", "1 MP JPEG -> full-size mask", "ms"),
        ("photo_12mp_ms", "12 MP JPEG -> full-size mask", "ms"),
        ("photo_12mp_without_face_gate_ms", "  the same without the face colour gate (in turns)", "ms"),
        ("face_gate_time_ratio_12mp", "  with / without the gate", ""),
        ("photo_50mp_ms", "50 MP JPEG -> full-size mask", "ms"),
        ("train_step_ms", "one training step (batch 16)", "ms"),
        ("peak_memory_mb", "peak memory (RSS)", "MB"),
        ("peak_gpu_memory_mb", "peak GPU memory", "MB"),
    ]
    for key, label, unit in labels:
        if key in result:
            lines.append(f"  {label:<46}{result[key]:>12} {unit}")
    lines.append(f"  medians of {result['repeats']} runs; figures only, nothing asserted")
    return "\n".join(lines)
