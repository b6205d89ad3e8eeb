"""Held-out photos under coloured and mixed light, so that the report checks that kind of photo too.

Issue 3 names "mixed and coloured light" among the photos the model is judged on, and no set here was shot for it:
the photos are mostly lit and white-balanced for daylight. The report builds the check from held-out photos at
report time (the photos may not be committed): each photo re-lit by one of LIGHTS, its reference mask unchanged.

A light is a gain per channel on the sRGB values: the colour of a black body at that temperature against a D65
white (the usual sRGB table of black-body colours), as a photo looks when the camera kept a daylight white balance.
"Mixed" fades from the warm lamp at the photo's left edge to the cool daylight at its right, as a room lit by a lamp on
one side and a window on the other. The network's rgb channels are standardised per image, which undoes a uniform
gain, but its hue and absolute colour channels, the face colour gate and both colour rules all see the light.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from skinseg_core.data import SamplePair
from skinseg_core.imageio import read_mask, read_photo, write_mask_png

__all__ = ["LIGHTS", "relight", "relit_pairs"]

WARM = (1.0, 0.82, 0.64)  # a 4000 K lamp
COOL = (0.79, 0.85, 1.0)  # shade under a blue sky, about 10000 K
GREEN = (0.88, 1.0, 0.85)  # an old fluorescent tube
LIGHTS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    # name: (gains at the left edge, gains at the right edge)
    "warm": (WARM, WARM),
    "cool": (COOL, COOL),
    "green": (GREEN, GREEN),
    "mixed": (WARM, COOL),
}


def relight(rgb: np.ndarray, light: str) -> np.ndarray:
    """uint8 RGB [H, W, 3] as lit by `light` (a key of LIGHTS)."""
    if light not in LIGHTS:
        raise ValueError(f"unknown light {light!r}; choose one of {', '.join(LIGHTS)}")
    left, right = (np.asarray(g, np.float32) for g in LIGHTS[light])
    across = np.linspace(0.0, 1.0, rgb.shape[1], dtype=np.float32)[None, :, None]
    gains = left + (right - left) * across
    return np.clip(rgb.astype(np.float32) * gains + 0.5, 0, 255).astype(np.uint8)


def relit_pairs(pairs: list[SamplePair], out_dir: Path, lights: tuple[str, ...] = tuple(LIGHTS)) -> list[SamplePair]:
    """Each pair's photo under each light, written as PNG to out_dir/images with its mask in out_dir/masks (and its
    lesion mask in out_dir/masks_lesion where the set has one, as the clinical photos do)."""
    for folder in ("images", "masks", "masks_lesion"):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    relit = []
    for pair in pairs:
        photo = read_photo(pair.image)
        target = read_mask(pair.mask, size=photo.full_size)
        lesion = read_mask(pair.lesion_mask, size=photo.full_size) if pair.lesion_mask.exists() else None
        for light in lights:
            name = f"{pair.image.stem}_{light}.png"
            image_path, mask_path = out_dir / "images" / name, out_dir / "masks" / name
            if not cv2.imwrite(str(image_path), cv2.cvtColor(relight(photo.rgb, light), cv2.COLOR_RGB2BGR)):
                raise OSError(f"could not write {image_path}")
            write_mask_png(mask_path, target)
            if lesion is not None:
                write_mask_png(out_dir / "masks_lesion" / name, lesion)
            relit.append(SamplePair(image_path, mask_path))
    return relit
