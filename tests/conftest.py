"""Fixtures shared by the core and app tests: the real data folder beside the checkout, and a tiny synthetic set."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# Derived files (ONNX exports) go to a throw-away cache, never the user's; subprocesses inherit it.
os.environ.setdefault("SKINSEG_CACHE_DIR", tempfile.mkdtemp(prefix="skinseg-test-cache-"))

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()

SYNTHETIC_SIZE = 64
SYNTHETIC_COUNT = 6
# A light skin tone on a cool, textured background: clearly separable, so a test that fails points at geometry or
# bookkeeping, not at a hard segmentation problem.
SKIN_RGB = (224, 172, 140)


@pytest.fixture
def shared_data() -> Path:
    """Path to ../shared/data (real photos with masks), or skip when the checkout has no such folder beside it."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent: real-photo tests need the shared data folder beside the checkout")
    return SHARED_DATA


def disc_mask(size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """bool [size,size], True inside the disc."""
    yy, xx = np.mgrid[0:size, 0:size]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2


def write_disc_set(root: Path, count: int = SYNTHETIC_COUNT, size: int = SYNTHETIC_SIZE, seed: int = 0) -> Path:
    """Write `count` photos with a skin-coloured disc to root/images and their 0/255 masks to root/masks.

    Photos alternate between .png and .jpg so stem matching across suffixes is exercised; masks are .png.
    """
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cx, cy = rng.uniform(0.3 * size, 0.7 * size, 2)
        radius = rng.uniform(0.15 * size, 0.3 * size)
        mask = disc_mask(size, cx, cy, radius)
        photo = rng.integers(20, 110, (size, size, 3), dtype=np.uint8)
        photo[..., 2] = np.clip(photo[..., 2].astype(int) + 80, 0, 255).astype(np.uint8)  # bluish background
        photo[mask] = SKIN_RGB
        suffix = ".png" if i % 2 == 0 else ".jpg"
        Image.fromarray(photo).save(root / "images" / f"disc{i:02d}{suffix}", quality=95)
        Image.fromarray(mask.astype(np.uint8) * 255, mode="L").save(root / "masks" / f"disc{i:02d}.png")
    return root


@pytest.fixture
def synthetic_folder(tmp_path: Path) -> Path:
    """A training folder with SYNTHETIC_COUNT 64x64 photos (disc-shaped skin) in images/ and masks in masks/."""
    return write_disc_set(tmp_path)
