"""Held-out photos tiled into large pictures, so that people are as small as in group photos.

The face sets show one face 100-250 px wide; in group photos faces are 15-40 px, and the network sees the whole
photo squashed to its input size, which shrinks them further. No public set here has labelled group photos, so the
report builds a check of that kind from LFW's test split: n x n test photos side by side in one picture, each with
its own reference mask in the same place. The pictures are made at report time (the photos may not be committed).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from skinseg_core.data import SamplePair
from skinseg_core.imageio import read_mask, read_photo, write_mask_png


def tile_pairs(pairs: list[SamplePair], per_side: int, out_dir: Path, cell: int) -> list[SamplePair]:
    """Write one picture (PNG) and its mask per `per_side`**2 consecutive pairs into out_dir/images and
    out_dir/masks; a trailing remainder that cannot fill a picture is left out.

    Each photo is shrunk or enlarged to fit a `cell` x `cell` square, centred; what it does not cover is black and
    not skin.
    """
    if per_side < 1 or cell < 1:
        raise ValueError(f"per_side and cell must be >= 1, got {per_side} and {cell}")
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    (out_dir / "masks").mkdir(parents=True, exist_ok=True)
    count = per_side * per_side
    pictures = []
    for number, start in enumerate(range(0, len(pairs) - count + 1, count), start=1):
        side = per_side * cell
        picture = np.zeros((side, side, 3), np.uint8)
        mask = np.zeros((side, side), bool)
        for index, pair in enumerate(pairs[start:start + count]):
            photo = read_photo(pair.image)
            target = read_mask(pair.mask, size=photo.full_size)
            height, width = target.shape
            scale = cell / max(height, width)
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            row, col = divmod(index, per_side)
            top, left = row * cell + (cell - size[1]) // 2, col * cell + (cell - size[0]) // 2
            area = (slice(top, top + size[1]), slice(left, left + size[0]))
            interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
            picture[area] = cv2.resize(photo.rgb, size, interpolation=interpolation)
            mask[area] = cv2.resize(target.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        name = f"group_{number:03d}.png"
        image_path, mask_path = out_dir / "images" / name, out_dir / "masks" / name
        if not cv2.imwrite(str(image_path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {image_path}")
        write_mask_png(mask_path, mask)
        pictures.append(SamplePair(image_path, mask_path))
    return pictures
