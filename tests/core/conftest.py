"""Fixtures for engine tests: tiny networks, tiny model files and small folders of real photos."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skinseg_core.checkpoint import CheckpointMeta, save_checkpoint
from skinseg_core.models import build_model

TINY = {"widths": (4, 8, 12), "fc_dim": 8, "fc_grid": 2, "input_size": 32}


def tiny_model(arch: str = "dense-res-unet", **overrides):
    kwargs = dict(TINY)
    if arch.startswith("dense"):
        kwargs.update(dense_layers=2, residual_width=4)
    kwargs.update(overrides)
    return build_model(arch, **kwargs)


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    """A random-weight tiny Dense Residual U-Net saved in the SkinSeg model format; returns its .json path."""
    return save_checkpoint(tiny_model(), tmp_path / "models" / "tiny.json", CheckpointMeta(name="tiny"))


def copy_pairs(source: Path, dest: Path, stems: list[str] | None = None, limit: int | None = None) -> Path:
    """Copy photo/mask pairs of a shared-data folder into dest/images and dest/masks (originals untouched)."""
    (dest / "images").mkdir(parents=True, exist_ok=True)
    (dest / "masks").mkdir(parents=True, exist_ok=True)
    photos = sorted((source / "images").iterdir())
    if stems is not None:
        photos = [p for p in photos if p.stem in stems]
    for photo in photos[:limit]:
        mask = next((source / "masks").glob(photo.stem + ".*"))
        shutil.copy(photo, dest / "images" / photo.name)
        shutil.copy(mask, dest / "masks" / mask.name)
    return dest


@pytest.fixture
def real_faces(shared_data: Path, tmp_path: Path) -> Path:
    """Eight LFW test photos with their masks, copied into tmp_path/faces."""
    return copy_pairs(shared_data / "lfw_parts", tmp_path / "faces", limit=8)


@pytest.fixture
def real_clinical(shared_data: Path, tmp_path: Path) -> Path:
    """Six clinical photos (diseased skin) with their masks, copied into tmp_path/clinical."""
    return copy_pairs(shared_data / "clinical_fitz17k", tmp_path / "clinical", limit=6)
