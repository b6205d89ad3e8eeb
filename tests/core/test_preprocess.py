"""The network input: RGB + HSV, standardised per image and per channel."""

from __future__ import annotations

import colorsys

import pytest
import torch

from skinseg_core.preprocess import NORMALISATION, network_input, rgb_to_hsv


def rgb_pixels(*colours: tuple[float, float, float]) -> torch.Tensor:
    """[1,3,1,N] batch holding the given colours side by side."""
    return torch.tensor(colours, dtype=torch.float32).T.reshape(1, 3, 1, len(colours))


def test_shape_dtype_and_device():
    rgb = torch.rand(2, 3, 17, 31)
    x = network_input(rgb)
    assert x.shape == (2, 6, 17, 31)
    assert x.dtype == torch.float32
    assert x.device == rgb.device
    assert network_input(rgb.double()).dtype == torch.float32


def test_every_channel_is_standardised_per_image():
    rgb = torch.rand(3, 3, 40, 50, generator=torch.Generator().manual_seed(1))
    rgb[1] = rgb[1] * 0.2 + 0.7  # a second image with another brightness and contrast
    x = network_input(rgb)
    torch.testing.assert_close(x.mean(dim=(-2, -1)), torch.zeros(3, 6), atol=1e-5, rtol=0)
    torch.testing.assert_close(x.std(dim=(-2, -1), unbiased=False), torch.ones(3, 6), atol=1e-4, rtol=0)


def test_constant_channels_become_zeros_not_nan():
    # A grey photo: R = G = B vary together, so hue and saturation are constant.
    grey = torch.rand(1, 1, 20, 20).expand(1, 3, 20, 20)
    x = network_input(grey)
    assert torch.isfinite(x).all()
    assert torch.equal(x[:, 3:5], torch.zeros(1, 2, 20, 20))  # H, S
    assert x[:, 5].std() > 0.5  # V still carries the picture
    flat = network_input(torch.full((1, 3, 8, 8), 0.5))
    assert torch.equal(flat, torch.zeros(1, 6, 8, 8))


@pytest.mark.parametrize(
    "rgb, hsv",
    [
        ((1.0, 0.0, 0.0), (0.0, 1.0, 1.0)),
        ((0.0, 1.0, 0.0), (1 / 3, 1.0, 1.0)),
        ((0.0, 0.0, 1.0), (2 / 3, 1.0, 1.0)),
        ((1.0, 1.0, 1.0), (0.0, 0.0, 1.0)),
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
        ((0.5, 0.25, 0.25), (0.0, 0.5, 0.5)),
        ((1.0, 0.0, 1.0), (5 / 6, 1.0, 1.0)),
    ],
)
def test_hsv_of_known_colours(rgb, hsv):
    got = rgb_to_hsv(rgb_pixels(rgb)).flatten()
    torch.testing.assert_close(got, torch.tensor(hsv), atol=1e-6, rtol=0)


def test_hsv_matches_colorsys():
    rgb = torch.rand(1, 3, 1, 500, generator=torch.Generator().manual_seed(2))
    rgb[..., :50] = rgb[:, :1, :, :50]  # some grey pixels too
    got = rgb_to_hsv(rgb)[0, :, 0].T
    expected = torch.tensor([colorsys.rgb_to_hsv(*map(float, px)) for px in rgb[0, :, 0].T])
    hue_gap = (got[:, 0] - expected[:, 0]).abs()
    assert torch.minimum(hue_gap, 1 - hue_gap).max() < 1e-5  # hue is circular: 0.999999 and 0 agree
    torch.testing.assert_close(got[:, 1:], expected[:, 1:].float(), atol=1e-6, rtol=0)
    assert (got[:, 0] >= 0).all() and (got[:, 0] < 1).all()


def test_first_channels_are_rgb_then_hsv():
    rgb = torch.rand(1, 3, 10, 10, generator=torch.Generator().manual_seed(3))
    x = network_input(rgb)
    red = (rgb[:, 0] - rgb[:, 0].mean()) / rgb[:, 0].std(unbiased=False)
    value = rgb.max(dim=1).values
    value = (value - value.mean()) / value.std(unbiased=False)
    torch.testing.assert_close(x[:, 0], red, atol=1e-5, rtol=0)
    torch.testing.assert_close(x[:, 5], value, atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", [(3, 8, 8), (1, 4, 8, 8), (1, 1, 8, 8)])
def test_wrong_shape_is_refused(shape):
    with pytest.raises(ValueError, match=r"\[B,3,H,W\]"):
        network_input(torch.rand(shape))


def test_integer_images_are_refused_with_advice():
    with pytest.raises(ValueError, match="255"):
        network_input(torch.zeros(1, 3, 4, 4, dtype=torch.uint8))


def test_normalisation_is_described():
    assert NORMALISATION == "rgb+hsv, per-image per-channel standardisation"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_runs_on_the_gpu_like_on_the_cpu():
    rgb = torch.rand(2, 3, 33, 65)
    torch.testing.assert_close(network_input(rgb.cuda()).cpu(), network_input(rgb), atol=1e-5, rtol=0)


def test_absolute_colour_keeps_what_standardisation_removes():
    # Two close-ups that differ only in their overall colour (skin vs a blue-grey wall with the same shading):
    # the paper's six standardised channels cannot tell them apart; the absolute channels can.
    shading = torch.linspace(0.8, 1.0, 16).reshape(1, 1, 1, 16)
    skin = torch.tensor([0.85, 0.6, 0.5]).reshape(1, 3, 1, 1) * shading
    wall = torch.tensor([0.5, 0.6, 0.85]).reshape(1, 3, 1, 1) * shading
    assert torch.allclose(network_input(skin)[:, :3], network_input(wall)[:, :3], atol=1e-5)
    nine_skin, nine_wall = network_input(skin, absolute_colour=True), network_input(wall, absolute_colour=True)
    assert nine_skin.shape == (1, 9, 1, 16)
    assert torch.equal(nine_skin[:, :6], network_input(skin))
    assert torch.allclose(nine_skin[:, 6:], (skin - 0.5) / 0.25)
    assert (nine_skin[:, 6] - nine_wall[:, 6]).abs().min() > 0.5, "red differs by 0.35 before scaling"
