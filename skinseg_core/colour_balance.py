"""A photo's colour balance, brought back toward that of the training photos of people when a coloured light moved it
far outside them.

Why: under a warm lamp with the camera left at daylight, walls, wood and clothing turn the skin's hue and the network
calls the scene skin (ECU's test photos: skin Jaccard 0.700 -> 0.473; docs/adr/0027). The light's colour is estimated
from the photo with shades of grey (Finlayson and Trezzi 2004: the Minkowski p-mean of each channel, p = 6) as
log(R/G) and log(B/G). The training photos of people (LFW, SFA, ECU, FASSEG) give a Gaussian of those. A photo whose
estimate lies beyond `radius` (Mahalanobis) is re-balanced, by a gain per channel, so that its distance d becomes
radius^2 / d: a photo just outside keeps nearly its own balance, a photo far outside is brought near the centre.

A room lit by a lamp on one side and a window on the other is lit by two lights, and no single gain undoes that. So,
first, the change of the light's colour from the photo's left edge to its right is estimated (`balance_slope`: a plane
fitted to the estimates of a grid of cells) and, where it lies beyond `radius` of the training photos of people's
slopes, pulled in by the same rule with a gain that changes across the photo (docs/adr/0031). Only the left-right slope
is undone: from top to bottom a photo's colours change with what it shows (a white wall above, a red shirt below), and
correcting that slope wrecked such photos.

It runs only on photos where the face search finds a face (the face colour gate's first search, or a large face
seen from the side where the model has a network for photos of people, docs/adr/0035). A close-up of skin in white
light has the same mean colour as a scene under a warm lamp, and 9 of the 15 clinical photos lie outside the people
photos' range: "correcting" them wrecks them (clinical 0.971 / 0.520 -> 0.909 / 0.309, docs/adr/0027).
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

__all__ = ["ESTIMATE_SIDE", "MINKOWSKI_P", "SLOPE_CELLS", "balance_estimate", "balance_gains", "balance_slope",
           "fit_balance", "level_slope", "rebalance", "rebalance_across"]

MINKOWSKI_P = 6.0
ESTIMATE_SIDE = 128  # the estimate is made on the photo shrunk to this long side: it is a mean, detail adds nothing
# Pixels clipped at either end carry no colour of the light.
_DARKEST, _BRIGHTEST = 5, 250
_MIN_PIXELS = 100
# The slope across the photo: estimates in SLOPE_CELLS x SLOPE_CELLS cells of the shrunk photo, each from at least
# _MIN_CELL_PIXELS unclipped pixels, and at least _MIN_CELLS such cells.
SLOPE_CELLS = 4
_MIN_CELL_PIXELS = 20
_MIN_CELLS = 6


def _shrunk(rgb: np.ndarray) -> np.ndarray:
    height, width = rgb.shape[:2]
    scale = min(1.0, ESTIMATE_SIDE / max(height, width))
    if scale == 1.0:
        return rgb
    return cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)


def balance_estimate(rgb: np.ndarray) -> np.ndarray | None:
    """(log(R/G), log(B/G)) of uint8 RGB [H, W, 3]'s light, by shades of grey; None when the photo has too few
    unclipped pixels to tell."""
    small = _shrunk(rgb)
    usable = (small.max(axis=2) < _BRIGHTEST) & (small.min(axis=2) > _DARKEST)
    if usable.sum() < _MIN_PIXELS:
        return None
    pixels = small[usable].astype(np.float64)
    light = np.power(np.power(pixels, MINKOWSKI_P).mean(axis=0), 1.0 / MINKOWSKI_P)
    return np.log(np.array([light[0] / light[1], light[2] / light[1]]))


def balance_slope(rgb: np.ndarray) -> np.ndarray | None:
    """How the light's (log(R/G), log(B/G)) changes from the left edge of uint8 RGB [H, W, 3] to its right edge: the
    left-right slope of a plane fitted to the shades-of-grey estimates of its cells (weighted by their unclipped
    pixels), per photo width. The top-bottom slope is fitted with it, so that it does not leak into the left-right
    one, and left out. None when too few cells can be told."""
    small = _shrunk(rgb)
    height, width = small.shape[:2]
    usable = (small.max(axis=2) < _BRIGHTEST) & (small.min(axis=2) > _DARKEST)
    powered = np.where(usable[..., None], np.power(small.astype(np.float64), MINKOWSKI_P), 0.0)
    # Sums over each cell: rows, then columns, cut where the cells start.
    rows = np.arange(SLOPE_CELLS) * height // SLOPE_CELLS
    columns = np.arange(SLOPE_CELLS) * width // SLOPE_CELLS
    sums = np.add.reduceat(np.add.reduceat(powered, rows, axis=0), columns, axis=1)  # [cells, cells, 3]
    counts = np.add.reduceat(np.add.reduceat(usable.astype(np.int64), rows, axis=0), columns, axis=1)
    told = counts >= _MIN_CELL_PIXELS
    if told.sum() < _MIN_CELLS:
        return None
    light = np.power(sums[told] / counts[told][:, None], 1.0 / MINKOWSKI_P)
    estimates = np.log(np.column_stack([light[:, 0] / light[:, 1], light[:, 2] / light[:, 1]]))
    centres = (np.arange(SLOPE_CELLS) + 0.5) / SLOPE_CELLS - 0.5
    across, down = np.meshgrid(centres, centres)  # each cell's place, from the photo's middle
    design = np.column_stack([np.ones(int(told.sum())), across[told], down[told]])
    root = np.sqrt(counts[told].astype(np.float64))[:, None]
    plane, *_ = np.linalg.lstsq(design * root, estimates * root, rcond=None)
    return plane[1]  # row 0: the offset, row 2: the top-bottom slope


def fit_balance(estimates_per_set: Iterable[np.ndarray]) -> tuple[list[float], list[list[float]]]:
    """The centre and inverse covariance of the estimates, each set weighing the same whatever its size."""
    sets = [np.asarray(e, np.float64).reshape(-1, 2) for e in estimates_per_set]
    points = np.concatenate(sets)
    weights = np.concatenate([np.full(len(e), 1.0 / len(e)) for e in sets])
    centre = (points * weights[:, None]).sum(axis=0) / weights.sum()
    spread = points - centre
    covariance = (spread * weights[:, None]).T @ spread / weights.sum()
    return centre.tolist(), np.linalg.inv(covariance).tolist()


def _pull_in(value: np.ndarray, centre: np.ndarray, inverse_covariance: np.ndarray, radius: float) -> np.ndarray | None:
    """The change that moves `value` from Mahalanobis distance d > radius of `centre` to radius^2 / d along the line
    to it: a value just outside keeps nearly its own, one far outside is brought near the centre. None within."""
    offset = value - centre
    distance = float(np.sqrt(offset @ inverse_covariance @ offset))
    if distance <= radius:
        return None
    return -offset * (1.0 - (radius / distance) ** 2)


def _log_gains(shift: np.ndarray) -> np.ndarray:
    """Per-channel log gains (R, G, B) that move (log(R/G), log(B/G)) by `shift` [..., 2], their mean 0 so that
    brightness stays."""
    log_gains = np.stack([shift[..., 0], np.zeros_like(shift[..., 0]), shift[..., 1]], axis=-1)
    return log_gains - log_gains.mean(axis=-1, keepdims=True)


def balance_gains(estimate: np.ndarray, centre: np.ndarray, inverse_covariance: np.ndarray, radius: float
                  ) -> np.ndarray | None:
    """Per-channel gains (R, G, B; their geometric mean 1, so that brightness stays) that move `estimate` from distance
    d > radius to radius^2 / d along the line to `centre`; None within `radius`."""
    shift = _pull_in(estimate, centre, inverse_covariance, radius)
    return None if shift is None else np.exp(_log_gains(shift))


def level_slope(rgb: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """uint8 RGB [H, W, 3] re-lit so that its light's (log(R/G), log(B/G)) changes by `slope` less from its left edge
    to its right (the middle column keeps its colour)."""
    across = np.linspace(-0.5, 0.5, rgb.shape[1], dtype=np.float64)[:, None]
    gains = np.exp(_log_gains(-across * np.asarray(slope, np.float64))).astype(np.float32)  # [W, 3]
    # OpenCV rounds and saturates to uint8 in one pass, four times faster than numpy's three.
    return cv2.multiply(np.ascontiguousarray(rgb), np.ascontiguousarray(np.broadcast_to(gains[None], rgb.shape)),
                        dtype=cv2.CV_8U)


def rebalance_across(rgb: np.ndarray, centre: np.ndarray, inverse_covariance: np.ndarray, radius: float
                     ) -> np.ndarray:
    """`rgb` with the left-right slope of its light's colour (`balance_slope`) pulled in as `_pull_in` says, or `rgb`
    itself when the slope is within range or cannot be told."""
    slope = balance_slope(rgb)
    shift = None if slope is None else _pull_in(slope, centre, inverse_covariance, radius)
    return rgb if shift is None else level_slope(rgb, -shift)


def rebalance(rgb: np.ndarray, centre: np.ndarray, inverse_covariance: np.ndarray, radius: float) -> np.ndarray:
    """`rgb` re-balanced as the module says, or `rgb` itself when its balance is within range or cannot be told."""
    estimate = balance_estimate(rgb)
    gains = None if estimate is None else balance_gains(estimate, centre, inverse_covariance, radius)
    if gains is None:
        return rgb
    return np.clip(rgb.astype(np.float32) * gains.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
