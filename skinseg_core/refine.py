"""The network's map refined with the photo's own colours: a colour guided filter (He, Sun & Tang, ECCV 2010).

The network sees the photo squashed to S x S (224 px), so its map is blurred at skin edges and, in a scene, spills
onto hair, clothing and walls beside the skin. The guided filter fits, in every window of the photo, the map as a
linear function of the pixel's RGB colour, and averages the fits: inside a window that holds a cheek and a collar,
the collar's colour is not the cheek's, so it loses the probability the blur lent it.

The window's size follows the skin in the photo: a window wider than a face averages the face away, which is what
a fixed window a fourteenth of the photo wide did to the small faces of group photos (docs/adr/0014). So the radius
is a share of the typical size of the skin regions the network found (their square-root areas, weighted by area),
between a floor and a ceiling: wide for portraits and close-ups, narrow for crowds.

It runs at twice the network's input size on the long side (the photo is decoded at least that large anyway), where
it costs about 11 ms on a 2-core CPU (`skinseg benchmark`: refine_ms); the refined map, in the photo's aspect ratio,
is what gets resized to the full size. opencv's own guidedFilter lives in the contrib wheel, which would replace
opencv-python-headless; the filter is some twenty box filters, written out below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from skinseg_core.imageio import capped_size

__all__ = ["GuidedFilter", "guided_filter", "refine_map", "skin_region_size"]


@dataclass(frozen=True)
class GuidedFilter:
    """The window radius, in pixels of the network's input (so it spans the same share of any photo), is `scale` x
    the typical size of the skin regions in the network's map, within [min_radius, max_radius]. eps regularises the
    fit against the RGB variance (colours in 0..1): larger eps follows the photo's edges less."""

    scale: float = 0.15
    min_radius: float = 2.0
    max_radius: float = 16.0
    eps: float = 0.001

    def __post_init__(self) -> None:
        if not (self.scale > 0 and 0 < self.min_radius <= self.max_radius and self.eps > 0):
            raise ValueError(f"a guided filter needs scale > 0, 0 < min_radius <= max_radius and eps > 0, got {self}")

    def radius(self, small: np.ndarray) -> float:
        """The window radius (network pixels) for the network's map `small`."""
        return float(np.clip(self.scale * skin_region_size(small), self.min_radius, self.max_radius))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GuidedFilter:
        return cls(**{key: float(data[key]) for key in ("scale", "min_radius", "max_radius", "eps")})


def skin_region_size(small: np.ndarray, threshold: float = 0.5, min_area: int = 4) -> float:
    """Typical side, in pixels of `small`, of the skin regions in a probability map: the area-weighted mean of the
    square roots of the areas of its 8-connected regions p >= threshold (regions under min_area pixels are noise).
    0.0 when there are none."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((small >= threshold).astype(np.uint8), connectivity=8)
    areas = stats[1:count, cv2.CC_STAT_AREA].astype(np.float64)
    areas = areas[areas >= min_area]
    return float((areas * np.sqrt(areas)).sum() / areas.sum()) if areas.size else 0.0


def _box(x: np.ndarray, radius: int) -> np.ndarray:
    return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """float32 [H, W]: `src` (float [H, W]) filtered with the colour guide `guide` (float [H, W, 3], 0..1).

    Per window w: src ~ a_w . I + b_w by ridge regression (eps), output = mean over the windows covering a pixel of
    a_w . I + b_w (He et al. 2010, eq. 5-8, with the 3 x 3 covariance solved in closed form per pixel).
    """
    guide = np.ascontiguousarray(guide, dtype=np.float32)
    src = np.ascontiguousarray(src, dtype=np.float32)
    if guide.ndim != 3 or guide.shape[2] != 3 or guide.shape[:2] != src.shape:
        raise ValueError(f"guide must be [H, W, 3] and src [H, W] of the same size, got {guide.shape} and {src.shape}")
    radius = max(1, int(radius))
    channels = [guide[..., c] for c in range(3)]
    mean = [_box(c, radius) for c in channels]
    mean_src = _box(src, radius)
    cov = [_box(c * src, radius) - m * mean_src for c, m in zip(channels, mean)]
    var = {(i, j): _box(channels[i] * channels[j], radius) - mean[i] * mean[j] + (eps if i == j else 0.0)
           for i in range(3) for j in range(i, 3)}
    # Inverse of the symmetric 3 x 3 matrix [[a, b, c], [b, d, e], [c, e, f]] by cofactors.
    a, b, c, d, e, f = var[0, 0], var[0, 1], var[0, 2], var[1, 1], var[1, 2], var[2, 2]
    i00, i01, i02 = d * f - e * e, c * e - b * f, b * e - c * d
    i11, i12, i22 = a * f - c * c, b * c - a * e, a * d - b * b
    det = a * i00 + b * i01 + c * i02
    slope = [(i00 * cov[0] + i01 * cov[1] + i02 * cov[2]) / det,
             (i01 * cov[0] + i11 * cov[1] + i12 * cov[2]) / det,
             (i02 * cov[0] + i12 * cov[1] + i22 * cov[2]) / det]
    offset = mean_src - sum(s * m for s, m in zip(slope, mean))
    out = _box(offset, radius)
    for s, ch in zip(slope, channels):
        out += _box(s, radius) * ch
    return out


def refine_map(rgb: np.ndarray, small: np.ndarray, settings: GuidedFilter, long_side: int) -> np.ndarray:
    """float32 [h, w] in 0..1: the network's S x S map `small` refined with the photo `rgb` (uint8 [H, W, 3]), at the
    photo's aspect ratio with at most `long_side` pixels on its long side (the photo's own size when smaller)."""
    size = capped_size((rgb.shape[1], rgb.shape[0]), long_side)
    guide = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if size != (rgb.shape[1], rgb.shape[0]) else rgb
    prob = cv2.resize(np.asarray(small, dtype=np.float32), size, interpolation=cv2.INTER_LINEAR)
    radius = round(settings.radius(small) * max(size) / small.shape[0])
    refined = guided_filter(guide.astype(np.float32) / 255.0, prob, radius, settings.eps)
    return np.clip(refined, 0.0, 1.0, out=refined)
