"""int8 against fp32 for the bundled model on ONNX Runtime: Jaccard on the test sets and forward time, in one run.

The issue's rule: use int8 for inference only if it is faster and keeps Jaccard within 0.005 of fp32 on the test
sets. The int8 copy is calibrated on training photos of every set (never on test photos), each with its mirror image
as the test-time flip runs it (skinseg_core/quantise.py). Both are scored as `skinseg report` scores (full
resolution, flip and guided filter as the model file asks) and timed interleaved, at batch 1 and at batch 2 (the
flip). Prints a table and the verdict; asserts nothing.

    .venv/bin/python benchmarks/int8_quantisation.py [--data-root ../shared/data] [--per-set 24] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skinseg_core.group_pictures import tile_pairs  # noqa: E402
from skinseg_core.inference import Segmenter  # noqa: E402
from skinseg_core.onnx_backend import OnnxRunner, cached_export  # noqa: E402
from skinseg_core.quantise import calibration_inputs, quantise_int8  # noqa: E402
from skinseg_core.recipes import dataset_splits  # noqa: E402
from skinseg_core.report import GROUP_CELL, GROUP_PER_SIDE, GROUP_SET, TEST_SETS, score_pairs  # noqa: E402

CALIBRATION_SETS = ("lfw_parts", "sfa", "abdomen", "ecu_subset", "fasseg", "clinical_fitz17k")
TOLERANCE = 0.005


def interleaved_ms(runners: dict[str, OnnxRunner], shape: tuple[int, ...], repeats: int) -> dict[str, float]:
    """Median ms per runner on inputs of `shape`, the runners taking turns so that a busy machine slows them alike."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, runner in runners.items():
            start = time.perf_counter()
            runner(x)
            times[name].append((time.perf_counter() - start) * 1000.0)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model file (default: the bundled model)")
    parser.add_argument("--data-root", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--per-set", type=int, default=24, help="training photos per set for calibration")
    parser.add_argument("--limit", type=int, default=None,
                        help="score only the first N test photos per set (and N group pictures)")
    parser.add_argument("--repeats", type=int, default=100, help="timed forward passes per runner")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    if not args.data_root.is_dir():
        parser.error(f"no data folder at {args.data_root}: pass --data-root pointing at the shared data")
    fp32_segmenter = Segmenter(args.model, device="cpu", backend="onnx")
    loaded = fp32_segmenter.loaded
    splits = dataset_splits(args.data_root)
    photos = [pair.image for name in CALIBRATION_SETS for pair in splits[name].train[:args.per_set]]
    with tempfile.TemporaryDirectory(prefix="skinseg-int8-") as tmp:
        # Decoded one at a time as inference decodes them (large photos at reduced size).
        rgbs = (fp32_segmenter.read(photo).rgb for photo in photos)
        int8_file = quantise_int8(cached_export(loaded), calibration_inputs(fp32_segmenter, rgbs),
                                  Path(tmp) / "int8.onnx")
        segmenters = {"fp32": fp32_segmenter,
                      "int8": Segmenter(loaded, device="cpu", backend="onnx", onnx_file=int8_file)}
        test_sets = {name: splits[name].test[:args.limit] for name in TEST_SETS}
        per_picture = GROUP_PER_SIDE**2  # --limit counts pictures here
        group_photos = splits["lfw_parts"].test[:args.limit * per_picture if args.limit else None]
        test_sets[GROUP_SET] = tile_pairs(group_photos, GROUP_PER_SIDE, Path(tmp) / "groups", cell=GROUP_CELL)
        scores: dict[str, dict[str, tuple[float, float]]] = {}
        for name, pairs in test_sets.items():
            for variant, segmenter in segmenters.items():
                summary = score_pairs(segmenter, pairs)["methods"]["model"]["summary"]
                scores.setdefault(name, {})[variant] = (summary["jaccard"]["mean"],
                                                        summary["background_jaccard"]["mean"])
        runners = {"fp32": OnnxRunner(cached_export(loaded)), "int8": OnnxRunner(int8_file)}
        channels, size = int(getattr(loaded.model, "in_channels", 6)), loaded.input_size
        timings = {batch: interleaved_ms(runners, (batch, channels, size, size), args.repeats) for batch in (1, 2)}

    mirrored = " and their mirror images" if fp32_segmenter.tta else ""
    print(f"model {loaded.name}; calibration: {len(photos)} training photos{mirrored}")
    print("| test set | fp32 skin / bg J | int8 skin / bg J | change in skin J | change in bg J |")
    print("|---|---|---|---:|---:|")
    worst = 0.0
    for name, by_variant in scores.items():
        (fs, fb), (qs, qb) = by_variant["fp32"], by_variant["int8"]
        worst = max(worst, abs(qs - fs), abs(qb - fb))
        print(f"| {name} | {fs:.3f} / {fb:.3f} | {qs:.3f} / {qb:.3f} | {qs - fs:+.4f} | {qb - fb:+.4f} |")
    for batch, ms in timings.items():
        print(f"forward at batch {batch}: fp32 {ms['fp32']:.2f} ms, int8 {ms['int8']:.2f} ms, "
              f"int8 / fp32 time {ms['int8'] / ms['fp32']:.3f}")
    faster = timings[2]["int8"] < timings[2]["fp32"]
    close = worst <= TOLERANCE
    print(f"largest change in Jaccard {worst:.4f} (allowed {TOLERANCE}); "
          f"int8 {'qualifies' if faster and close else 'does not qualify'} for inference")
    if args.json:
        args.json.write_text(json.dumps({"model": loaded.name, "calibration_photos": len(photos),
                                         "calibration_flip": fp32_segmenter.tta, "scores": scores,
                                         "forward_ms": timings, "largest_change": worst,
                                         "qualifies": faster and close}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
