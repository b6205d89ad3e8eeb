"""Masks as closed smooth curves that a person can edit, and back.

A mask becomes one `Region` per 8-connected skin component: an outer `Curve` and one inner curve per hole. A curve is
a closed centripetal Catmull-Rom spline *through* its control points (so dragging a point drags the curve with it,
and centripetal parametrisation never makes cusps or loops between points); a point marked as a corner makes the
curve leave and enter it in straight lines toward its neighbours.

Fitting (`fit_region`), per component, outer outline and holes together:
1. start from a coarse `cv2.approxPolyDP` polygon of each traced outline (sharp turns start as corners);
2. estimate, per spline segment, the pixels it gets wrong: the distance between the segment and the stretch of
   outline it stands for, both ways, less half a pixel (what `fillPoly` forgives), integrated along the outline;
3. add a point where the worst segment strays most (choosing its corner flag by trying both), until the estimates add
   up to the region's budget: (1 - target) of its pixels, so that the region's Jaccard, and the whole mask's, stays
   >= target;
4. move the points off the outline by robust least squares (`scipy.optimize.least_squares`, sparse Jacobian), which
   averages the outline's pixel ripple out and saves about a quarter of the points;
5. rasterise the curves and count the misplaced pixels: above the budget, lower the estimate's budget and go on.
A smooth 12 MP region needs a few points to a dozen, a hand-traced polygon of a whole person about fifty
(benchmarks/spline_round_trip.py).

Rasterising: the outer curve is filled, holes are cleared and their outline drawn back (OpenCV traces a hole along the
skin pixels around it), all on a dense sampling of the spline with sub-pixel precision (`cv2.fillPoly(shift=4)`).

A region fitted from a mask keeps that component's exact pixels until it is edited (`pixels`), so converting a mask to
splines and back without editing changes nothing; `rasterise(..., exact=False)` shows what the curves alone give.

Coordinates are (x, y) in full-resolution pixels, pixel centres at integers. Masks are uint8 0/1 or bool [H, W].
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from scipy import sparse
from scipy.optimize import least_squares
from scipy.spatial import cKDTree

from skinseg_core.maskpatch import BBox

__all__ = ["Curve", "Region", "fit_region", "fit_regions", "iter_fit_regions", "jaccard", "rasterise",
           "rasterise_region", "sample_curve"]

_SHIFT = 4  # fillPoly sub-pixel bits
_SCALE = 1 << _SHIFT
CORNER_ANGLE = 30.0  # degrees of turn at a first, coarse point above which it starts as a corner
CORNER_GAIN = 0.7  # a point is made a corner when that leaves its segments at most this part of their error
MIN_REGION_PIXELS = 12  # smaller components stay as pixels (no curve): a curve cannot draw them meaningfully
MIN_HOLE_PIXELS = 6  # smaller holes are not curves (an edited region fills them)
DEAD_ZONE = 0.5  # px: fillPoly fills the pixels within about half a pixel of a curve, so closer strays cost nothing
SAMPLE_SPACING = 0.5  # px between the spline samples that errors are measured on
FAR = 24.0  # px: distances are counted up to this
MIN_SPACING = 3.0  # px of outline per control point at most
MAX_POINTS = 400  # per curve: a guard against noise-like outlines (smooth regions need far fewer)
VERIFY_ROUNDS = 6  # a region whose raster misses the target is given a smaller error budget, at most this often
REFINE_GAIN = 1.3  # least squares leaves about 25 % fewer misplaced pixels: points are chosen for this much more
REFINE_SAMPLES = 24  # outline points per segment that least squares matches (at most)
REFINE_ROUNDS = 1  # rounds of least squares, each after matching the outline points to the curve again
REFINE_FROM = 0.02  # a curve whose error is under this part of its region's budget is not worth refining


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


def _catmull_rom(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, corner_b: np.ndarray,
                 corner_c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """float64 [n, m, 2]: n centripetal Catmull-Rom segments from b to c (a and d their outer neighbours, all
    [n, 2]) at the fractions s ([m], or [n, m] per segment) of each segment's knot interval; a corner end leaves or
    enters it straight."""
    # A corner: the curve leaves (enters) it heading straight at the next (previous) point.
    a = np.where(corner_b[:, None], 2 * b - c, a)
    d = np.where(corner_c[:, None], 2 * c - b, d)

    def knot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.maximum(np.linalg.norm(v - u, axis=1) ** 0.5, 1e-6)  # centripetal: alpha = 0.5

    t0 = np.zeros(len(b))
    t1 = t0 + knot(a, b)
    t2 = t1 + knot(b, c)
    t3 = t2 + knot(c, d)
    t = t1[:, None] + (t2 - t1)[:, None] * (s if s.ndim == 2 else s[None, :])  # [n, m]

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
    return b1 * ((t2[:, None] - t) / (t2 - t1)[:, None])[..., None] + b2 * ((t - t1[:, None]) / (t2 - t1)[:, None])[
        ..., None]


def sample_curve(curve: Curve, per_segment: int | None = None) -> np.ndarray:
    """float64 [N * per_segment, 2]: the closed spline, segment i (point i to i + 1) at rows i*m .. i*m + m - 1."""
    m = per_segment or samples_per_segment(curve)
    p = curve.points
    s = np.arange(m, dtype=np.float64) / m
    out = _catmull_rom(np.roll(p, 1, axis=0), p, np.roll(p, -1, axis=0), np.roll(p, -2, axis=0), curve.corners,
                       np.roll(curve.corners, -1), s)
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


def _indices_on(contour: np.ndarray, vertices: np.ndarray) -> list[int]:
    """Indices into contour [L, 2] of vertices [n, 2] taken from it in the same cyclic order (a pixel a thin part
    visits twice gets the visit that follows the previous vertex)."""
    where: dict[tuple[int, int], list[int]] = {}
    for k, (x, y) in enumerate(contour.tolist()):
        where.setdefault((int(x), int(y)), []).append(k)
    indices: list[int] = []
    for x, y in vertices.tolist():
        options = where.get((int(x), int(y)))
        if not options:
            continue
        if not indices:
            indices.append(options[0])
            continue
        after = [k for k in options if k > indices[-1]]
        if after:
            indices.append(after[0])
    return sorted(set(indices))


def _distance_to_segment(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """float64 [N]: distance of each point [N, 2] to the line segment from a to b."""
    ab = b - a
    length2 = float(ab @ ab)
    t = np.clip((points - a) @ ab / length2, 0.0, 1.0) if length2 > 0 else np.zeros(len(points))
    nearest = a + t[:, None] * ab
    return np.hypot(points[:, 0] - nearest[:, 0], points[:, 1] - nearest[:, 1])


class _OutlineFit:
    """Control points for one traced outline, chosen among its pixels, and how far each spline segment strays.

    A segment's error estimates the pixels its raster gets wrong: the distance between the segment and the stretch of
    outline it stands for (both ways, so bulges and overshoots count), less DEAD_ZONE, integrated along the outline.
    Segment i runs from point i to point i + 1; a point's corner flag shapes only the two segments that end at it.
    """

    def __init__(self, contour: np.ndarray, epsilon: float, max_points: int) -> None:
        outline = contour.reshape(-1, 2)
        self.outline = outline.astype(np.float64)
        self.tree = cKDTree(self.outline)
        count = len(outline)
        steps = np.linalg.norm(np.roll(self.outline, -1, axis=0) - self.outline, axis=1)
        self.cumulative = np.concatenate([[0.0], np.cumsum(steps)])  # [L + 1], arc length up to point k
        self.length = float(self.cumulative[-1])
        # A point at most every MIN_SPACING pixels of outline: more cannot draw anything a pixel grid shows.
        self.max_points = int(max(3, min(max_points, self.length / MIN_SPACING)))
        approx = cv2.approxPolyDP(contour, epsilon, True).reshape(-1, 2)
        idx = _indices_on(outline, approx) if len(approx) >= 3 else []
        if len(idx) < 3:
            idx = sorted({int(round(count * f)) % count for f in (0.0, 1 / 3, 2 / 3)})
        self.idx: list[int] = idx
        self.corners: list[bool] = list(_mark_corners(self.outline[idx])) if len(idx) >= 3 else [False] * len(idx)
        self.errors = np.zeros(len(idx))
        self.worst = np.zeros(len(idx), dtype=np.int64)
        self._refined_cache: tuple[tuple, np.ndarray] | None = None
        for i in range(len(idx)):
            self._update(i)

    def __len__(self) -> int:
        return len(self.idx)

    def curve(self) -> Curve:
        return Curve(self.outline[self.idx].copy(), np.array(self.corners, bool))

    def _arc(self, i: int) -> np.ndarray:
        """Outline indices from point i to point i + 1, both included."""
        k0, k1 = self.idx[i], self.idx[(i + 1) % len(self.idx)]
        if k1 <= k0:
            k1 += len(self.outline)
        return np.arange(k0, k1 + 1) % len(self.outline)

    def segment_error(self, i: int, flags: tuple[bool, bool] | None = None) -> tuple[float, int]:
        """(error in pixels, outline index farthest from the spline or -1) of segment i, optionally with the corner
        flags of its two ends set to `flags`."""
        n = len(self.idx)
        ends = [self.idx[(i + j) % n] for j in (-1, 0, 1, 2)]
        pts = self.outline[ends]
        if flags is None:
            flags = (self.corners[i], self.corners[(i + 1) % n])
        arc = self._arc(i)
        arc_pts = self.outline[arc]
        arc_len = float(self.cumulative[arc[-1]] - self.cumulative[arc[0]]) if arc[-1] > arc[0] else \
            float(self.cumulative[arc[-1]] + self.length - self.cumulative[arc[0]])
        m = int(np.clip(math.ceil(max(arc_len, float(np.linalg.norm(pts[2] - pts[1]))) / SAMPLE_SPACING), 4, 20000))
        spline = _catmull_rom(pts[0:1], pts[1:2], pts[2:3], pts[3:4], np.array(flags[:1]), np.array(flags[1:]),
                              np.linspace(0.0, 1.0, m + 1))[0]
        # Distances are capped at FAR: beyond it a segment is plainly wrong, and a k-d tree finds far neighbours slowly.
        to_spline = np.minimum(cKDTree(spline).query(arc_pts, distance_upper_bound=FAR)[0], FAR)
        to_outline = np.minimum(self.tree.query(spline, distance_upper_bound=FAR)[0], FAR)
        # (strays onto another stretch of the outline are rare, and not counted)
        out_arc = np.maximum(to_spline - DEAD_ZONE, 0.0)
        out_spline = np.maximum(to_outline - DEAD_ZONE, 0.0)
        spline_len = float(np.hypot(*np.diff(spline, axis=0).T).sum())
        error = max(float(out_arc.sum()) * arc_len / max(1, len(arc) - 1), float(out_spline.sum()) * spline_len / m)
        if len(arc) <= 2 or error == 0.0:
            return error, -1
        inner = to_spline[1:-1]
        if inner.max() >= FAR:  # far off: split where the outline is farthest from the chord, as Douglas-Peucker does
            worst = 1 + int(_distance_to_segment(arc_pts[1:-1], pts[1], pts[2]).argmax())
        elif out_spline.max() > out_arc.max():  # an overshoot: split at the outline point nearest to it
            worst = 1 + int(cKDTree(arc_pts[1:-1]).query(spline[int(out_spline.argmax())])[1])
        else:
            worst = 1 + int(inner.argmax())
        if len(arc) > 8 and min(worst, len(arc) - 1 - worst) < 2:
            worst = len(arc) // 2  # a split next to an end would leave the error where it is
        return error, int(arc[worst])

    def _update(self, i: int) -> None:
        self.errors[i], self.worst[i] = self.segment_error(i)

    def _choose_corner(self, j: int) -> None:
        """Make point j a corner, or smooth, whichever leaves its two segments closer to the outline."""
        n = len(self.idx)
        before, after = (j - 1) % n, j
        results = {}
        for flag in (False, True):
            results[flag] = (self.segment_error(before, (self.corners[before], flag)),
                             self.segment_error(after, (flag, self.corners[(j + 1) % n])))
        # Smooth unless a corner is clearly better: a smooth point is what a person expects to drag.
        corner = results[True][0][0] + results[True][1][0] < CORNER_GAIN * (results[False][0][0] + results[False][1][0])
        self.corners[j] = corner
        (self.errors[before], self.worst[before]), (self.errors[after], self.worst[after]) = results[corner]

    def split(self, i: int) -> None:
        """A new point in segment i, at its outline point farthest from the spline."""
        j = i + 1
        self.idx.insert(j, int(self.worst[i]))
        self.corners.insert(j, False)
        self.errors = np.insert(self.errors, j, 0.0)
        self.worst = np.insert(self.worst, j, -1)
        n = len(self.idx)
        self._choose_corner(j)
        for k in ((j - 2) % n, (j + 1) % n):  # their outer neighbour moved
            if k not in ((j - 1) % n, j):
                self._update(k)

    @property
    def total(self) -> float:
        return float(self.errors.sum())

    def refined(self, worth: float) -> np.ndarray:
        """The control points, moved by least squares (`_refined`) when the error is at least `worth` pixels; the
        last result is reused while the points stay the same."""
        if self.total < worth:
            return self.outline[self.idx].copy()
        key = (tuple(self.idx), tuple(self.corners))
        if self._refined_cache is None or self._refined_cache[0] != key:
            self._refined_cache = (key, _refined(self))
        return self._refined_cache[1].copy()


def _fit_outlines(fits: list[_OutlineFit], budget: float) -> None:
    """Split the worst segment of any of the outlines until their errors add up to at most `budget`."""
    totals = [f.total for f in fits]
    while sum(totals) > budget:
        best: tuple[float, int, int] | None = None
        for f, fit in enumerate(fits):
            if len(fit) >= fit.max_points or totals[f] == 0.0:
                continue
            errors = np.where(fit.worst < 0, -1.0, fit.errors)
            i = int(errors.argmax())
            if errors[i] > 0 and (best is None or errors[i] > best[0]):
                best = (float(errors[i]), f, i)
        if best is None:
            return
        fits[best[1]].split(best[2])
        totals[best[1]] = fits[best[1]].total


def _refined(fit: _OutlineFit) -> np.ndarray:
    """float64 [N, 2]: the fit's control points moved, off the outline if need be, so that the spline passes as near
    as it can to the outline (least squares, robust to the outline's pixel steps; a few rounds of matching each
    outline point to its nearest spot on its own segment). A point may then average a ripple out instead of
    sitting on one of its crests."""
    points = fit.outline[fit.idx].copy()
    n = len(points)
    corners = np.array(fit.corners, bool)
    if fit.total == 0.0:
        return points
    segments, targets, fractions = [], [], []
    for i in range(n):
        arc = fit._arc(i)
        stride = max(1, (len(arc) - 1) // REFINE_SAMPLES)
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(fit.outline[arc], axis=0).T))])
        chosen = np.arange(0, len(arc) - 1, stride)
        segments.append(np.full(len(chosen), i))
        targets.append(fit.outline[arc[chosen]])
        fractions.append(along[chosen] / max(float(along[-1]), 1e-9))
    segment = np.concatenate(segments)
    target = np.concatenate(targets)
    fraction = np.concatenate(fractions)
    # Residual r (x and y) depends on the four points around its segment: tell least_squares, so that its Jacobian
    # costs a few calls rather than one per coordinate.
    around = np.stack([(segment + d) % n for d in (-1, 0, 1, 2)], axis=1)  # [R, 4]
    columns = np.stack([2 * around, 2 * around + 1], axis=2).reshape(len(segment), 8)
    pattern = sparse.csr_matrix((np.ones(16 * len(segment)), (np.repeat(np.arange(2 * len(segment)), 8),
                                                               np.repeat(columns, 2, axis=0).reshape(-1))),
                                shape=(2 * len(segment), 2 * n))
    grid = np.linspace(0.0, 1.0, 33)
    before, after = (segment - 1) % n, (segment + 1) % n
    beyond = (segment + 2) % n

    def at(flat: np.ndarray, s: np.ndarray) -> np.ndarray:
        p = flat.reshape(-1, 2)
        return _catmull_rom(p[before], p[segment], p[after], p[beyond], corners[segment], corners[after], s)

    flat = points.reshape(-1)
    for _ in range(REFINE_ROUNDS):
        result = least_squares(lambda x: (at(x, fraction[:, None])[:, 0] - target).reshape(-1), flat,
                               jac_sparsity=pattern, method="trf", loss="soft_l1", f_scale=1.5, max_nfev=12)
        flat = result.x
        spots = at(flat, np.broadcast_to(grid, (len(segment), len(grid))))
        fraction = grid[np.hypot(spots[..., 0] - target[:, :1], spots[..., 1] - target[:, 1:]).argmin(axis=1)]
    return flat.reshape(-1, 2)


def _initial_epsilon(contour: np.ndarray) -> float:
    """A coarse polygon to start from: the points then go where the spline strays most."""
    return max(1.5, 0.02 * cv2.arcLength(contour, True))


def fit_region(contour: np.ndarray, holes: list[np.ndarray], pixels: np.ndarray, origin: tuple[int, int],
               target: float = 0.98, max_points: int = MAX_POINTS) -> Region:
    """A Region for one component: its traced outer outline, its holes' outlines, its pixels (uint8 0/1 crop at
    origin (x, y)). The curves' raster matches the pixels with Jaccard >= target where the pixel grid allows it
    (and max_points per curve suffice); holes under MIN_HOLE_PIXELS stay out of the curves."""
    area = int(np.count_nonzero(pixels))
    kept = [h for h in holes if cv2.contourArea(h) >= MIN_HOLE_PIXELS]
    fits = [_OutlineFit(c, _initial_epsilon(c), max_points) for c in [contour, *kept]]
    allowed = (1.0 - target) * area  # misplaced pixels: at most this keeps Jaccard >= target, here and mask-wide
    budget = allowed * REFINE_GAIN
    bbox = (origin[0], origin[1], origin[0] + pixels.shape[1], origin[1] + pixels.shape[0])
    best: tuple[int, Region] | None = None
    for _ in range(VERIFY_ROUNDS):
        _fit_outlines(fits, budget)
        outer, *inner = (Curve(f.refined(budget * REFINE_FROM), np.array(f.corners, bool)) for f in fits)
        region = Region(outer, tuple(inner), pixels, origin)
        wrong = int(np.count_nonzero(rasterise_region(region, bbox, exact=False) != pixels))
        if best is None or wrong < best[0]:
            best = (wrong, region)
        if wrong <= allowed or all(len(f) >= f.max_points for f in fits):
            break
        # The estimate was optimistic for this shape: ask for proportionally less.
        budget = min(budget * 0.85, sum(f.total for f in fits) * allowed / wrong * 0.95)
    return best[1]


def fit_regions(mask: np.ndarray, target: float = 0.98, max_points: int = MAX_POINTS) -> tuple[Region, ...]:
    """One Region per 8-connected skin component of `mask` (bool or 0/1 [H, W]), holes as inner curves.

    Every region keeps its component's exact pixels, so `rasterise(fit_regions(m), size)` equals m exactly, while
    `rasterise(..., exact=False)` (the curves alone) misplaces at most (1 - target) of each region's pixels, so that
    Jaccard >= target for every region and for the whole mask, unless a region is too small or too ragged for
    curves to follow (at most one point per MIN_SPACING pixels of outline, max_points per curve). Components under
    MIN_REGION_PIXELS stay pixels. See `fit_region`.
    """
    generator = iter_fit_regions(mask, target, max_points)
    while True:
        try:
            next(generator)
        except StopIteration as done:
            return done.value


def iter_fit_regions(mask: np.ndarray, target: float = 0.98,
                     max_points: int = MAX_POINTS) -> Generator[int, None, tuple[Region, ...]]:
    """`fit_regions` as a generator: yields the number of regions fitted so far (so that a worker can be stopped
    between regions) and returns the regions."""
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
        if area < MIN_REGION_PIXELS or len(contour) < 3:
            regions.append(Region(None, (), pixels, (left, top)))
        else:
            regions.append(fit_region(contour, holes_of.get(i, []), pixels, (left, top), target, max_points))
        yield len(regions)
    return tuple(regions)
