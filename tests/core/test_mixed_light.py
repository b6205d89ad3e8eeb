"""Mixed light in training: a share of items lit by two lights fading into each other, masks unchanged."""

from __future__ import annotations

import numpy as np
import torch

from skinseg_core.mixed_light import MixedLightDataset, light_field, relight_linear, white_gains

from .conftest import recoloured_items, training_inputs

SIZE = 64


def test_black_body_gains_run_from_warm_through_white_to_cool():
    lamp, d65, shade = white_gains(3500), white_gains(6500), white_gains(12000)
    assert np.allclose(d65, 1.0, atol=1e-6), "D65 is white"
    assert lamp[0] == 1.0 and lamp[2] < 0.5 * lamp[0], "a lamp is red and short of blue"
    assert shade[2] == 1.0 and shade[0] < 0.8, "shade is blue and short of red"
    assert np.all((lamp > 0) & (lamp <= 1)) and np.all((shade > 0) & (shade <= 1))


def test_fields_fade_between_two_different_lights_in_drawn_directions():
    rng = np.random.default_rng(0)
    spreads, directions = [], set()
    for _ in range(30):
        field = light_field((48, 64), rng)
        assert field.shape == (3, 48, 64) and field.dtype == np.float32
        assert field.min() > 0 and field.max() <= 1.0 + 1e-6
        # The colour (red over blue) differs across the frame: two lights, not one.
        ratio = field[0] / field[2]
        spreads.append(float(ratio.max() / ratio.min()))
        corners = [ratio[0, 0], ratio[0, -1], ratio[-1, 0], ratio[-1, -1]]
        directions.add(int(np.argmax(corners)))
    assert min(spreads) > 1.2, "every field holds two lights"
    assert len(directions) >= 3, "the warm side is drawn, not always the left"


def test_relighting_changes_colour_not_shape_and_stays_in_range():
    image = np.full((3, SIZE, SIZE), 0.6, np.float32)
    image[:, 20:40, 20:40] = np.array([0.85, 0.65, 0.55], np.float32)[:, None, None]
    field = light_field((SIZE, SIZE), np.random.default_rng(3))
    lit = relight_linear(image, field)
    assert lit.shape == image.shape and lit.min() >= 0 and lit.max() <= 1
    assert not np.allclose(lit, image)
    # The square's edge is still an edge: light multiplies, it does not move anything.
    inside, outside = lit[:, 30, 30], lit[:, 30, 10]
    assert np.abs(inside - outside).sum() > 0.1
    assert np.allclose(relight_linear(image, np.ones((3, 1, 1), np.float32)), image, atol=1e-5)


def test_dataset_relights_the_drawn_items_and_keeps_masks_and_weights(discs):
    for (image, _, _), plain in recoloured_items(MixedLightDataset, discs):
        assert image.dtype == torch.float32 and not torch.allclose(image, plain[0])
def test_mixed_light_setting_changes_what_the_network_sees_in_training(tmp_path):
    seen = training_inputs(tmp_path, "mixed_light")
    assert len(seen[0.0]) == len(seen[1.0]) == 2
    assert not all(torch.allclose(a, b) for a, b in zip(seen[0.0], seen[1.0]))
