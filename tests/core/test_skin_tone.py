"""Skin tone: training items whose skin is re-coloured (melanin and blood), the rest of the photo untouched."""

from __future__ import annotations

import numpy as np
import torch

from skinseg_core.data import SkinDataset
from skinseg_core.skin_tone import BLOOD_RANGE, MELANIN_RANGE, SkinToneDataset, random_pigments, retone_skin
from tests.conftest import disc_mask

from .conftest import LIGHT_SKIN, recoloured_items, skin_disc, training_inputs

SIZE = 64


def _photo() -> tuple[np.ndarray, np.ndarray]:
    return skin_disc(18, size=SIZE)


def test_more_melanin_darkens_skin_into_brown_and_less_pales_it():
    image, mask = _photo()
    dark = retone_skin(image, mask, 2.5)[:, 32, 32]
    pale = retone_skin(image, mask, -0.6)[:, 32, 32]
    assert np.all(dark < LIGHT_SKIN) and np.all(pale > LIGHT_SKIN)
    # Brown, not grey: blue falls most, so the skin grows redder relative to blue; paler skin grows less saturated.
    assert dark[0] / dark[2] > LIGHT_SKIN[0] / LIGHT_SKIN[2]
    assert pale[0] / pale[2] < LIGHT_SKIN[0] / LIGHT_SKIN[2]
    assert np.allclose(retone_skin(image, mask, 0.0), image, atol=1e-5)


def test_more_blood_reddens_skin_and_less_turns_it_yellow_green():
    image, mask = _photo()
    red = retone_skin(image, mask, 0.0, 1.2)[:, 32, 32]
    pale = retone_skin(image, mask, 0.0, -0.5)[:, 32, 32]
    # Haemoglobin absorbs green most and red least.
    assert red[0] / red[1] > LIGHT_SKIN[0] / LIGHT_SKIN[1] and red[0] > 0.75  # red light passes
    assert pale[1] > LIGHT_SKIN[1] and pale[0] / pale[1] < LIGHT_SKIN[0] / LIGHT_SKIN[1]


def test_only_the_skin_changes():
    image, mask = _photo()
    toned = retone_skin(image, mask, 2.0)
    far_from_skin = disc_mask(SIZE, 32, 32, 26) == 0  # the feathered edge reaches a few pixels out
    assert np.allclose(toned[:, far_from_skin], image[:, far_from_skin], atol=1e-4)
    assert toned.dtype == np.float32 and toned.min() >= 0 and toned.max() <= 1


def test_patchy_pigments_vary_across_the_skin_within_range():
    rng = np.random.default_rng(0)
    draws = [random_pigments((SIZE, SIZE), rng) for _ in range(40)]
    patchy = [d for d in draws if isinstance(d[0], np.ndarray)]
    assert 8 < len(patchy) < 32, "about half the items are patchy"
    assert all(isinstance(blood, np.ndarray) for _, blood in patchy), "both pigments vary together"
    assert all(m.shape == (SIZE, SIZE) and m.std() > 0.05 for m, _ in patchy)
    for which, (low, high) in enumerate((MELANIN_RANGE, BLOOD_RANGE)):
        values = np.concatenate([np.ravel(d[which]) for d in draws])
        assert low - 1e-6 <= values.min() and values.max() <= high + 1e-6
    image, mask = _photo()
    toned = retone_skin(image, mask, *patchy[0])
    assert np.ptp(toned[0, 25:40, 25:40]) > 0.02, "a patchy tone leaves lighter and darker parts"


def test_dataset_retones_the_drawn_items_and_keeps_masks_and_weights(discs):
    for (image, _, _), plain in recoloured_items(SkinToneDataset, discs):
        skin = plain[1][0] > 0
        assert not torch.allclose(image[:, skin], plain[0][:, skin]), "the skin is re-coloured"
def test_reseeding_repeats_the_draws(discs):
    toned = SkinToneDataset(SkinDataset(discs, SIZE, cache_long_side=96), probability=0.5)
    toned.reseed(9)
    first = [toned[i][0] for i in range(len(toned))]
    toned.reseed(9)
    assert all(torch.equal(a, toned[i][0]) for i, a in enumerate(first))


def test_skin_tone_setting_recolours_what_the_network_sees_in_training(tmp_path):
    seen = training_inputs(tmp_path, "skin_tone", channels=slice(6, None), absolute_colour=True)
    # Same photos and augmentations drawn; with the setting on, the absolute colour the network reads differs.
    assert len(seen[0.0]) == len(seen[1.0]) == 2
    assert not all(torch.allclose(a, b) for a, b in zip(seen[0.0], seen[1.0]))
