"""Close-ups: training items cut from inside the skin of a training photo, so that a frame full of skin is skin.

Why: clinical photos are close-ups — skin fills 90-100 % of most of them and there is no face, body outline or
background to give the context that the face and body sets teach. A network trained on those sets marks the
lesion (it stands out) and leaves the plain skin around it out: in the clinical k-fold, held-out close-ups scored
skin Jaccard 0.06-0.70 while the colour rules scored 0.95-0.99. Cutting windows that lie mostly inside the skin
mask of a face, abdomen or arm and enlarging them to the full frame shows the network skin texture without
context; most windows are nearly all skin, the rest straddle an edge so that the skin border is still learnt.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from skinseg_core.data import SkinDataset, WrappedDataset
from skinseg_core.transforms import closeup_transform

FULL_SKIN = 0.92  # "nearly all skin" windows: at least this share of skin
EDGE_SKIN = 0.5  # windows that straddle a skin edge: at least this share
FULL_SKIN_SHARE = 0.7  # share of close-ups that are nearly all skin
SIDE_RANGE = (0.15, 0.6)  # window side as a share of the photo's short side
MIN_SIDE = 32  # px of the cached photo; smaller windows are mostly blur once enlarged


def skin_window(mask: np.ndarray, side: int, min_share: float, rng: np.random.Generator
                ) -> tuple[int, int] | None:
    """Top-left (y, x) of a random `side` x `side` window whose skin share is >= `min_share`, or None.

    `mask` is a 0/1 [h, w] array. Every window position is scored at once from the mask's integral image.
    """
    h, w = mask.shape
    if side > min(h, w) or side < 1:
        return None
    integral = cv2.integral(np.ascontiguousarray(mask, dtype=np.uint8))
    sums = (integral[side:, side:] - integral[:-side, side:] - integral[side:, :-side] + integral[:-side, :-side])
    ys, xs = np.nonzero(sums >= min_share * side * side)
    if len(ys) == 0:
        return None
    pick = int(rng.integers(len(ys)))
    return int(ys[pick]), int(xs[pick])


def closeup_crop(image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray] | None:
    """A random close-up of `image` (window mostly inside the skin of `mask`) and its mask, or None if the photo
    has no skin area large enough."""
    short = min(mask.shape)
    min_share = FULL_SKIN if rng.random() < FULL_SKIN_SHARE else EDGE_SKIN
    side = max(MIN_SIDE, int(short * rng.uniform(*SIDE_RANGE)))
    # Faces leave few large all-skin windows: halve the window before giving up.
    for attempt_side in (side, side // 2):
        if attempt_side < MIN_SIDE:
            break
        corner = skin_window(mask, attempt_side, min_share, rng)
        if corner is not None:
            y, x = corner
            return (np.ascontiguousarray(image[y:y + attempt_side, x:x + attempt_side]),
                    np.ascontiguousarray(mask[y:y + attempt_side, x:x + attempt_side]))
    return None


class CloseUpDataset(WrappedDataset):
    """Wraps a training SkinDataset: a share of its items become close-ups (see module docstring), augmented by
    `closeup_transform` (flips, any rotation, no zoom-out). Items are `(image, mask)` float tensors like the wrapped dataset's."""

    RESEED_OFFSET = WORKER_OFFSET = 104_729

    def __init__(self, base: SkinDataset, probability: float) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"the close-up share must be between 0 and 1, got {probability}")
        if getattr(base, "_weights", None) is not None:
            raise ValueError("close-ups do not support per-pixel loss weights")
        self.transform = closeup_transform(base.size)
        super().__init__(base)
        self.probability = probability

    def _seed(self, seed: int) -> None:
        super()._seed(seed)
        self.transform.set_random_seed(seed)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        self._reseed_for_worker()
        if self.rng.random() < self.probability:
            image, mask = self.base.cached(index)
            crop = closeup_crop(image, mask, self.rng)
            if crop is not None:
                return self.base.augment(index, *crop, transform=self.transform)
        return self.base[index]
