"""Collages: pasted training photos keep exact masks on skin-free backgrounds; negatives have empty masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skinseg_core.collage import CollageDataset
from skinseg_core.data import SkinDataset, folder_pairs
from skinseg_core.transforms import eval_transform

SIZE = 64
BACKGROUND_RGB = (0, 200, 0)  # pure green (scaled by the brightness jitter): no pasted disc photo has it


@pytest.fixture
def base(synthetic_folder):
    return SkinDataset(folder_pairs(synthetic_folder), SIZE, transform=eval_transform(SIZE))


def backgrounds():
    return [np.broadcast_to(np.array(BACKGROUND_RGB, np.uint8), (100, 150, 3)).copy()]


def _is_background(image: torch.Tensor) -> torch.Tensor:
    rgb = (image * 255).round()
    return (rgb[0] == 0) & (rgb[1] > 100) & (rgb[2] == 0)


def test_collage_masks_are_the_pasted_photos_masks(base):
    ds = CollageDataset(base, backgrounds(), collage_probability=1.0, negative_probability=0.0)
    ds.reseed(1)
    for i in range(len(ds)):
        image, mask = ds[i]
        assert image.shape == (3, SIZE, SIZE) and mask.shape == (1, SIZE, SIZE)
        background = _is_background(image)
        assert 0 < background.float().mean() < 1, "a collage shows both the background and a pasted photo"
        assert not mask[0][background].any(), "the background never counts as skin"
        assert mask.sum() > 0, "the pasted photo brings its skin"


def test_negatives_are_background_with_an_empty_mask(base):
    ds = CollageDataset(base, backgrounds(), collage_probability=0.0, negative_probability=1.0)
    image, mask = ds[0]
    assert mask.sum() == 0
    assert _is_background(image).float().mean() > 0.99


def test_other_items_pass_through_and_reseeding_repeats_the_draws(base):
    plain = CollageDataset(base, backgrounds(), collage_probability=0.0, negative_probability=0.0)
    assert torch.equal(plain[3][1], base[3][1])
    mixed = CollageDataset(base, backgrounds(), collage_probability=0.5, negative_probability=0.2)
    mixed.reseed(7)
    first = [mixed[i][1].sum().item() for i in range(len(mixed))]
    mixed.reseed(7)
    assert [mixed[i][1].sum().item() for i in range(len(mixed))] == first


def test_collages_refuse_pixel_weights(synthetic_folder):
    pairs = folder_pairs(synthetic_folder)
    weighted = SkinDataset(pairs, SIZE, transform=eval_transform(SIZE), weights=[2.0] * len(pairs))
    with pytest.raises(ValueError, match="weights"):
        CollageDataset(weighted, backgrounds())
