"""Folders of generated photos whose masks the "user" corrected, as the app's sidecar stores them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from skinseg_core.probmap import ProbabilityMap
from skinseg_core.sidecar import Sidecar

SKIN_RGB = (224, 172, 140)


def write_corrected_folder(folder: Path, corrected: int = 5, uncorrected: int = 0, size: int = 64,
                           seed: int = 0) -> list[Path]:
    """Photos of a skin-coloured disc on a bluish background; the first `corrected` have a corrected mask (the
    disc) and a kept model prediction that missed part of it (a smaller disc). Returns every photo, sorted."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    sidecar = Sidecar(folder)
    photos = []
    for i in range(corrected + uncorrected):
        cx, cy = rng.uniform(0.35 * size, 0.65 * size, 2)
        radius = rng.uniform(0.18 * size, 0.3 * size)
        mask = (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
        photo = rng.integers(20, 110, (size, size, 3), dtype=np.uint8)
        photo[..., 2] = np.clip(photo[..., 2].astype(int) + 80, 0, 255).astype(np.uint8)
        photo[mask] = SKIN_RGB
        path = folder / f"photo{i:02d}.png"
        Image.fromarray(photo).save(path)
        photos.append(path)
        if i < corrected:
            predicted = ((xx - cx) ** 2 + (yy - cy) ** 2 <= (0.6 * radius) ** 2).astype(np.float32)
            sidecar.mark_corrected(path, prediction_threshold=0.5)
            sidecar.write_prediction(path, ProbabilityMap(predicted, (size, size)))
            sidecar.write_corrected_mask(path, mask)
    sidecar.save()
    return photos
