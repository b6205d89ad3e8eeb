"""(photo, mask) pairs from folders, train/validation splits, and an in-memory dataset for training.

A training folder holds `images/` and `masks/` whose files share a stem (`0042.jpg` + `0042.png`); masks are
8-bit greyscale, 255 (any non-zero) = skin.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from skinseg_core.errors import DataError, SkinSegError
from skinseg_core.imageio import list_photos, read_mask, read_photo
from skinseg_core.transforms import eval_transform

__all__ = ["SamplePair", "SkinDataset", "find_pairs", "folder_pairs", "kfold_splits", "split_pairs"]

log = logging.getLogger(__name__)

# A mask whose aspect ratio differs from its photo's by more than this is a different picture (or a photo whose
# EXIF rotation was not applied when the mask was drawn), not a resized copy.
_ASPECT_TOLERANCE = 0.02


@dataclass(frozen=True)
class SamplePair:
    """One training example: a photo and its skin mask, matched by file stem."""

    image: Path
    mask: Path

    @property
    def stem(self) -> str:
        return self.image.stem

    @property
    def lesion_mask(self) -> Path:
        """Where the set keeps this photo's lesion mask, if it has one (the clinical photos: masks_lesion/)."""
        return self.mask.parent.parent / "masks_lesion" / self.mask.name


def folder_pairs(root: str | os.PathLike[str]) -> list[SamplePair]:
    """Pairs of a training folder laid out as `root/images` + `root/masks` (see `find_pairs`)."""
    root = Path(root)
    return find_pairs(root / "images", root / "masks")


def _by_stem(files: Sequence[Path], what: str, folder: Path) -> dict[str, Path]:
    by_stem: dict[str, Path] = {}
    for f in files:
        if f.stem in by_stem:
            raise DataError(
                f"two {what} in {folder} share the name {f.stem!r} ({by_stem[f.stem].name} and {f.name}), so it is "
                "unclear which one to use: rename or remove one of them"
            )
        by_stem[f.stem] = f
    return by_stem


def _list_folder(folder: Path, what: str) -> list[Path]:
    if not folder.is_dir():
        raise DataError(
            f"the {what} folder {folder} does not exist (or is not a folder). A training folder needs images/ with "
            "the photos and masks/ with one mask per photo, named like the photo (0042.jpg -> 0042.png)"
        )
    return list_photos(folder)


def find_pairs(images_dir: str | os.PathLike[str], masks_dir: str | os.PathLike[str]) -> list[SamplePair]:
    """Match photos and masks by file stem; the suffixes may differ (photo .jpg, mask .png).

    Files present on one side only are skipped and logged with a count. Returns the pairs sorted by stem.

    Raises:
        DataError: a folder is missing, two files on one side share a stem, or no photo has a mask.
    """
    images_dir, masks_dir = Path(images_dir), Path(masks_dir)
    photos = _by_stem(_list_folder(images_dir, "photo"), "photos", images_dir)
    masks = _by_stem(_list_folder(masks_dir, "mask"), "masks", masks_dir)
    stems = sorted(photos.keys() & masks.keys())
    if not stems:
        hint = ""
        if photos and masks:
            hint = (
                f" (e.g. photo {next(iter(sorted(photos)))!r} vs mask {next(iter(sorted(masks)))!r}): a mask must "
                "have the same file name as its photo apart from the suffix"
            )
        raise DataError(
            f"no photo in {images_dir} has a mask in {masks_dir}: found {len(photos)} photo(s) and {len(masks)} "
            f"mask(s){hint}. Check that both folders hold image files (.jpg, .png, ...) and that the names match"
        )
    only_photos = sorted(photos.keys() - masks.keys())
    only_masks = sorted(masks.keys() - photos.keys())
    if only_photos:
        log.warning(
            "%d photo(s) in %s have no mask and are skipped, e.g. %s",
            len(only_photos), images_dir, ", ".join(only_photos[:5]),
        )
    if only_masks:
        log.warning(
            "%d mask(s) in %s have no photo and are skipped, e.g. %s",
            len(only_masks), masks_dir, ", ".join(only_masks[:5]),
        )
    return [SamplePair(image=photos[s], mask=masks[s]) for s in stems]


def _shuffled(pairs: Sequence[SamplePair], seed: int) -> list[SamplePair]:
    # Shuffle from a canonical order so the split depends on the files only, not on how the caller listed them.
    ordered = sorted(pairs, key=lambda p: (str(p.image), str(p.mask)))
    random.Random(seed).shuffle(ordered)
    return ordered


def _in_input_order(pairs: Sequence[SamplePair], chosen: set[SamplePair]) -> list[SamplePair]:
    return [p for p in pairs if p in chosen]


def split_pairs(
    pairs: Sequence[SamplePair], val_fraction: float = 0.2, seed: int = 0
) -> tuple[list[SamplePair], list[SamplePair]]:
    """Deterministic train/validation split (the paper early-stops on a 20 % validation split).

    With two or more pairs and `val_fraction` > 0, both parts hold at least one pair. A single pair (fine-tuning
    on one corrected photo) goes to training and the validation list is empty. Both lists keep the input order.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    if len(set(pairs)) != len(pairs):
        raise ValueError("the same pair is listed twice; it could land in both training and validation")
    n = len(pairs)
    if n < 2 or val_fraction == 0.0:
        return list(pairs), []
    n_val = min(max(1, round(n * val_fraction)), n - 1)
    val = set(_shuffled(pairs, seed)[:n_val])
    return [p for p in pairs if p not in val], _in_input_order(pairs, val)


def kfold_splits(
    pairs: Sequence[SamplePair], k: int, seed: int = 0
) -> list[tuple[list[SamplePair], list[SamplePair]]]:
    """K-fold cross-validation: k (train, test) splits, every pair in exactly one test part.

    Fold sizes differ by at most one. Deterministic for a given seed; lists keep the input order.
    """
    n = len(pairs)
    if len(set(pairs)) != n:
        raise ValueError("the same pair is listed twice; it would be tested in two folds")
    if k < 2 or k > n:
        raise ValueError(f"k-fold needs 2 <= k <= number of pairs ({n}), got k={k}")
    order = _shuffled(pairs, seed)
    folds = [set(order[i::k]) for i in range(k)]
    return [([p for p in pairs if p not in fold], _in_input_order(pairs, fold)) for fold in folds]


def _load_pair(pair: SamplePair, cache_long_side: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Read one pair at reduced size: uint8 [h,w,3] photo, uint8 [h,w] 0/1 mask, and the photo's full (w, h)."""
    try:
        photo = read_photo(pair.image, min_long_side=cache_long_side)
    except (SkinSegError, OSError, ValueError) as e:
        raise DataError(f"cannot read the photo {pair.image}: {e}") from e
    rgb = photo.rgb
    h, w = rgb.shape[:2]
    if max(h, w) > cache_long_side:
        scale = cache_long_side / max(h, w)
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
        rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)

    try:
        mask = read_mask(pair.mask)
    except (SkinSegError, OSError, ValueError) as e:
        raise DataError(f"cannot read the mask {pair.mask}: {e}") from e
    full_w, full_h = photo.full_size
    mask_h, mask_w = mask.shape
    if abs(np.log((mask_w / mask_h) / (full_w / full_h))) > _ASPECT_TOLERANCE:
        raise DataError(
            f"the mask {pair.mask} is {mask_w}x{mask_h} but its photo {pair.image} is {full_w}x{full_h} (as "
            "displayed, after EXIF rotation): they do not show the same picture. Redraw or re-export the mask"
        )
    mask_u8 = np.ascontiguousarray(mask, dtype=np.uint8)
    if mask_u8.shape != (h, w):
        mask_u8 = cv2.resize(mask_u8, (w, h), interpolation=cv2.INTER_NEAREST)
    return rgb, mask_u8, (full_w, full_h)


class SkinDataset(Dataset):
    """Training/evaluation dataset that decodes every pair once and keeps it in memory at reduced size.

    Each item is `(image, mask)`: float32 [3,size,size] in [0,1] and float32 [1,size,size] in {0,1}; with
    `weights`, `(image, mask, weight)` with weight float32 [1,size,size].

    Args:
        pairs: the (photo, mask) pairs.
        size: network input side; the transform must produce `size` x `size`.
        transform: albumentations-style callable `t(image=, mask=, masks=)` -> dict; default `eval_transform(size)`
            (use `train_transform(size)` for training).
        cache_long_side: long side kept in memory (default 2 * size). Memory is about 3 * cache_long_side^2 bytes
            per photo, e.g. 200 kB at 256 px. Photos are never enlarged.
        weights: optional per-pair per-pixel loss weights (see `losses.jaccard_loss`): a float [H,W] array at the
            photo's full display size (any size with the photo's aspect ratio works), a scalar, or None (= 1).
    """

    def __init__(
        self,
        pairs: Sequence[SamplePair],
        size: int,
        transform: Callable[..., dict[str, Any]] | None = None,
        cache_long_side: int | None = None,
        weights: Sequence[np.ndarray | float | None] | None = None,
    ) -> None:
        self.pairs = list(pairs)
        self.size = int(size)
        if self.size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self.cache_long_side = int(cache_long_side) if cache_long_side is not None else 2 * self.size
        if self.cache_long_side < 1:
            raise ValueError(f"cache_long_side must be >= 1, got {cache_long_side}")
        self.transform = transform if transform is not None else eval_transform(self.size)
        if weights is not None and len(weights) != len(self.pairs):
            raise ValueError(f"got {len(weights)} weight maps for {len(self.pairs)} pairs")
        self._seeded_worker: tuple[int, int] | None = None

        # Decoding is mostly in C (libjpeg, libpng, OpenCV) and releases the GIL, so threads overlap it.
        n_threads = max(1, min(8, os.cpu_count() or 1, len(self.pairs)))
        log.info("loading %d pairs into memory (long side <= %d px)", len(self.pairs), self.cache_long_side)
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            loaded = list(pool.map(lambda p: _load_pair(p, self.cache_long_side), self.pairs))
        self._images = [rgb for rgb, _, _ in loaded]
        self._masks = [mask for _, mask, _ in loaded]
        self._weights: list[np.ndarray] | None = None
        if weights is not None:
            self._weights = [
                self._cached_weight(w, pair, mask.shape)
                for w, pair, (_, mask, _) in zip(weights, self.pairs, loaded)
            ]

    @staticmethod
    def _cached_weight(weight: np.ndarray | float | None, pair: SamplePair, shape: tuple[int, int]) -> np.ndarray:
        # Stored (and augmented) as weight - 1: padding added by a zoom-out fills masks with 0, and that has to
        # mean "ordinary weight 1" for the padded background, not "ignore these pixels".
        if weight is None:
            return np.zeros(shape, np.float32)
        arr = np.asarray(weight, dtype=np.float32)
        if arr.ndim == 0:
            return np.full(shape, float(arr) - 1.0, np.float32)
        if arr.ndim != 2:
            raise ValueError(f"the weight map for {pair.image} must be [H,W], got shape {arr.shape}")
        if np.any(arr < 0) or not np.all(np.isfinite(arr)):
            raise ValueError(f"the weight map for {pair.image} must be finite and >= 0")
        arr = cv2.resize(arr, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST) if arr.shape != shape else arr
        return arr - 1.0

    def __len__(self) -> int:
        return len(self.pairs)

    def reseed(self, seed: int) -> None:
        """Make the augmentations drawn in this process reproducible (training reseeds once per epoch)."""
        if hasattr(self.transform, "set_random_seed"):
            self.transform.set_random_seed(seed % 2**32)

    def _reseed_for_worker(self) -> None:
        # DataLoader workers are forked with a copy of the transform's random generators, so without this every
        # worker would produce the same augmentations. torch gives each worker (and each epoch) its own seed.
        info = torch.utils.data.get_worker_info()
        if info is None or not hasattr(self.transform, "set_random_seed"):
            return
        key = (info.id, info.seed)
        if key != self._seeded_worker:
            self.transform.set_random_seed(info.seed % 2**32)
            self._seeded_worker = key

    def cached(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The photo (uint8 [h,w,3]) and its 0/1 mask as kept in memory, before any augmentation."""
        return self._images[index], self._masks[index]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        weight = self._weights[index] if self._weights is not None else None
        return self.augment(index, self._images[index], self._masks[index], weight)

    def augment(self, index: int, image: np.ndarray, mask: np.ndarray, weight: np.ndarray | None = None,
                transform: Callable[..., dict[str, Any]] | None = None) -> tuple[torch.Tensor, ...]:
        """Run the transform (this dataset's, or `transform`) on a photo and mask (pair `index`'s, or a crop of
        them) and return tensors."""
        self._reseed_for_worker()
        kwargs: dict[str, Any] = {"image": image, "mask": mask}
        if weight is not None:
            kwargs["masks"] = [weight]
        out = (transform or self.transform)(**kwargs)
        image, mask = out["image"], out["mask"]
        if image.shape[:2] != (self.size, self.size) or mask.shape[:2] != (self.size, self.size):
            raise ValueError(
                f"the transform returned a {image.shape[1]}x{image.shape[0]} image and a "
                f"{mask.shape[1]}x{mask.shape[0]} mask for {self.pairs[index].image}; expected "
                f"{self.size}x{self.size}: end custom transforms with a resize to the network size"
            )
        image_t = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float().div_(255.0)
        mask_t = torch.from_numpy((np.asarray(mask) > 0).astype(np.float32))[None]
        if self._weights is None:
            return image_t, mask_t
        weight_t = torch.from_numpy(np.asarray(out["masks"][0], dtype=np.float32) + 1.0)[None]
        return image_t, mask_t, weight_t


class WrappedDataset(Dataset):
    """Base of the training datasets that wrap another (close-ups, collages, skin tone, decoys) and redraw some of its
    items with a random generator of their own, reseeded with the wrapped dataset each epoch and in each worker."""

    # Added to the epoch's and the worker's seed, so that wrappers stacked on one dataset draw different numbers.
    RESEED_OFFSET = 0
    WORKER_OFFSET = 0

    def __init__(self, base: Dataset) -> None:
        self.base = base
        self.size = base.size
        self.rng = np.random.default_rng(0)
        self._seeded_worker: tuple[int, int] | None = None

    @property
    def pairs(self) -> Sequence[SamplePair]:
        return self.base.pairs

    def __len__(self) -> int:
        return len(self.base)

    def _seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def reseed(self, seed: int) -> None:
        self.base.reseed(seed)
        self._seed((seed + self.RESEED_OFFSET) % 2**32)

    def _reseed_for_worker(self) -> None:
        # Forked DataLoader workers start with copies of the parent's generator; each worker (and epoch) needs its own.
        info = torch.utils.data.get_worker_info()
        if info is not None and (info.id, info.seed) != self._seeded_worker:
            self._seed((info.seed + self.WORKER_OFFSET) % 2**32)
            self._seeded_worker = (info.id, info.seed)


class RecolouredDataset(WrappedDataset):
    """Base of the wrappers that re-colour the image of a share of the wrapped items (skin tone, decoys): masks and
    any further tensors (loss weights) pass through unchanged. Subclasses implement `_recolour`."""

    SHARE_NAME = "re-colouring"

    def __init__(self, base: Dataset, probability: float) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"the {self.SHARE_NAME} share must be between 0 and 1, got {probability}")
        super().__init__(base)
        self.probability = probability

    def _recolour(self, image: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
        """float32 [3,H,W] image and [H,W] mask -> the re-coloured image, or None to keep the item as it is."""
        raise NotImplementedError

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        self._reseed_for_worker()
        item = self.base[index]
        if self.rng.random() >= self.probability:
            return item
        image = self._recolour(item[0].numpy(), item[1][0].numpy())
        return item if image is None else (torch.from_numpy(image), *item[1:])
