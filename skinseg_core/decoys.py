"""Skin-coloured decoys: training items in which part of the background takes on a skin colour and stays background.

Why: in web photos of people the bundled model's false skin is skin-coloured things: a red jacket, an orange scarf,
auburn hair, a warm sunlit wall (docs/adr/0013). Its training photos rarely show such things, and clinical
fine-tuning teaches that red and purple are skin. A decoy is a smooth random region of a photo's background re-coloured
to a skin colour. It keeps its own shading and texture (folds, weave, strands), and its label stays background.
So colour alone cannot decide, and the network has to look at texture and shape.

The colour is that of the photo's own skin, when it shows enough, or a light skin colour, shifted by random melanin
and blood (skin_tone.py), so decoys span brown, pale, red and purple as skin does. Only background pixels change:
the decoy's edge is feathered inside the background, so the skin and the mask stay exactly as they were.
"""

from __future__ import annotations

import cv2
import numpy as np

from skinseg_core.data import RecolouredDataset
from skinseg_core.skin_tone import (BLOOD_ABSORBANCE, BLOOD_RANGE, MELANIN_ABSORBANCE, MELANIN_RANGE, SRGB_GAMMA,
                                    random_amount)

MIN_BACKGROUND_SHARE = 0.05  # items with less background (close-ups) are left alone
MIN_SKIN_PIXELS = 50  # fewer skin pixels than this: the decoy takes DEFAULT_SKIN's colour
DEFAULT_SKIN = np.array([0.86, 0.68, 0.58], np.float32)  # sRGB, a light cheek
REGION_GRID = (3, 7)  # the region is a random grid of this many cells a side (drawn), smoothly enlarged
REGION_SHARE = (0.25, 0.75)  # share of the background the region covers (drawn)
FEATHER_SIGMA = 2.0  # px at the network size


def decoy_region(background: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float32 [H,W] weights in [0,1]: a smooth random blob covering a drawn share of `background` (bool [H,W]), 0
    on every pixel outside it."""
    height, width = background.shape
    cells = int(rng.integers(REGION_GRID[0], REGION_GRID[1] + 1))
    field = cv2.resize(rng.normal(size=(cells, cells)).astype(np.float32), (width, height),
                       interpolation=cv2.INTER_CUBIC)
    share = rng.uniform(*REGION_SHARE)
    cut = np.quantile(field[background], 1.0 - share)
    region = ((field >= cut) & background).astype(np.float32)
    soft = cv2.GaussianBlur(region, (0, 0), FEATHER_SIGMA)
    return soft * background  # feathered inside the background only: skin pixels keep weight 0


def skin_colour(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Linear RGB [3] of the photo's skin (its mean), or of DEFAULT_SKIN when too little skin shows."""
    linear = np.clip(image, 0.0, 1.0) ** SRGB_GAMMA
    skin = mask > 0.5
    if skin.sum() >= MIN_SKIN_PIXELS:
        return linear[:, skin].mean(axis=1).astype(np.float32)
    return (DEFAULT_SKIN ** SRGB_GAMMA).astype(np.float32)


def paint_decoy(image: np.ndarray, region: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """float32 [3,H,W] RGB in [0,1]: the pixels under `region` take `colour` (linear RGB [3]) and keep their own
    shading (luminance relative to the region's mean)."""
    linear = np.clip(image, 0.0, 1.0) ** SRGB_GAMMA
    luminance = linear.mean(axis=0)
    inside = region > 0.5
    mean = float(luminance[inside].mean()) if inside.any() else float(luminance.mean())
    shading = luminance / max(mean, 1e-3)
    painted = np.clip(colour[:, None, None] * shading[None], 0.0, 1.0) ** (1.0 / SRGB_GAMMA)
    weight = region[None]
    return (image * (1.0 - weight) + painted * weight).astype(np.float32)


def random_decoy(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """The image with a skin-coloured decoy painted into its background, or None when it has too little background."""
    background = mask < 0.5
    if background.mean() < MIN_BACKGROUND_SHARE:
        return None
    melanin = random_amount(MELANIN_RANGE, mask.shape, False, rng)
    blood = random_amount(BLOOD_RANGE, mask.shape, False, rng)
    colour = skin_colour(image, mask) * np.exp(-(MELANIN_ABSORBANCE * melanin + BLOOD_ABSORBANCE * blood))
    return paint_decoy(image, decoy_region(background, rng), colour.astype(np.float32))


class DecoyDataset(RecolouredDataset):
    """Wraps a training dataset whose items are `(image, mask, ...)` tensors: in a share of them part of the
    background is painted a skin colour (`random_decoy`); masks and any further tensors pass through unchanged."""

    RESEED_OFFSET = WORKER_OFFSET = 32_452_843
    SHARE_NAME = "decoy"

    def _recolour(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
        return random_decoy(image, mask, self.rng)
