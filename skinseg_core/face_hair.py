"""Hair of the skin's hue beside a found face: not skin, though the face colour gate keeps it.

Why: blond, light brown, auburn and red hair has nearly the a*b* of the face below it, so the gate (face_colour.py)
keeps it, and the network calls it skin with confidence (docs/adr/0024). What the network calls skin just above a
face box is, in most photos, that hair. So its colour (a Gaussian in L*a*b*, lightness included) is compared with the
face's, and around the face the pixels nearer the hair's colour than the face's by `margin` (Mahalanobis) are not
skin, but only where all of these hold, each measured to keep skin that a looser rule took (ADR 0024):
- the hair samples differ from the face (median distance at least HAIR_APART): above a bald head or a low box they
  are scalp or forehead, and there is no hair model;
- the pixel is darker than the face's mean: a bald scalp's highlights stay;
- the pixel is no redder than the face's mean: inflamed skin and most lesions are redder, hair is not;
- it lies outside the face's ellipse grown FACE_GROW: the shaded side of a face stays;
- its part reaches the band above the face where the hair was sampled: a shaded jaw or neck stays.
"""

from __future__ import annotations

import cv2
import numpy as np

from skinseg_core.colour_model import gaussian_distance
from skinseg_core.faces import Box

__all__ = ["NOT_SKIN", "hair_out"]

NOT_SKIN = 0.25  # what hair's pixels are lowered to: below the 0.5 line, still a probability the slider can show
REGULARISATION = 4.0  # added to each Gaussian's covariance diagonal (L*a*b* units squared)
MIN_FACE_SAMPLES = 40
MIN_HAIR_SAMPLES = 12
HAIR_BAND_ROWS = (0.35, 0.02)  # the band where hair is sampled: this far above the box's top, as shares of its height
HAIR_BAND_COLUMNS = (0.15, 0.85)  # ... across these shares of its width
HAIR_APART = 2.0
HEAD_GROW = 1.8  # the head: the box's ellipse grown this much about a centre raised HEAD_RAISE of the box's height
HEAD_RAISE = 0.1
FACE_GROW = 1.1


def _ellipse(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float]) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])), (max(1, round(axes[0])), max(1, round(axes[1]))),
                0, 0, 360, 1, -1)
    return mask > 0


def hair_out(lab: np.ndarray, prob: np.ndarray, gated: np.ndarray, faces: list[Box], inner: float,
             margin: float) -> np.ndarray:
    """`gated` [h, w] lowered to NOT_SKIN on the hair around each face (boxes in the map's pixels); `gated` itself
    when nothing is. `lab` is the photo at the map's size in L*a*b* (float32), `prob` the network's map before the
    gate; the face's colour is that of its skin in the box's central `inner` share, as the gate samples it."""
    height, width = prob.shape
    skin = prob >= 0.5
    out = gated
    low, high = (1.0 - inner) / 2, (1.0 + inner) / 2
    for x, y, w, h in faces:
        # Work on the head's surroundings only: a group photo has many faces.
        centre = (x + w / 2, y + h / 2 - HEAD_RAISE * h)
        half = (w / 2 * HEAD_GROW, h / 2 * HEAD_GROW)
        left, top = max(0, int(centre[0] - half[0])), max(0, int(min(centre[1] - half[1], y - HAIR_BAND_ROWS[0] * h)))
        right, bottom = min(width, int(centre[0] + half[0]) + 1), min(height, int(centre[1] + half[1]) + 1)
        if right - left < 4 or bottom - top < 4:
            continue
        window = (slice(top, bottom), slice(left, right))
        ox, oy = x - left, y - top  # the box in the window's pixels
        shape = (bottom - top, right - left)
        face = np.zeros(shape, bool)
        face[max(0, int(oy + h * low)):max(0, int(oy + h * high)),
             max(0, int(ox + w * low)):max(0, int(ox + w * high))] = True
        face &= skin[window]
        band = np.zeros(shape, bool)
        band[max(0, int(oy - HAIR_BAND_ROWS[0] * h)):max(0, int(oy - HAIR_BAND_ROWS[1] * h)),
             max(0, int(ox + HAIR_BAND_COLUMNS[0] * w)):max(0, int(ox + HAIR_BAND_COLUMNS[1] * w))] = True
        hair = band & skin[window]
        if face.sum() < MIN_FACE_SAMPLES or hair.sum() < MIN_HAIR_SAMPLES:
            continue
        crop = lab[window]
        from_face = gaussian_distance(crop, face, REGULARISATION)
        if np.median(from_face[hair]) < HAIR_APART:
            continue
        from_hair = gaussian_distance(crop, hair, REGULARISATION)
        head = _ellipse(shape, (centre[0] - left, centre[1] - top), half)
        near_face = _ellipse(shape, (ox + w / 2, oy + h / 2), (w / 2 * FACE_GROW, h / 2 * FACE_GROW))
        candidates = (head & ~near_face & skin[window] & (from_face - from_hair > margin)
                      & (crop[..., 0] < crop[..., 0][face].mean()) & (crop[..., 1] <= crop[..., 1][face].mean()))
        count, labels = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
        if count <= 1:
            continue
        reaching = np.zeros(count, bool)
        reaching[np.unique(labels[candidates & band])] = True
        reaching[0] = False
        lowered = reaching[labels]
        if lowered.any():
            if out is gated:
                out = gated.copy()
            region = out[window]
            region[lowered] = np.minimum(region[lowered], NOT_SKIN)
    return out
