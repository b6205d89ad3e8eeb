"""Skin tone: training items whose skin is re-coloured, darker or paler, redder or yellower, so that skin of a
colour the training photos rarely show is still skin.

Why: the public sets are mostly light and medium, evenly coloured skin, and a network that reads absolute colour
learns "skin is that colour". In the clinical k-fold such a network called a purple tumour on dark skin, and the
pale yellow-green skin between red plaques, background (docs/adr/0010, 0011). Skin colour comes from two pigments
(the Beer-Lambert skin model): melanin, which absorbs blue light more than red, and the haemoglobin in the blood,
which absorbs green and blue and barely red. Scaling the skin's linear reflectance by
exp(-(melanin * melanin absorbance + blood * haemoglobin absorbance)) turns light skin brown (melanin > 0) or pale
(melanin < 0), red or purple as in inflamed skin and tumours (blood > 0) or yellow-green (blood < 0), while shading,
texture and lesions stay. Only the skin moves (the mask, feathered), so the network cannot learn the change from
the whole photo's colour cast; in half the items both amounts also vary smoothly across the skin, as in vitiligo,
patches of erythema, or tanned and untanned parts.
"""

from __future__ import annotations

import cv2
import numpy as np

from skinseg_core.data import RecolouredDataset

MELANIN_RANGE = (-0.6, 2.8)  # -0.6: depigmented, pale pink; 2.8: light skin becomes type V-VI brown
BLOOD_RANGE = (-0.5, 1.2)  # -0.5: pale, yellow-green; 1.2: deep red (purple with melanin), as a plaque or a tumour
# Absorbance in the R, G, B bands relative to the strongest band: melanin's falls steadily with wavelength,
# haemoglobin's peaks in green (and blue) and is small in red.
MELANIN_ABSORBANCE = np.array([0.55, 0.8, 1.0], np.float32)
BLOOD_ABSORBANCE = np.array([0.15, 1.0, 0.75], np.float32)
PATCHY_SHARE = 0.5  # share of re-toned items whose pigments vary across the skin
PATCH_GRID = 4  # a varying amount is a random 4x4 grid, smoothly enlarged
PATCH_SPREAD = 0.25  # standard deviation of a varying amount across the skin, as a share of its range
FEATHER_SIGMA = 1.5  # px at the network size: the re-toned skin blends into its surroundings over a few pixels
SRGB_GAMMA = 2.2  # close enough to the sRGB curve for a colour augmentation


def _amount(value: float | np.ndarray) -> np.ndarray:
    value = np.asarray(value, np.float32)
    return value[None] if value.ndim == 2 else value


def retone_skin(image: np.ndarray, mask: np.ndarray, melanin: float | np.ndarray,
                blood: float | np.ndarray = 0.0) -> np.ndarray:
    """Re-colour the skin of a photo as if it had `melanin` and `blood` more (or, below 0, less) pigment.

    Args:
        image: float32 [3,H,W] RGB in [0,1].
        mask: [H,W] skin mask (0/1); only its pixels change, with a feathered edge.
        melanin, blood: numbers, or float [H,W] maps of them.

    Returns:
        float32 [3,H,W] in [0,1]; pixels outside the feathered mask are unchanged.
    """
    linear = np.clip(image, 0.0, 1.0) ** SRGB_GAMMA
    absorbance = (MELANIN_ABSORBANCE[:, None, None] * _amount(melanin)
                  + BLOOD_ABSORBANCE[:, None, None] * _amount(blood))
    scale = np.exp(-absorbance)
    toned = np.clip(linear * scale, 0.0, 1.0) ** (1.0 / SRGB_GAMMA)
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), FEATHER_SIGMA)[None]
    return (image * (1.0 - soft) + toned * soft).astype(np.float32)


def random_amount(value_range: tuple[float, float], shape: tuple[int, int], patchy: bool,
                  rng: np.random.Generator) -> float | np.ndarray:
    """A pigment amount for one item: uniform over `value_range`; when `patchy`, an [H,W] map varying around it."""
    low, high = value_range
    base = float(rng.uniform(low, high))
    if not patchy:
        return base
    grid = rng.normal(0.0, PATCH_SPREAD * (high - low), (PATCH_GRID, PATCH_GRID)).astype(np.float32)
    field = cv2.resize(grid, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return np.clip(base + field, low, high)


def random_pigments(shape: tuple[int, int], rng: np.random.Generator
                    ) -> tuple[float | np.ndarray, float | np.ndarray]:
    """Melanin and blood amounts for one item, both varying across the skin in PATCHY_SHARE of items."""
    patchy = bool(rng.random() < PATCHY_SHARE)
    return (random_amount(MELANIN_RANGE, shape, patchy, rng), random_amount(BLOOD_RANGE, shape, patchy, rng))


class SkinToneDataset(RecolouredDataset):
    """Wraps a training dataset whose items are `(image, mask, ...)` tensors: in a share of them the skin is
    re-toned (`retone_skin` with `random_pigments`); masks and any further tensors pass through unchanged."""

    RESEED_OFFSET = WORKER_OFFSET = 15_485_863
    SHARE_NAME = "skin tone"

    def _recolour(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
        if not mask.any():
            return None
        return retone_skin(image, mask, *random_pigments(mask.shape, self.rng))
