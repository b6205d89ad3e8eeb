"""Masks as closed smooth curves that a person can edit, and back.

A mask becomes one `Region` per 8-connected skin component: an outer `Curve` and one inner curve per hole. A curve is
a closed centripetal Catmull-Rom spline *through* its control points (so dragging a point drags the curve with it,
and centripetal parametrisation never makes cusps or loops between points); a point marked as a corner makes the
curve leave and enter it in straight lines toward its neighbours. Control points come from `cv2.approxPolyDP` on the
component's traced outline, with the tolerance lowered until the spline's raster matches the outline's (Jaccard
`target`), so a smooth 12 MP region needs a few dozen points.

Rasterising: the outer curve is filled, holes are cleared and their outline drawn back (OpenCV traces a hole along the
skin pixels around it), all on a dense sampling of the spline with sub-pixel precision (`cv2.fillPoly(shift=4)`).

A region fitted from a mask keeps that component's exact pixels until it is edited (`pixels`), so converting a mask to
splines and back without editing changes nothing; `rasterise(..., exact=False)` shows what the curves alone give.

Coordinates are (x, y) in full-resolution pixels, pixel centres at integers. Masks are uint8 0/1 or bool [H, W].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from skinseg_core.maskpatch import BBox

__all__ = ["Curve", "Region", "fit_regions", "jaccard", "rasterise", "rasterise_region", "sample_curve"]

_SHIFT = 4  # fillPoly sub-pixel bits
_SCALE = 1 << _SHIFT
CORNER_ANGLE = 30.0  # degrees of turn at a fitted point above which it is a corner (polygon-traced masks)
MIN_REGION_PIXELS = 12  # smaller components stay as pixels (no curve): a curve cannot draw them meaningfully


@dataclass(frozen=True, eq=False)
class Curve:
    """points: float64 [N, 2] control points (x, y), N >= 3; corners: bool [N]."""

    points: np.ndarray
    corners: np.ndarray

    @classmethod
    def make(cls, points: np.ndarray, corners: np.ndarray | None = None) -> Curve:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(pts) < 3:
            raise ValueError(f"a closed curve needs at least 3 points, got {len(pts)}")
        flags = np.zeros(len(pts), bool) if corners is None else np.asarray(corners, bool).reshape(-1)
        return cls(pts.copy(), flags.copy())

    def __len__(self) -> int:
        return len(self.points)

    def moved(self, index: int, xy: tuple[float, float]) -> Curve:
        points = self.points.copy()
        points[index] = xy
        return Curve(points, self.corners.copy())

    def inserted(self, after: int, xy: tuple[float, float]) -> Curve:
        """A new point between `after` and the next one."""
        return Curve(np.insert(self.points, after + 1, xy, axis=0), np.insert(self.corners, after + 1, False))

    def deleted(self, index: int) -> Curve:
        if len(self) <= 3:
            raise ValueError("a closed curve keeps at least 3 points")
        return Curve(np.delete(self.points, index, axis=0), np.delete(self.corners, index))

    def with_corner(self, index: int, corner: bool) -> Curve:
        corners = self.corners.copy()
        corners[index] = corner
        return Curve(self.points.copy(), corners)

    def translated(self, dx: float, dy: float) -> Curve:
        return Curve(self.points + (dx, dy), self.corners.copy())


@dataclass(frozen=True, eq=False)
class Region:
    """One skin component: outer curve (None for specks kept as pixels), holes, and, until edited, its exact pixels
    (uint8 0/1 crop placed at `origin` (x, y))."""

    outer: Curve | None
    holes: tuple[Curve, ...] = ()
    pixels: np.ndarray | None = field(default=None, repr=False)
    origin: tuple[int, int] = (0, 0)

    @property
    def editable(self) -> bool:
        return self.outer is not None

    def curves(self) -> tuple[Curve, ...]:
        return ((self.outer,) if self.outer is not None else ()) + self.holes

    def bbox(self) -> BBox:
        """Box holding every pixel the region sets (not clipped to the photo)."""
        if self.pixels is not None:
            x, y = self.origin
            return x, y, x + self.pixels.shape[1], y + self.pixels.shape[0]
        assert self.outer is not None
        samples = sample_curve(self.outer)
        x0, y0 = np.floor(samples.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(samples.max(axis=0)).astype(int) + 2
        return int(x0), int(y0), int(x1), int(y1)

    def edited(self, outer: Curve | None = None, holes: tuple[Curve, ...] | None = None) -> Region:
        """The region with new curves; from now on its pixels are its curves' raster."""
        return Region(outer if outer is not None else self.outer, self.holes if holes is None else holes)

    def translated(self, dx: int, dy: int) -> Region:
        """Moved by whole pixels (exact pixels, if any, move with it)."""
        curves = [c.translated(dx, dy) for c in self.curves()]
        outer = curves[0] if self.outer is not None else None
        holes = tuple(curves[1:] if self.outer is not None else curves)
        return replace(self, outer=outer, holes=holes, origin=(self.origin[0] + dx, self.origin[1] + dy))


# ----------------------------------------------------------------------------------------------------------------
# Splines
# ----------------------------------------------------------------------------------------------------------------


def samples_per_segment(curve: Curve) -> int:
    """Dense enough that consecutive samples are at most ~2 px apart on the longest segment."""
    lengths = np.linalg.norm(np.roll(curve.points, -1, axis=0) - curve.points, axis=1)
    return int(np.clip(math.ceil(float(lengths.max(initial=1.0)) / 2.0), 4, 256))


def sample_curve(curve: Curve, per_segment: int | None = None) -> np.ndarray:
    """float64 [N * per_segment, 2]: the closed spline, segment i (point i to i + 1) at rows i*m .. i*m + m - 1."""
    m = per_segment or samples_per_segment(curve)
    p = curve.points
    b = p
    c = np.roll(p, -1, axis=0)
    a = np.roll(p, 1, axis=0)
    d = np.roll(p, -2, axis=0)
    corner_b = curve.corners
    corner_c = np.roll(curve.corners, -1)
    # A corner: the curve leaves (enters) it heading straight at the next (previous) point.
    a = np.where(corner_b[:, None], 2 * b - c, a)
    d = np.where(corner_c[:, None], 2 * c - b, d)

    def knot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.maximum(np.linalg.norm(v - u, axis=1) ** 0.5, 1e-6)  # centripetal: alpha = 0.5

    t0 = np.zeros(len(p))
    t1 = t0 + knot(a, b)
    t2 = t1 + knot(b, c)
    t3 = t2 + knot(c, d)
    s = np.arange(m, dtype=np.float64) / m
    t = t1[:, None] + (t2 - t1)[:, None] * s[None, :]  # [n, m]

    def lerp(pa: np.ndarray, pb: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> np.ndarray:
        w = ((t - ta[:, None]) / (tb - ta)[:, None])[..., None]
        return pa[:, None, :] * (1 - w) + pb[:, None, :] * w

    a1 = lerp(a, b, t0, t1)
    a2 = lerp(b, c, t1, t2)
    a3 = lerp(c, d, t2, t3)
    b1 = a1 * ((t2[:, None] - t) / (t2 - t0)[:, None])[..., None] + a2 * ((t - t0[:, None]) / (t2 - t0)[:, None])[
        ..., None]
    b2 = a2 * ((t3[:, None] - t) / (t3 - t1)[:, None])[..., None] + a3 * ((t - t1[:, None]) / (t3 - t1)[:, None])[
        ..., None]
    out = b1 * ((t2[:, None] - t) / (t2 - t1)[:, None])[..., None] + b2 * ((t - t1[:, None]) / (t2 - t1)[:, None])[
        ..., None]
    return out.reshape(-1, 2)


def nearest_on_curve(curve: Curve, xy: tuple[float, float]) -> tuple[int, float, np.ndarray]:
    """(segment index, distance, nearest sample) of the curve point nearest to xy."""
    m = samples_per_segment(curve)
    samples = sample_curve(curve, m)
    dist = np.hypot(samples[:, 0] - xy[0], samples[:, 1] - xy[1])
    k = int(dist.argmin())
    return k // m, float(dist[k]), samples[k]


# ----------------------------------------------------------------------------------------------------------------
# Rasterising
# ----------------------------------------------------------------------------------------------------------------


def _fixed(points: np.ndarray, offset: tuple[int, int]) -> np.ndarray:
    return np.rint((points - offset) * _SCALE).astype(np.int32).reshape(-1, 1, 2)


def rasterise_region(region: Region, bbox: BBox, exact: bool = True) -> np.ndarray:
    """uint8 0/1 [y1 - y0, x1 - x0]: the region's pixels inside bbox (exact pixels while unedited, if `exact`)."""
    x0, y0, x1, y1 = bbox
    out = np.zeros((y1 - y0, x1 - x0), np.uint8)
    if region.pixels is not None and (exact or region.outer is None):
        rx, ry = region.origin
        h, w = region.pixels.shape
        ax0, ay0, ax1, ay1 = max(x0, rx), max(y0, ry), min(x1, rx + w), min(y1, ry + h)
        if ax0 < ax1 and ay0 < ay1:
            out[ay0 - y0 : ay1 - y0, ax0 - x0 : ax1 - x0] = region.pixels[ay0 - ry : ay1 - ry, ax0 - rx : ax1 - rx]
        return out
    if region.outer is None:
        return out
    cv2.fillPoly(out, [_fixed(sample_curve(region.outer), (x0, y0))], 1, cv2.LINE_8, _SHIFT)
    for hole in region.holes:
        ring = _fixed(sample_curve(hole), (x0, y0))
        cv2.fillPoly(out, [ring], 0, cv2.LINE_8, _SHIFT)
        cv2.polylines(out, [ring], True, 1, 1, cv2.LINE_8, _SHIFT)
    return out


def rasterise(regions: tuple[Region, ...] | list[Region], size: tuple[int, int], exact: bool = True,
              bbox: BBox | None = None) -> np.ndarray:
    """uint8 0/1: the union of the regions, over the whole (width, height) image or only `bbox`."""
    box = bbox or (0, 0, size[0], size[1])
    out = np.zeros((box[3] - box[1], box[2] - box[0]), np.uint8)
    for region in regions:
        rb = region.bbox()
        if rb[0] >= box[2] or rb[2] <= box[0] or rb[1] >= box[3] or rb[3] <= box[1]:
            continue
        out |= rasterise_region(region, box, exact)
    return out


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two masks (1.0 when both are empty)."""
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


# ----------------------------------------------------------------------------------------------------------------
# Fitting
# ----------------------------------------------------------------------------------------------------------------


def _mark_corners(points: np.ndarray) -> np.ndarray:
    incoming = points - np.roll(points, 1, axis=0)
    outgoing = np.roll(points, -1, axis=0) - points
    cross = incoming[:, 0] * outgoing[:, 1] - incoming[:, 1] * outgoing[:, 0]
    dot = (incoming * outgoing).sum(axis=1)
    turn = np.degrees(np.abs(np.arctan2(cross, dot)))
    return turn > CORNER_ANGLE


def _curve_iou(curve: Curve, reference: np.ndarray, offset: tuple[float, float], scale: float) -> float:
    out = np.zeros_like(reference)
    pts = np.rint((sample_curve(curve) - offset) * scale * _SCALE).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(out, [pts], 1, cv2.LINE_8, _SHIFT)
    return jaccard(out, reference)


def fit_curve(contour: np.ndarray, target: float = 0.99, max_points: int = 120) -> Curve | None:
    """A closed spline through a few points of a traced outline (int [N, 1, 2] from cv2.findContours) whose filled
    raster matches the filled outline with Jaccard >= target, or the best found with at most max_points points.
    None when the outline has fewer than 3 points.

    The points are the vertices of `cv2.approxPolyDP` at a tolerance lowered step by step; a vertex where the outline
    turns sharply is made a corner (hand-traced polygon masks are full of them).
    """
    outline = contour.reshape(-1, 2).astype(np.float64)
    if len(outline) < 3:
        return None
    x0, y0 = outline.min(axis=0) - 2
    x1, y1 = outline.max(axis=0) + 2
    # Judge candidates on a raster of at most ~1000 px: choosing the tolerance does not need every pixel.
    scale = min(1.0, 1000.0 / max(x1 - x0, y1 - y0))
    shape = (int(math.ceil((y1 - y0) * scale)) + 1, int(math.ceil((x1 - x0) * scale)) + 1)
    reference = np.zeros(shape, np.uint8)
    ref_pts = np.rint((outline - (x0, y0)) * scale * _SCALE).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(reference, [ref_pts], 1, cv2.LINE_8, _SHIFT)
    epsilon = max(1.0, cv2.arcLength(contour, True) / 60.0)
    best: tuple[float, Curve] | None = None
    while epsilon >= 0.3:
        approx = cv2.approxPolyDP(contour, epsilon, True).reshape(-1, 2).astype(np.float64)
        if len(approx) > max_points:
            break
        if len(approx) >= 3:
            curve = Curve(approx, _mark_corners(approx))
            score = _curve_iou(curve, reference, (x0, y0), scale)
            if best is None or score > best[0]:
                best = (score, curve)
            if score >= target:
                break
        epsilon *= 0.8
    if best is None:  # a tiny outline: its convex hull, as a polygon
        hull = cv2.convexHull(contour).reshape(-1, 2).astype(np.float64)
        return Curve(hull, np.ones(len(hull), bool)) if len(hull) >= 3 else None
    return best[1]


def fit_regions(mask: np.ndarray, target: float = 0.99, max_points: int = 120) -> tuple[Region, ...]:
    """One Region per 8-connected skin component of `mask` (bool or 0/1 [H, W]), holes as inner curves.

    Every region keeps its component's exact pixels, so `rasterise(fit_regions(m), size)` equals m exactly, while
    `rasterise(..., exact=False)` (the curves alone) matches it with Jaccard around `target`.
    """
    binary = (np.asarray(mask) > 0).astype(np.uint8)
    if binary.ndim != 2:
        raise ValueError(f"a mask must be a 2-D array [H, W], got shape {binary.shape}")
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    contours, hierarchy = cv2.findContours(binary, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    holes_of: dict[int, list[np.ndarray]] = {}
    outers: list[tuple[int, np.ndarray]] = []
    if hierarchy is not None:
        for i, (_, _, _, parent) in enumerate(hierarchy[0]):
            if parent < 0:
                outers.append((i, contours[i]))
            else:
                holes_of.setdefault(parent, []).append(contours[i])
    regions = []
    for i, contour in outers:
        x, y = contour[0, 0]
        label = int(labels[y, x])
        left, top, width, height, area = (int(v) for v in stats[label])
        pixels = (labels[top : top + height, left : left + width] == label).astype(np.uint8)
        outer = fit_curve(contour, target, max_points) if area >= MIN_REGION_PIXELS else None
        holes = []
        if outer is not None:
            for hole in holes_of.get(i, []):
                hole_area = cv2.contourArea(hole)
                if hole_area >= MIN_REGION_PIXELS / 2:
                    # A hole's misplaced pixels count against the whole region, not against the hole alone.
                    hole_target = min(target, max(0.95, 1.0 - 0.5 * (1.0 - target) * area / hole_area))
                    curve = fit_curve(hole, hole_target, max_points)
                    if curve is not None:
                        holes.append(curve)
        regions.append(Region(outer, tuple(holes), pixels, (left, top)))
    return tuple(regions)
