"""Lesion spots in training: red, purple or brown spots painted on a share of items' skin, which stays skin."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from skinseg_core.lesion_spots import LesionSpotDataset, random_spots, spot_region

from .conftest import LIGHT_SKIN, recoloured_items, skin_disc, training_inputs

SIZE = 64


def _photo() -> tuple[np.ndarray, np.ndarray]:
    return skin_disc(20, size=SIZE)


def test_a_spot_is_a_blob_of_about_its_radius_inside_the_skin():
    _, mask = _photo()
    skin = mask > 0.5
    rng = np.random.default_rng(0)
    for _ in range(10):
        region = spot_region(skin, (32, 32), 6.0, rng)
        assert region.any() and not (region & ~skin).any(), "a spot never leaves the skin"
        # Its axes are drawn up to radius / 0.6 and its outline is ragged: well within 4x that ellipse's area.
        assert 20 < region.sum() < 4 * np.pi * (6.0 / 0.6) ** 2, "about the drawn radius"
    edge = spot_region(skin, (32, 12), 6.0, rng)  # centred on the disc's left edge: cut by it
    assert edge.any() and edge[:, :12].sum() < edge[:, 12:].sum()


def test_spots_are_redder_or_darker_than_the_skin_and_leave_the_background_alone():
    image, mask = _photo()
    rng = np.random.default_rng(1)
    for _ in range(10):
        spotted = random_spots(image, mask, rng)
        assert spotted is not None and spotted.dtype == np.float32
        # The spots' edges are feathered (skin_tone.FEATHER_SIGMA): beyond a few pixels of the skin nothing moves.
        far = cv2.distanceTransform((mask < 0.5).astype(np.uint8), cv2.DIST_L2, 3) > 4
        assert np.abs(spotted[:, far] - image[:, far]).max() < 0.01, "the background is untouched"
        changed = (np.abs(spotted - image).sum(axis=0) > 0.05) & (mask > 0.5)
        assert changed.any()
        colour = spotted[:, changed].mean(axis=1)
        # More blood or melanin: less green (and blue) than the skin, relative to red, and no brighter.
        assert colour[1] / colour[0] < LIGHT_SKIN[1] / LIGHT_SKIN[0] and colour.sum() < LIGHT_SKIN.sum()


def test_items_with_little_skin_are_left_alone():
    image = np.full((3, SIZE, SIZE), 0.5, np.float32)
    mask = np.zeros((SIZE, SIZE), np.float32)
    mask[:5, :5] = 1
    assert random_spots(image, mask, np.random.default_rng(0)) is None


def test_dataset_paints_spots_on_the_skin_and_keeps_masks_and_weights(discs):
    for (image, _, _), plain in recoloured_items(LesionSpotDataset, discs):
        skin = plain[1][0] > 0
        assert not torch.allclose(image[:, skin], plain[0][:, skin]), "the skin has spots"


def test_lesion_spots_setting_changes_what_the_network_sees_in_training(tmp_path):
    seen = training_inputs(tmp_path, "lesion_spots")
    assert len(seen[0.0]) == len(seen[1.0]) == 2
    assert not all(torch.allclose(a, b) for a, b in zip(seen[0.0], seen[1.0]))
