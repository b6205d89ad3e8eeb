"""Fixtures for engine tests: tiny networks, tiny model files and small folders of real photos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from skinseg_core.checkpoint import CheckpointMeta, save_checkpoint
from skinseg_core.data import RecolouredDataset, SamplePair, SkinDataset, folder_pairs, split_pairs
from skinseg_core.models import build_model
from skinseg_core.training import TrainSettings, fit, run_fit
from tests.conftest import disc_mask, write_disc_set

TINY = {"widths": (4, 8, 12), "fc_dim": 8, "fc_grid": 2, "input_size": 32}
LIGHT_SKIN = np.array([0.86, 0.70, 0.60], np.float32)  # sRGB, a type II cheek
BLUE_WALL = np.array([0.30, 0.50, 0.70], np.float32)  # sRGB, far from any skin


def skin_disc(radius: float, background: np.ndarray = BLUE_WALL, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A photo for the re-colouring tests: float32 [3,size,size] RGB, a LIGHT_SKIN disc of `radius` in the middle on
    a flat `background` colour, and its float32 [size,size] 0/1 mask."""
    mask = disc_mask(size, size // 2, size // 2, radius)
    image = np.where(mask[None], LIGHT_SKIN[:, None, None], np.asarray(background, np.float32)[:, None, None])
    return image.astype(np.float32), mask.astype(np.float32)


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


def training_inputs(tmp_path: Path, setting: str, channels: slice = slice(None), **model_overrides
                    ) -> dict[float, list[torch.Tensor]]:
    """The input batches a tiny network sees in one 2-step training epoch on a disc set, with the training setting
    `setting` (a share of items: skin_tone, decoys, mixed_light, lesion_spots) at 0 and at 1, the same seed for both; each run's
    config must record the share. `channels`: which input channels to keep."""
    train, val = split_pairs(folder_pairs(write_disc_set(tmp_path / "discs")), 0.25, seed=0)
    seen: dict[float, list[torch.Tensor]] = {}
    for share in (0.0, 1.0):
        torch.manual_seed(0)
        model = tiny_model(**model_overrides)
        batches = seen.setdefault(share, [])
        model.register_forward_pre_hook(lambda module, args, b=batches: b.append(args[0][:, channels].detach().clone())
                                        if module.training else None)
        settings = TrainSettings(epochs=1, patience=2, batch_size=2, learning_rate=0.01, augmentation="paper",
                                 steps_per_epoch=2, num_workers=0, **{setting: share})
        run_fit(fit(tmp_path / f"run{share}", model, train, val, settings))
        config = json.loads((tmp_path / f"run{share}" / "config.json").read_text())
        assert config["settings"][setting] == share
    return seen


@pytest.fixture
def discs(tmp_path: Path) -> list[SamplePair]:
    """A small set of disc photos and masks (96 px)."""
    return folder_pairs(write_disc_set(tmp_path / "discs", size=96))


def recoloured_items(wrapper: type[RecolouredDataset], pairs: list[SamplePair], size: int = 64
                     ) -> list[tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]]:
    """Each item of a re-colouring training wrapper (skin tone, decoys, mixed light, lesion spots) at share 1 beside the same item
    unwrapped, both drawn with one seed. Checks on the way that masks and loss weights pass through unchanged, that
    share 0 changes nothing and that a share outside 0-1 is refused."""
    base = SkinDataset(pairs, size, cache_long_side=96, weights=[2.0] * len(pairs))
    wrapped = wrapper(base, probability=1.0)
    wrapped.reseed(4)
    base.reseed(4)
    items = []
    for i in range(len(base)):
        item, plain = wrapped[i], base[i]
        assert torch.equal(item[1], plain[1]) and torch.equal(item[2], plain[2]), "masks and weights pass through"
        items.append((item, plain))
    off = wrapper(base, probability=0.0)
    assert all(torch.equal(off[i][0], base[i][0]) for i in range(len(base)))
    with pytest.raises(ValueError, match="between 0 and 1"):
        wrapper(base, probability=1.5)
    return items


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
