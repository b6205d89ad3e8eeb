"""Collages: training photos pasted, shrunk, onto skin-free backgrounds, and background crops as pure negatives.

Why: the face and body sets show one large person on a plain background, but users photograph groups, whole bodies
and people in front of sand, wood and flowers. Pasting one to three augmented training photos at 20-85 % of the frame
onto wallpaper photos teaches small people (the scale trap of the data README) and skin-coloured clutter; a crop of a
background alone, with an empty mask, teaches that clutter is not skin. The pasted photo keeps its own mask, and the
background contributes no skin, so the collage's mask is exact.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from skinseg_core.data import SkinDataset, WrappedDataset
from skinseg_core.imageio import read_photo

log = logging.getLogger(__name__)

COLLAGE_PROBABILITY = 0.35  # share of training items that become a collage
NEGATIVE_PROBABILITY = 0.08  # share that become a background crop with an empty mask


def load_backgrounds(paths: Sequence[Path], long_side: int) -> list[np.ndarray]:
    """uint8 RGB backgrounds scaled to `long_side` (never enlarged)."""
    out = []
    for path in paths:
        out.append(np.ascontiguousarray(read_photo(path, min_long_side=long_side).rgb))
    return out


class CollageDataset(WrappedDataset):
    """Wraps a training SkinDataset: some items become collages or negatives (see module docstring).

    Items are `(image, mask)` float tensors like the wrapped dataset's. Per-pixel loss weights are not supported
    (collages are a pretraining device; fine-tuning on corrected photos does not use them).
    """

    WORKER_OFFSET = 7919

    def __init__(self, base: SkinDataset, backgrounds: Sequence[np.ndarray],
                 collage_probability: float = COLLAGE_PROBABILITY,
                 negative_probability: float = NEGATIVE_PROBABILITY) -> None:
        if not backgrounds:
            raise ValueError("CollageDataset needs at least one background picture")
        if getattr(base, "_weights", None) is not None:
            raise ValueError("collages do not support per-pixel loss weights")
        super().__init__(base)
        self.backgrounds = list(backgrounds)
        self.collage_probability = collage_probability
        self.negative_probability = negative_probability

    def _background(self) -> np.ndarray:
        """A random crop (25-100 % of the short side) of a random background, flipped at random, size x size."""
        bg = self.backgrounds[self.rng.integers(len(self.backgrounds))]
        h, w = bg.shape[:2]
        side = max(16, int(min(h, w) * self.rng.uniform(0.25, 1.0)))
        y, x = self.rng.integers(0, h - side + 1), self.rng.integers(0, w - side + 1)
        crop = cv2.resize(bg[y:y + side, x:x + side], (self.size, self.size), interpolation=cv2.INTER_AREA)
        if self.rng.random() < 0.5:
            crop = crop[:, ::-1]
        gain = self.rng.uniform(0.7, 1.3)
        return np.clip(crop.astype(np.float32) * gain, 0, 255).astype(np.uint8)

    def _paste(self, canvas: np.ndarray, mask: np.ndarray, index: int, scale: float) -> None:
        image_t, mask_t = self.base[index][:2]
        side = max(8, int(round(self.size * scale)))
        photo = (image_t.numpy().transpose(1, 2, 0) * 255.0).astype(np.uint8)
        photo = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
        skin = cv2.resize(mask_t[0].numpy(), (side, side), interpolation=cv2.INTER_NEAREST)
        y = int(self.rng.integers(0, self.size - side + 1))
        x = int(self.rng.integers(0, self.size - side + 1))
        canvas[y:y + side, x:x + side] = photo
        mask[y:y + side, x:x + side] = skin

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        self._reseed_for_worker()
        draw = self.rng.random()
        if draw >= self.collage_probability + self.negative_probability:
            return self.base[index][:2]
        canvas = self._background()
        mask = np.zeros((self.size, self.size), np.float32)
        if draw < self.collage_probability:
            count = int(self.rng.choice([1, 2, 3], p=[0.5, 0.3, 0.2]))
            low, high = (0.45, 0.85) if count == 1 else (0.2, 0.55)
            others = self.rng.integers(0, len(self.base), size=count - 1)
            for i in [index, *others.tolist()]:
                self._paste(canvas, mask, int(i), float(self.rng.uniform(low, high)))
        image_t = torch.from_numpy(np.ascontiguousarray(canvas.transpose(2, 0, 1))).float().div_(255.0)
        return image_t, torch.from_numpy(mask)[None]
