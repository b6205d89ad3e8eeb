"""Skin-coloured decoys: part of a training item's background painted a skin colour, labelled background."""

from __future__ import annotations

import numpy as np
import torch

from skinseg_core.decoys import DEFAULT_SKIN, DecoyDataset, decoy_region, paint_decoy, random_decoy, skin_colour

from .conftest import LIGHT_SKIN, recoloured_items, skin_disc, training_inputs

SIZE = 64
BLUE_JACKET = np.array([0.20, 0.30, 0.75], np.float32)


def _photo() -> tuple[np.ndarray, np.ndarray]:
    image, mask = skin_disc(14, BLUE_JACKET, SIZE)
    # A fold in the jacket: a darker band, which the decoy must keep.
    image[:, 4:8, :] *= 0.5
    return image, mask


def _hue_distance_to_skin(rgb: np.ndarray) -> float:
    chroma = rgb / rgb.sum()
    return float(np.abs(chroma - LIGHT_SKIN / LIGHT_SKIN.sum()).sum())


def test_region_covers_part_of_the_background_and_never_the_skin():
    image, mask = _photo()
    rng = np.random.default_rng(0)
    for _ in range(20):
        region = decoy_region(mask < 0.5, rng)
        assert region.dtype == np.float32 and region.min() >= 0 and region.max() <= 1
        assert np.all(region[mask > 0.5] == 0), "skin pixels are never painted"
        share = (region > 0.5).sum() / (mask < 0.5).sum()
        assert 0.1 < share < 0.9


def test_painted_background_turns_skin_coloured_and_keeps_its_shading():
    image, mask = _photo()
    region = np.zeros_like(mask)
    region[:16, :] = 1.0  # the top rows: jacket with its dark fold at rows 4-7
    colour = skin_colour(image, mask)
    painted = paint_decoy(image, region, colour)
    before, after = image[:, 12, 32], painted[:, 12, 32]
    assert _hue_distance_to_skin(after) < 0.05 < _hue_distance_to_skin(before), "the jacket takes the skin's colour"
    assert painted[:, 5, 32].mean() < 0.75 * painted[:, 12, 32].mean(), "the fold stays darker"
    assert np.array_equal(painted[:, 20:, :], image[:, 20:, :]), "outside the region nothing changes"


def test_without_enough_skin_the_colour_is_a_light_skin_colour():
    image, mask = _photo()
    none = np.zeros_like(mask)
    assert np.allclose(skin_colour(image, none) ** (1 / 2.2), DEFAULT_SKIN, atol=1e-4)
    assert np.allclose(skin_colour(image, mask) ** (1 / 2.2), LIGHT_SKIN, atol=1e-3)


def test_close_ups_with_almost_no_background_are_left_alone():
    image = np.full((3, SIZE, SIZE), 0.7, np.float32)
    mask = np.ones((SIZE, SIZE), np.float32)
    mask[0, :3] = 0  # 3 background pixels
    assert random_decoy(image, mask, np.random.default_rng(0)) is None


def test_random_decoys_vary_in_colour_and_leave_the_skin_exactly_as_it_was():
    image, mask = _photo()
    rng = np.random.default_rng(1)
    colours = []
    for _ in range(12):
        painted = random_decoy(image, mask, rng)
        assert painted is not None and painted.dtype == np.float32
        assert np.array_equal(painted[:, mask > 0.5], image[:, mask > 0.5])
        changed = np.abs(painted - image).sum(axis=0) > 0.05
        colours.append(painted[:, changed].mean(axis=1))
    reds = [c[0] / c[2] for c in colours]
    assert max(reds) - min(reds) > 0.3, "melanin and blood shift the decoys' colour"


def test_dataset_paints_the_drawn_items_and_keeps_masks_and_weights(discs):
    for (image, _, _), plain in recoloured_items(DecoyDataset, discs):
        background = plain[1][0] < 0.5
        assert not torch.allclose(image[:, background], plain[0][:, background]), "the background is painted"
def test_decoys_setting_changes_what_the_network_sees_in_training(tmp_path):
    seen = training_inputs(tmp_path, "decoys")
    assert len(seen[0.0]) == len(seen[1.0]) == 2
    assert not all(torch.allclose(a, b) for a, b in zip(seen[0.0], seen[1.0]))
