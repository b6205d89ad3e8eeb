"""Close-ups: windows cut from inside the skin, enlarged to the full frame (clinical close-ups have no context)."""

from __future__ import annotations

import numpy as np
import pytest

from skinseg_core.closeups import FULL_SKIN, CloseUpDataset, closeup_crop, skin_window
from skinseg_core.data import SkinDataset, folder_pairs
from skinseg_core.transforms import train_transform
from tests.conftest import disc_mask, write_disc_set

SIZE = 64


def test_skin_window_lies_inside_the_skin():
    mask = disc_mask(120, 60, 60, 40).astype(np.uint8)
    rng = np.random.default_rng(0)
    for _ in range(20):
        y, x = skin_window(mask, 40, 0.95, rng)
        assert mask[y:y + 40, x:x + 40].mean() >= 0.95
    assert skin_window(mask, 70, 0.95, rng) is None, "a 70 px square does not fit in a disc of radius 40"
    assert skin_window(np.zeros((50, 50), np.uint8), 32, 0.5, rng) is None
    assert skin_window(mask, 200, 0.5, rng) is None, "a window larger than the photo"


def test_closeup_crops_are_mostly_skin_and_none_without_skin():
    mask = disc_mask(200, 90, 110, 70).astype(np.uint8)
    image = np.zeros((200, 200, 3), np.uint8)
    image[mask > 0] = (220, 170, 140)
    rng = np.random.default_rng(1)
    shares = []
    for _ in range(40):
        crop_image, crop_mask = closeup_crop(image, mask, rng)
        assert crop_image.shape[:2] == crop_mask.shape and crop_mask.shape[0] == crop_mask.shape[1] >= 32
        shares.append(crop_mask.mean())
    assert min(shares) >= 0.5 and np.mean([s >= FULL_SKIN for s in shares]) > 0.5
    assert closeup_crop(image, np.zeros_like(mask), rng) is None


@pytest.fixture
def large_discs(tmp_path):
    return folder_pairs(write_disc_set(tmp_path / "discs", size=160))


def _skin_share(dataset, count: int = 24) -> float:
    dataset.reseed(5)
    return float(np.mean([dataset[i % len(dataset)][1].mean().item() for i in range(count)]))


def test_closeup_items_fill_the_frame_with_skin(large_discs):
    base = SkinDataset(large_discs, SIZE, transform=train_transform(SIZE), cache_long_side=160)
    closeups = CloseUpDataset(base, probability=1.0)
    image, mask = closeups[0]
    assert image.shape == (3, SIZE, SIZE) and mask.shape == (1, SIZE, SIZE)
    # The discs cover about a fifth of each photo; close-ups of them are mostly skin.
    assert _skin_share(base) < 0.35
    assert _skin_share(closeups) > 0.75


def test_closeups_off_pass_items_through_and_reseeding_repeats_them(large_discs):
    base = SkinDataset(large_discs, SIZE, transform=train_transform(SIZE), cache_long_side=160)
    off = CloseUpDataset(base, probability=0.0)
    off.reseed(3)
    first = off[2][1]
    base.reseed(3)
    assert np.array_equal(first.numpy(), base[2][1].numpy())
    mixed = CloseUpDataset(base, probability=0.5)
    mixed.reseed(9)
    draws = [mixed[i][1].sum().item() for i in range(len(mixed))]
    mixed.reseed(9)
    assert [mixed[i][1].sum().item() for i in range(len(mixed))] == draws
    with pytest.raises(ValueError, match="between 0 and 1"):
        CloseUpDataset(base, probability=1.5)


def test_closeups_refuse_pixel_weights(large_discs):
    weighted = SkinDataset(large_discs, SIZE, weights=[2.0] * len(large_discs))
    with pytest.raises(ValueError, match="weights"):
        CloseUpDataset(weighted, probability=0.3)
