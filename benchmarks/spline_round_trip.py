"""How well the spline editor's curves reproduce real masks at 12 MP, and with how many control points.

For every mask of the chosen shared-data folders: enlarge it to ~12 MP (see `upscaled`: nearest neighbour, the blocky
worst case; linear; or smooth, like a mask traced on a real 12 MP photo), fit spline regions
(`skinseg_core.contours.fit_regions`), rasterise the curves alone (`exact=False`, as if every region had been edited)
and compare with the mask (Jaccard). Prints per folder the mean and minimum Jaccard, the control points per editable
region (mean, median, 90th percentile, max), the regions kept as pixels and the fitting time per mask (CPU seconds,
so that a busy machine does not inflate it); `--worst N` lists the N lowest masks. Asserts nothing.

    nice -n 19 .venv/bin/python benchmarks/spline_round_trip.py --data ../shared/data \
        [--sets ecu_subset clinical_fitz17k sfa:60 abdomen:60] [--upscale nearest linear smooth] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from skinseg_core.contours import fit_regions, jaccard, rasterise  # noqa: E402
from skinseg_core.imageio import read_mask  # noqa: E402

TWELVE_MP = 12_000_000


def upscaled(mask: np.ndarray, mode: str, pixels: int = TWELVE_MP) -> np.ndarray:
    """uint8 0/1 at about `pixels` pixels.

    nearest: every mask pixel becomes a block (staircases of ~8 px on every slanted edge, a worst case no real 12 MP
    mask has); linear: bilinear, thresholded at 0.5 (the staircase stays as a ripple); smooth: bilinear, then a
    Gaussian blur of half an original pixel, thresholded at 0.5 (the outline a mask traced at 12 MP would have).
    """
    h, w = mask.shape
    s = (pixels / (h * w)) ** 0.5
    size = (round(w * s), round(h * s))
    if mode == "nearest":
        return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST_EXACT)
    grown = cv2.resize(mask.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)
    if mode == "smooth":
        grown = cv2.GaussianBlur(grown, (0, 0), 0.5 * s)
    return (grown >= 0.5).astype(np.uint8)


def measure(path: Path, mode: str) -> dict:
    mask = upscaled(read_mask(path), mode)
    start = time.process_time()
    regions = fit_regions(mask)
    seconds = time.process_time() - start
    size = (mask.shape[1], mask.shape[0])
    score = jaccard(rasterise(regions, size, exact=False), mask)
    editable = [r for r in regions if r.editable]
    return {
        "mask": path.name,
        "jaccard": float(score),
        "points": [len(r.outer) for r in editable],
        "areas": [int(r.pixels.sum()) for r in editable],
        "hole_points": [len(h) for r in editable for h in r.holes],
        "pixel_regions": len(regions) - len(editable),
        "seconds": seconds,
    }


def summary(rows: list[dict]) -> dict:
    scores = [r["jaccard"] for r in rows]
    points = sorted(p for r in rows for p in r["points"])
    holes = [p for r in rows for p in r["hole_points"]]
    return {
        "masks": len(rows),
        "jaccard_mean": statistics.fmean(scores),
        "jaccard_min": min(scores),
        "below_0.98": sum(s < 0.98 for s in scores),
        "regions": len(points),
        "points_mean": statistics.fmean(points) if points else 0.0,
        "points_median": statistics.median(points) if points else 0,
        "points_p90": points[int(0.9 * (len(points) - 1))] if points else 0,
        "points_max": max(points, default=0),
        "hole_points_mean": statistics.fmean(holes) if holes else 0.0,
        "pixel_regions": sum(r["pixel_regions"] for r in rows),
        "seconds_mean": statistics.fmean(r["seconds"] for r in rows),
        "seconds_max": max(r["seconds"] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--sets", nargs="+", default=["ecu_subset", "clinical_fitz17k", "sfa:60", "abdomen:60"],
                        help="folder[:N] (N: an evenly spaced sample of N masks)")
    parser.add_argument("--upscale", nargs="+", default=["nearest", "smooth"], choices=["nearest", "linear", "smooth"])
    parser.add_argument("--worst", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = {}
    for spec in args.sets:
        name, _, count = spec.partition(":")
        files = sorted((args.data / name / "masks").glob("*.png"))
        if count:
            files = files[:: max(1, len(files) // int(count))][: int(count)]
        for mode in args.upscale:
            rows = [measure(path, mode) for path in files]
            stats = summary(rows)
            report[f"{name}/{mode}"] = {"summary": stats, "masks": rows}
            print(f"{name:18s} {mode:8s} {stats['masks']:4d} masks  Jaccard mean {stats['jaccard_mean']:.4f} "
                  f"min {stats['jaccard_min']:.4f} (<0.98: {stats['below_0.98']})  points/region mean "
                  f"{stats['points_mean']:.1f} median {stats['points_median']} p90 {stats['points_p90']} max "
                  f"{stats['points_max']} ({stats['regions']} regions, {stats['pixel_regions']} as pixels)  "
                  f"fit {stats['seconds_mean']:.2f} s (max {stats['seconds_max']:.2f})", flush=True)
            for row in sorted(rows, key=lambda r: r["jaccard"])[: args.worst]:
                print(f"    {row['mask']}: {row['jaccard']:.4f}, points {sorted(row['points'], reverse=True)[:6]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
