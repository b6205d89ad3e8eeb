"""A photo's colour balance, brought back toward that of the training photos of people when a coloured light moved it
far outside them.

Why: under a warm lamp with the camera left at daylight, walls, wood and clothing turn the skin's hue and the network
calls the scene skin (ECU's test photos: skin Jaccard 0.700 -> 0.473; docs/adr/0027). The light's colour is estimated
from the photo with shades of grey (Finlayson and Trezzi 2004: the Minkowski p-mean of each channel, p = 6) as
log(R/G) and log(B/G). The training photos of people (LFW, SFA, ECU, FASSEG) give a Gaussian of those. A photo whose
estimate lies beyond `radius` (Mahalanobis) is re-balanced, by a gain per channel, so that its distance d becomes
radius^2 / d: a photo just outside keeps nearly its own balance, a photo far outside is brought near the centre.

It runs only on photos where the face search finds a face (the face colour gate's first search). A close-up of skin
in white light has the same mean colour as a scene under a warm lamp, and 9 of the 15 clinical photos lie outside the
people photos' range: "correcting" them wrecks them (clinical 0.971 / 0.520 -> 0.909 / 0.309, docs/adr/0027).
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

__all__ = ["ESTIMATE_SIDE", "MINKOWSKI_P", "balance_estimate", "balance_gains", "fit_balance", "rebalance"]

MINKOWSKI_P = 6.0
ESTIMATE_SIDE = 128  # the estimate is made on the photo shrunk to this long side: it is a mean, detail adds nothing
# Pixels clipped at either end carry no colour of the light.
_DARKEST, _BRIGHTEST = 5, 250
_MIN_PIXELS = 100


def balance_estimate(rgb: np.ndarray) -> np.ndarray | None:
    """(log(R/G), log(B/G)) of uint8 RGB [H, W, 3]'s light, by shades of grey; None when the photo has too few
    unclipped pixels to tell."""
    height, width = rgb.shape[:2]
    scale = min(1.0, ESTIMATE_SIDE / max(height, width))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                                                 interpolation=cv2.INTER_AREA)
    usable = (small.max(axis=2) < _BRIGHTEST) & (small.min(axis=2) > _DARKEST)
    if usable.sum() < _MIN_PIXELS:
        return None
    pixels = small[usable].astype(np.float64)
    light = np.power(np.power(pixels, MINKOWSKI_P).mean(axis=0), 1.0 / MINKOWSKI_P)
    return np.log(np.array([light[0] / light[1], light[2] / light[1]]))


def fit_balance(estimates_per_set: Iterable[np.ndarray]) -> tuple[list[float], list[list[float]]]:
    """The centre and inverse covariance of the estimates, each set weighing the same whatever its size."""
    sets = [np.asarray(e, np.float64).reshape(-1, 2) for e in estimates_per_set]
    points = np.concatenate(sets)
    weights = np.concatenate([np.full(len(e), 1.0 / len(e)) for e in sets])
    centre = (points * weights[:, None]).sum(axis=0) / weights.sum()
    spread = points - centre
    covariance = (spread * weights[:, None]).T @ spread / weights.sum()
    return centre.tolist(), np.linalg.inv(covariance).tolist()


def balance_gains(estimate: np.ndarray, centre: np.ndarray, inverse_covariance: np.ndarray, radius: float
                  ) -> np.ndarray | None:
    """Per-channel gains (R, G, B; their geometric mean 1, so that brightness stays) that move `estimate` from distance
    d > radius to radius^2 / d along the line to `centre`; None within `radius`."""
    offset = estimate - centre
    distance = float(np.sqrt(offset @ inverse_covariance @ offset))
    if distance <= radius:
        return None
    shift = -offset * (1.0 - (radius / distance) ** 2)
    log_gains = np.array([shift[0], 0.0, shift[1]])
    return np.exp(log_gains - log_gains.mean())


def rebalance(rgb: np.ndarray, centre: np.ndarray, inverse_covariance: np.ndarray, radius: float) -> np.ndarray:
    """`rgb` re-balanced as the module says, or `rgb` itself when its balance is within range or cannot be told."""
    estimate = balance_estimate(rgb)
    gains = None if estimate is None else balance_gains(estimate, centre, inverse_covariance, radius)
    if gains is None:
        return rgb
    return np.clip(rgb.astype(np.float32) * gains.astype(np.float32) + 0.5, 0, 255).astype(np.uint8)
