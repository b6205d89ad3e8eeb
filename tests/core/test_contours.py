"""Masks <-> spline regions: exact round trip while unedited, Jaccard >= 0.98 from the curves alone on real masks
enlarged to 12 MP, few control points; tiny regions, thin lines and pinholes; editing helpers; rasterising."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from skinseg_core.contours import (MAX_POINTS, Curve, Region, fit_regions, jaccard, nearest_on_curve, rasterise,
                                   sample_curve)
from skinseg_core.imageio import read_mask

TWELVE_MP = 12_000_000


def upscaled(mask: np.ndarray, pixels: int = TWELVE_MP) -> np.ndarray:
    """The mask enlarged to ~12 MP with a smooth outline (bilinear, a Gaussian blur of half an original pixel,
    thresholded at 0.5), as a mask drawn on a real 12 MP photo has. A nearest-neighbour enlargement would give every
    slanted edge 8-10 px staircases instead, which no smooth curve follows: benchmarks/spline_round_trip.py measures
    both (and linear without the blur)."""
    h, w = mask.shape
    s = (pixels / (h * w)) ** 0.5
    grown = cv2.resize(mask.astype(np.float32), (round(w * s), round(h * s)), interpolation=cv2.INTER_LINEAR)
    return (cv2.GaussianBlur(grown, (0, 0), 0.5 * s) >= 0.5).astype(np.uint8)


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


def test_spline_fit_of_a_smooth_12_mp_blob_needs_few_points() -> None:
    yy, xx = np.mgrid[0:3000, 0:4000]
    blob = (((xx - 2000) / 1500.0) ** 2 + ((yy - 1500) / 900.0) ** 2 <= 1).astype(np.uint8)
    blob[1400:1600, 1900:2100] = 0  # a square hole: its corners become sharp points
    regions = fit_regions(blob)
    (region,) = regions
    assert len(region.outer) <= 12 and len(region.holes) == 1 and len(region.holes[0]) <= 8
    assert region.holes[0].corners.sum() >= 3
    assert jaccard(rasterise(regions, (4000, 3000), exact=False), blob) >= 0.98


@pytest.mark.parametrize("size", [33, 63])
def test_spline_fit_of_tiny_regions_thin_lines_and_pinholes(size: int) -> None:
    """Odd sizes, specks of 1-11 pixels (kept as pixels), a 1-pixel-wide line, a diagonal chain of pixels, holes of
    1 to 9 pixels: nothing fails, every curve has at least 3 points, the curves stay close to the mask."""
    mask = np.zeros((size, size + 4), np.uint8)
    mask[2, 2] = 1
    mask[2:5, 6:8] = 1  # 6 px
    mask[8, 2 : size - 2] = 1  # a line, 1 px wide
    for k in range(10):
        mask[11 + k, 2 + k] = 1  # a diagonal chain (8-connected)
    mask[size // 2 :, size // 2 :] = 1
    mask[size - 8, size - 6] = 0  # a 1-pixel hole (not a curve)
    mask[size - 5 : size - 2, size // 2 + 2 : size // 2 + 5] = 0  # a 9-pixel hole
    regions = fit_regions(mask)
    assert np.array_equal(rasterise(regions, (size + 4, size)), mask)
    assert all(len(c) >= 3 for r in regions for c in r.curves())
    assert sum(not r.editable for r in regions) == 3  # the specks and the 10-pixel chain
    big = next(r for r in regions if r.editable and r.pixels.sum() > 100)
    assert len(big.holes) == 1  # the 9-pixel hole; the 1-pixel one is no curve (editing the region fills it)
    curves = rasterise(regions, (size + 4, size), exact=False)
    assert np.count_nonzero(curves != mask) <= 0.1 * mask.sum()


def _check_real_masks(folder: Path, every: int = 1) -> list[tuple[str, float, list[int]]]:
    files = sorted(folder.glob("*.png"))[::every]
    if not files:
        pytest.skip(f"no masks in {folder}")
    results = []
    for path in files:
        mask = upscaled(read_mask(path))
        regions = fit_regions(mask)
        size = (mask.shape[1], mask.shape[0])
        assert np.array_equal(rasterise(regions, size), mask)
        score = jaccard(rasterise(regions, size, exact=False), mask)
        results.append((path.name, score, [len(r.outer) for r in regions if r.editable]))
    return results


def _median(values: list[int]) -> float:
    return float(np.median(values)) if values else 0.0


@pytest.mark.needs_data
def test_spline_round_trip_on_clinical_masks_at_12_mp(shared_data: Path) -> None:
    """Every clinical mask: the curves alone reproduce it with Jaccard >= 0.98, with a few points per region."""
    results = _check_real_masks(shared_data / "clinical_fitz17k" / "masks")
    assert all(score >= 0.98 for _, score, _ in results), results
    points = [n for _, _, counts in results for n in counts]
    assert _median(points) <= 12 and max(points) <= 60, points


@pytest.mark.needs_data
def test_spline_round_trip_on_ecu_masks_at_12_mp(shared_data: Path) -> None:
    """ECU masks are hand-traced polygons of whole people (arms, hands, faces with their eyes and mouths as holes,
    several people merged into one region): every fifth one, each with Jaccard >= 0.98. Such outlines need more
    points than a lesion or a face: about 50 per region (benchmarks/spline_round_trip.py: all 101 masks)."""
    results = _check_real_masks(shared_data / "ecu_subset" / "masks", every=5)
    assert all(score >= 0.98 for _, score, _ in results), results
    points = [n for _, _, counts in results for n in counts]
    assert _median(points) <= 60 and max(points) <= MAX_POINTS, points


@pytest.mark.needs_data
@pytest.mark.parametrize("folder", ["sfa", "abdomen"])
def test_spline_round_trip_on_face_and_abdomen_masks_at_12_mp(shared_data: Path, folder: str) -> None:
    """A spread sample of SFA (faces, often many small regions) and abdomen masks: each with Jaccard >= 0.98."""
    source = shared_data / folder / "masks"
    every = max(1, len(list(source.glob("*.png"))) // 8)
    results = _check_real_masks(source, every=every)
    assert all(score >= 0.98 for _, score, _ in results), results
    points = [n for _, _, counts in results for n in counts]
    assert _median(points) <= 40, points


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
