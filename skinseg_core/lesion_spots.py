"""Lesion spots for training: a share of items get one to three red, purple or brown spots on their skin, still skin.

Why: the network for photos of people (stage 4, docs/adr/0028) learns from photos of healthy faces and bodies, and it
calls less of a lesion on a face skin than the first network does: clinical lesions pasted on and around LFW faces
(`benchmarks/lesions_on_faces.py`) were called skin 0.859 of the time at blend 0.5 and 0.833 at 0.7 (docs/adr/0030).
Diseased skin is skin. A spot is a smooth random blob of skin re-coloured by the skin model of skin_tone.py with much
more blood (red, purple) and melanin (brown) than the skin around it, half of them at the skin's edge (hairline, jaw,
ears), where the face colour gate and the network lose lesions most. The mask is unchanged. The spots are made, not
cut from the clinical photos, so the benchmark's real lesions stay unseen. In stage 4 at 0.5 they kept 0.010-0.014 more
of the benchmark's lesions skin at the same validation score; the bundled recipe does not use them yet (docs/adr/0030).
"""

from __future__ import annotations

import cv2
import numpy as np

from skinseg_core.data import RecolouredDataset
from skinseg_core.skin_tone import retone_skin

__all__ = ["LesionSpotDataset", "random_spots", "spot_region"]

MIN_SKIN_PIXELS = 200  # items with less skin are left alone
SPOTS = (1, 3)
RADIUS = (0.03, 0.10)  # of the image's side
EDGE_SHARE = 0.5  # share of spots centred near the skin's edge
EDGE_BAND = 0.05  # "near the edge": within this share of the image's side of a pixel that is not skin
MELANIN = (0.0, 2.5)
BLOOD = (0.6, 1.6)


def spot_region(skin: np.ndarray, centre: tuple[int, int], radius: float, rng: np.random.Generator) -> np.ndarray:
    """bool [H,W]: a blob of about `radius` px around `centre` (y, x) with a ragged smooth outline, inside `skin`."""
    height, width = skin.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot((ys - centre[0]) / rng.uniform(0.6, 1.0), (xs - centre[1]) / rng.uniform(0.6, 1.0)) / radius
    noise = cv2.resize(rng.normal(size=(5, 5)).astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return (1.0 - distance ** 2 + 0.35 * noise > 0) & skin


def random_spots(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """float32 [3,H,W] RGB in [0,1] with spots painted on the skin of `mask` ([H,W]); None where too little skin."""
    skin = mask > 0.5
    if skin.sum() < MIN_SKIN_PIXELS:
        return None
    side = float(min(skin.shape))
    inside = cv2.distanceTransform(skin.astype(np.uint8), cv2.DIST_L2, 3)
    edge = skin & (inside <= EDGE_BAND * side)
    out = image
    for _ in range(int(rng.integers(SPOTS[0], SPOTS[1] + 1))):
        pool = edge if edge.any() and rng.random() < EDGE_SHARE else skin
        candidates = np.flatnonzero(pool)
        y, x = np.unravel_index(int(candidates[rng.integers(len(candidates))]), skin.shape)
        region = spot_region(skin, (int(y), int(x)), rng.uniform(*RADIUS) * side, rng)
        if region.any():
            # retone_skin feathers the spot's edge over a few pixels, as a lesion's edge blurs in a photo; at the
            # skin's edge that feather reaches a pixel or two into the background.
            out = retone_skin(out, region, rng.uniform(*MELANIN), rng.uniform(*BLOOD))
    return out


class LesionSpotDataset(RecolouredDataset):
    """Wraps a training dataset whose items are `(image, mask, ...)` tensors: a share of them get `random_spots`;
    masks and any further tensors pass through unchanged."""

    RESEED_OFFSET = WORKER_OFFSET = 67_867_967
    SHARE_NAME = "lesion spots"

    def _recolour(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
        return random_spots(image, mask, self.rng)
