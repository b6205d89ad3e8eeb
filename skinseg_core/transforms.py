"""Photo -> network-input resizing and the joint photo/mask augmentation used for training.

The paper squashes every photo to 128x128 regardless of its aspect ratio, and inference does the same with
`resize_for_network`, so training must show the network squashed photos too. The augmentation therefore squashes
first (at twice the network size, so zooming in still has detail to draw on) and then rotates, scales and crops
in that square frame before the final resize to `size` x `size`.

Masks are always resized and warped with nearest-neighbour interpolation: a bilinear mask would invent
fractional labels along every edge.
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

import skinseg_core  # noqa: F401  (switches off albumentations' network update check before the import below)
import albumentations as A  # noqa: E402
from albumentations.core.transforms_interface import BaseTransformInitSchema  # noqa: E402

__all__ = ["SquashResize", "closeup_transform", "eval_transform", "resize_for_network", "train_transform"]

Strength = Literal["paper", "strong"]
STRENGTHS: tuple[str, ...] = ("paper", "strong")

# Augmentation ranges, named so the model card and the report can quote them.
PAPER_ROTATE_DEG = 15.0
PAPER_SCALE = (0.9, 1.1)
PAPER_CROP_AREA = (0.64, 1.0)  # 80-100 % of each side
STRONG_ROTATE_DEG = 30.0
# Zoom out to a quarter (people appear small, as in group photos) up to 2x in; balanced_scale draws zoom-in and
# zoom-out equally often although the zoom-out interval is shorter.
STRONG_SCALE = (0.25, 2.0)
STRONG_TRANSLATE = 0.15
STRONG_CROP_AREA = (0.5, 1.0)
JPEG_QUALITY = (35, 95)


def _interpolation_for(src: int, dst: int) -> int:
    # INTER_AREA averages the source pixels behind each output pixel (no aliasing) when shrinking; when enlarging
    # it degenerates, and INTER_LINEAR is the smooth choice.
    return cv2.INTER_AREA if dst < src else cv2.INTER_LINEAR


def resize_for_network(rgb: np.ndarray, size: int) -> np.ndarray:
    """Squash a whole photo to the network's square input, as the paper does (no crop, no padding).

    Args:
        rgb: uint8 [H,W,3] photo in display orientation.
        size: side of the square output.

    Returns:
        uint8 [size,size,3]. Shrinking uses INTER_AREA, enlarging INTER_LINEAR, per axis: a photo that is shrunk
        along one axis and enlarged along the other is resized in two steps so the shrunk axis is still averaged.
    """
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        desc = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise ValueError(f"expected a uint8 [H,W,3] RGB photo, got {desc}")
    if int(size) < 1:
        raise ValueError(f"network input size must be >= 1, got {size}")
    size = int(size)
    h, w = rgb.shape[:2]
    if h == size and w == size:
        return rgb.copy()
    img = np.ascontiguousarray(rgb)
    interp_w = _interpolation_for(w, size)
    interp_h = _interpolation_for(h, size)
    if interp_w == interp_h:
        return cv2.resize(img, (size, size), interpolation=interp_w)
    # Mixed case: OpenCV's INTER_AREA falls back to linear sampling unless both axes shrink, so do the shrinking
    # axis alone first.
    if interp_w == cv2.INTER_AREA:
        img = cv2.resize(img, (size, h), interpolation=cv2.INTER_AREA)
        return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)
    img = cv2.resize(img, (w, size), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_LINEAR)


def _resize_mask(mask: np.ndarray, size: int) -> np.ndarray:
    # Nearest-neighbour keeps labels (and per-pixel weights) exactly the values they were.
    if mask.shape[0] == size and mask.shape[1] == size:
        return mask.copy()
    return cv2.resize(np.ascontiguousarray(mask), (size, size), interpolation=cv2.INTER_NEAREST)


class SquashResize(A.DualTransform):
    """Albumentations step that applies `resize_for_network` to the photo and a nearest resize to the masks.

    A named class rather than `A.Lambda` so that a pipeline pickles into DataLoader worker processes on
    platforms that spawn them (Windows, macOS).
    """

    class InitSchema(BaseTransformInitSchema):
        size: int

    def __init__(self, size: int, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.size = int(size)

    def apply(self, img: np.ndarray, **params: Any) -> np.ndarray:
        return resize_for_network(img, self.size)

    def apply_to_mask(self, mask: np.ndarray, **params: Any) -> np.ndarray:
        return _resize_mask(mask, self.size)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("size",)


def _check_size(size: int) -> int:
    if int(size) < 8:
        raise ValueError(f"network input size must be at least 8 pixels, got {size}")
    return int(size)


def _geometry_paper(size: int) -> list[A.BasicTransform]:
    work = 2 * size
    return [
        SquashResize(work),
        A.Affine(
            rotate=(-PAPER_ROTATE_DEG, PAPER_ROTATE_DEG),
            scale=PAPER_SCALE,
            keep_ratio=True,  # otherwise x and y scales are drawn independently and distort the photo
            interpolation=cv2.INTER_LINEAR,
            mask_interpolation=cv2.INTER_NEAREST,
            border_mode=cv2.BORDER_CONSTANT,
            fill=0,
            fill_mask=0,
            p=0.8,
        ),
        A.RandomResizedCrop(
            size=(size, size),
            scale=PAPER_CROP_AREA,
            ratio=(0.9, 1.0 / 0.9),
            interpolation=cv2.INTER_LINEAR,
            mask_interpolation=cv2.INTER_NEAREST,
            area_for_downscale="image",
            p=1.0,
        ),
    ]


def _strong_affine(border_mode: int) -> A.Affine:
    return A.Affine(
        rotate=(-STRONG_ROTATE_DEG, STRONG_ROTATE_DEG),
        scale=STRONG_SCALE,
        balanced_scale=True,
        keep_ratio=True,  # aspect jitter comes from the crop's ratio range instead, within limits
        translate_percent=(-STRONG_TRANSLATE, STRONG_TRANSLATE),
        shear=(-5.0, 5.0),
        interpolation=cv2.INTER_LINEAR,
        mask_interpolation=cv2.INTER_NEAREST,
        border_mode=border_mode,
        fill=0,
        fill_mask=0,
        p=1.0,
    )


def _geometry_strong(size: int) -> list[A.BasicTransform]:
    work = 2 * size
    return [
        SquashResize(work),
        A.HorizontalFlip(p=0.5),
        # Zoomed-out photos need a border: mirrored content (mask mirrored with it, so labels stay right and
        # extra small people appear) most of the time, a black frame otherwise.
        A.OneOf([_strong_affine(cv2.BORDER_REFLECT_101), _strong_affine(cv2.BORDER_CONSTANT)], p=0.9),
        A.RandomResizedCrop(
            size=(size, size),
            scale=STRONG_CROP_AREA,
            ratio=(0.75, 4.0 / 3.0),
            interpolation=cv2.INTER_LINEAR,
            mask_interpolation=cv2.INTER_NEAREST,
            area_for_downscale="image",
            p=1.0,
        ),
    ]


def _appearance_strong() -> list[A.BasicTransform]:
    # Pixel-level only (masks untouched). Hue moves stay small: skin hue is a real cue, and teaching the network
    # that green or blue skin exists would make it call skin-coloured clutter less carefully, not more.
    return [
        A.RandomBrightnessContrast(brightness_limit=(-0.25, 0.25), contrast_limit=(-0.25, 0.25), p=0.6),
        A.OneOf(
            [
                A.RandomGamma(gamma_limit=(70, 150)),
                A.RandomToneCurve(scale=0.2, per_channel=False),
            ],
            p=0.4,
        ),
        A.HueSaturationValue(hue_shift_limit=(-8, 8), sat_shift_limit=(-35, 30), val_shift_limit=(-15, 15), p=0.5),
        # Colour temperature: tungsten/shade casts (Planckian) or an arbitrary white-balance error (channel shift).
        A.OneOf(
            [
                A.PlanckianJitter(mode="blackbody", temperature_limit=(3000, 12000)),
                A.RGBShift(r_shift_limit=(-15, 15), g_shift_limit=(-15, 15), b_shift_limit=(-15, 15)),
            ],
            p=0.4,
        ),
        A.OneOf(
            [
                A.GaussianBlur(blur_limit=(3, 5), sigma_limit=(0.3, 1.5)),
                A.MotionBlur(blur_limit=(3, 7)),
            ],
            p=0.25,
        ),
        A.GaussNoise(std_range=(0.01, 0.04), p=0.2),
        A.ImageCompression(compression_type="jpeg", quality_range=JPEG_QUALITY, p=0.4),
    ]


def train_transform(size: int, strength: Strength = "strong") -> A.Compose:
    """Joint photo/mask augmentation for training, ending at `size` x `size`.

    Args:
        size: network input side (the paper uses 128).
        strength: "paper" = the paper's standard augmentation (rotation, scale, crop); "strong" adds flips, a wide
            zoom range with padding, colour, illumination, colour-temperature, blur, noise and JPEG artefacts.

    Returns:
        A Compose called as `t(image=uint8 [H,W,3], mask=[H,W])` (extra masks via `masks=[...]`), returning uint8
        [size,size,3] and masks of the same dtype and values (always nearest-neighbour). Reseed it with
        `set_random_seed` for reproducible runs.
    """
    size = _check_size(size)
    if strength == "paper":
        steps = _geometry_paper(size)
    elif strength == "strong":
        steps = _geometry_strong(size) + _appearance_strong()
    else:
        raise ValueError(f"unknown augmentation strength {strength!r}; choose one of {', '.join(STRENGTHS)}")
    # mask_interpolation on the Compose overrides every child: a belt-and-braces guarantee of nearest masks.
    return A.Compose(steps, mask_interpolation=cv2.INTER_NEAREST)


def closeup_transform(size: int) -> A.Compose:
    """The strong augmentation for close-ups (windows cut from inside the skin, see closeups.py).

    A close-up has no "up", so it is flipped both ways and turned by any angle (mirrored borders, so no black
    corners), and it is never zoomed out: a shrunk close-up framed in black would be a small skin patch, not the
    frame full of skin it is meant to teach. Colour, light, blur, noise and JPEG are as in `train_transform`.
    """
    size = _check_size(size)
    geometry = [
        SquashResize(2 * size),
        A.HorizontalFlip(p=0.5),
        A.VerticalFlip(p=0.5),
        A.Affine(rotate=(-180.0, 180.0), scale=(1.0, 1.4), keep_ratio=True, interpolation=cv2.INTER_LINEAR,
                 mask_interpolation=cv2.INTER_NEAREST, border_mode=cv2.BORDER_REFLECT_101, p=0.8),
        A.RandomResizedCrop(size=(size, size), scale=(0.6, 1.0), ratio=(0.75, 4.0 / 3.0),
                            interpolation=cv2.INTER_LINEAR, mask_interpolation=cv2.INTER_NEAREST,
                            area_for_downscale="image", p=1.0),
    ]
    return A.Compose(geometry + _appearance_strong(), mask_interpolation=cv2.INTER_NEAREST)


def eval_transform(size: int) -> A.Compose:
    """Deterministic evaluation transform: `resize_for_network` on the photo, nearest resize on the masks.

    The photo goes through exactly the function inference uses, so validation scores match what users get.
    """
    return A.Compose([SquashResize(int(size))], mask_interpolation=cv2.INTER_NEAREST)
