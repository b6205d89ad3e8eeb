"""Masks <-> spline regions: exact round trip while unedited, Jaccard >= 0.98 from the curves alone on real masks,
few control points; editing helpers; rasterising."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from skinseg_core.contours import Curve, Region, fit_regions, jaccard, nearest_on_curve, rasterise, sample_curve
from skinseg_core.imageio import read_mask

TWELVE_MP = 12_000_000


def upscaled(mask: np.ndarray, pixels: int = TWELVE_MP) -> np.ndarray:
    h, w = mask.shape
    s = (pixels / (h * w)) ** 0.5
    return cv2.resize(mask.astype(np.uint8), (round(w * s), round(h * s)), interpolation=cv2.INTER_NEAREST_EXACT)


def test_spline_round_trip_of_a_ring_with_a_speck() -> None:
    yy, xx = np.mgrid[0:300, 0:400]
    r = np.hypot(xx - 200, yy - 150)
    mask = ((r < 120) & (r > 40)).astype(np.uint8)
    mask[5:7, 5:7] = 1  # a 4-pixel speck: kept as pixels, no curve
    regions = fit_regions(mask)
    assert len(regions) == 2
    ring = next(r for r in regions if r.editable)
    assert len(ring.holes) == 1 and len(ring.outer) <= 40 and len(ring.holes[0]) <= 40
    assert not next(r for r in regions if not r.editable).editable
    assert np.array_equal(rasterise(regions, (400, 300)), mask)  # exact while unedited
    curves_only = rasterise(regions, (400, 300), exact=False)
    assert jaccard(curves_only, mask) >= 0.98


def _check_real_masks(folder: Path, count: int) -> list[tuple[float, int]]:
    files = sorted(folder.glob("*.png"))[:count]
    if not files:
        pytest.skip(f"no masks in {folder}")
    results = []
    for path in files:
        mask = upscaled(read_mask(path))
        regions = fit_regions(mask)
        size = (mask.shape[1], mask.shape[0])
        assert np.array_equal(rasterise(regions, size), mask)
        score = jaccard(rasterise(regions, size, exact=False), mask)
        points = max((len(r.outer) for r in regions if r.editable), default=0)
        results.append((score, points))
    return results


@pytest.mark.needs_data
def test_spline_round_trip_on_clinical_masks_at_12_mp(shared_data: Path) -> None:
    results = _check_real_masks(shared_data / "clinical_fitz17k" / "masks", 15)
    assert all(score >= 0.98 for score, _ in results), results
    counts = sorted(points for _, points in results)
    assert counts[len(counts) // 2] <= 40, counts  # typically at most 40 control points per region
    assert max(counts) <= 120


@pytest.mark.needs_data
def test_spline_round_trip_on_ecu_masks_at_12_mp(shared_data: Path) -> None:
    """ECU masks are hand-traced polygons of whole people (hands, faces, several people merged into one region):
    their curves need more points, and a few fall short of 0.98 within the 120-point cap."""
    results = _check_real_masks(shared_data / "ecu_subset" / "masks", 10)
    scores = sorted(score for score, _ in results)
    assert scores[len(scores) // 2] >= 0.98, results
    assert min(scores) >= 0.95, results
    assert all(points <= 120 for _, points in results)


def test_spline_passes_through_its_points_and_corners_are_sharp() -> None:
    square = Curve.make(np.array([[10, 10], [90, 10], [90, 90], [10, 90]], float), np.ones(4, bool))
    samples = sample_curve(square, 16)
    assert np.allclose(samples[::16], square.points)
    filled = rasterise((Region(square),), (100, 100), exact=False)
    assert jaccard(filled, np.pad(np.ones((81, 81), np.uint8), ((10, 9), (10, 9)))) > 0.99  # a square, not a blob
    smooth = rasterise((Region(square.with_corner(0, False).with_corner(1, False).with_corner(2, False)
                               .with_corner(3, False)),), (100, 100), exact=False)
    assert smooth.sum() > filled.sum()  # smooth through the same points: bulges outward


def test_spline_editing_helpers() -> None:
    curve = Curve.make(np.array([[0, 0], [100, 0], [100, 100], [0, 100]], float))
    segment, distance, _ = nearest_on_curve(curve, (50, -3))
    assert segment == 0 and distance < 10
    inserted = curve.inserted(segment, (50, -3))
    assert len(inserted) == 5 and tuple(inserted.points[1]) == (50, -3)
    assert len(inserted.deleted(1)) == 4
    with pytest.raises(ValueError):
        Curve.make(curve.points[:3]).deleted(0)  # a closed curve keeps 3 points
    moved = Region(curve).translated(5, 7)
    assert np.allclose(moved.outer.points, curve.points + (5, 7))
