"""Photos of people with no face in view, for the report: ECU's photos cut below their faces, leaving bodies, arms and
hands in real scenes.

Why: users photograph bodies, hands and legs as well as faces. A photo in which no face is found (nor a large one
seen from the side, docs/adr/0035) gets neither the network for people (docs/adr/0028) nor the face colour gate
(docs/adr/0023). So such photos need a check of their own, and none of the sets had one. ECU's photos show people in
real scenes with all their skin marked.

Each photo is cut a third of a face's height below its lowest face, so the chin and neck go with the face. A crop is
kept only if it has at least MIN_ROWS rows and no face is found in it. The cut uses `faces.detect_faces` with its
settings given here, not the face colour gate's, so that a change to the gate's search does not change the photos.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from skinseg_core.data import SamplePair
from skinseg_core.faces import DETECT_LONG_SIDE, MIN_FACE_PX, SCALE_STEP, Box, detect_faces
from skinseg_core.imageio import read_mask, read_photo, write_mask_png

__all__ = ["BELOW_FACE", "MIN_ROWS", "body_pairs"]

BELOW_FACE = 1 / 3  # of the face's height: the chin and neck
MIN_ROWS = 80


def _faces(rgb: np.ndarray) -> list[Box]:
    return detect_faces(rgb, DETECT_LONG_SIDE, MIN_FACE_PX, SCALE_STEP)


def body_pairs(pairs: list[SamplePair], out_dir: Path) -> list[SamplePair]:
    """Each pair's photo cut below its faces, written as PNG to out_dir/images with its mask's same rows in
    out_dir/masks. Photos without a face, or with too little below it, or with a face still in the crop, are left
    out."""
    for folder in ("images", "masks"):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
    cut_pairs = []
    for pair in pairs:
        photo = read_photo(pair.image)
        faces = _faces(photo.rgb)
        if not faces:
            continue
        cut = max(y + h + round(h * BELOW_FACE) for _, y, _, h in faces)
        body = photo.rgb[cut:]
        if len(body) < MIN_ROWS or _faces(body):
            continue
        name = f"{pair.image.stem}_body.png"
        image_path, mask_path = out_dir / "images" / name, out_dir / "masks" / name
        if not cv2.imwrite(str(image_path), cv2.cvtColor(body, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {image_path}")
        write_mask_png(mask_path, read_mask(pair.mask, size=photo.full_size)[cut:])
        cut_pairs.append(SamplePair(image_path, mask_path))
    return cut_pairs
