"""The networks: shapes at any size, gradients, config round trips, paper presets, FLOP counting."""

from __future__ import annotations

import json
import warnings

import pytest
import torch
from torch import nn

from skinseg_core.flops import count_parameters, forward_gflops
from skinseg_core.models import (
    PRESETS,
    SegmentationNet,
    build_from_config,
    build_model,
    preset_names,
    scores_to_probabilities,
)
from skinseg_core.models.blocks import GaussianNoise, ResidualBlock

# Table I of the paper, at the 128x128 training size.
TABLE_I_PARAMS = {"unet": 7.5e6, "unet-large": 150e6, "dense-res-unet": 149.9e6}

# Every preset shrunk to a few thousand parameters: the same code paths, milliseconds per pass.
TINY = {"widths": (4, 8, 12), "fc_dim": 8, "fc_grid": 2}
TINY_DENSE = {**TINY, "dense_layers": 2, "residual_width": 4}


def tiny(name: str, **overrides) -> SegmentationNet:
    base = TINY_DENSE if PRESETS[name]["arch"] == "dense-res-unet" else TINY
    return build_model(name, **{**base, **overrides})


def six_channel(batch: int, height: int, width: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(batch, 6, height, width, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(params=sorted(PRESETS))
def preset(request) -> str:
    return request.param


def test_preset_names_are_the_papers_three():
    assert preset_names() == ["unet", "unet-large", "dense-res-unet"]
    for name, kwargs in PRESETS.items():
        assert kwargs["arch"] in ("unet", "dense-res-unet"), name
        assert kwargs["input_size"] == 128
        # At the training size the pooling before the fully-connected layer is the identity.
        assert kwargs["fc_grid"] * 2 ** (len(kwargs["widths"]) - 1) == 128


def test_forward_and_backward(preset):
    torch.manual_seed(0)
    model = tiny(preset).train()
    x = six_channel(2, 32, 32)
    scores = model(x)
    assert scores.shape == (2, 1, 32, 32)
    assert scores.dtype == torch.float32
    scores_to_probabilities(scores).mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters without gradient: {missing}"
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


@pytest.mark.parametrize("height, width", [(33, 33), (63, 63), (33, 63), (1, 1), (5, 100)])
def test_any_input_size_gives_scores_of_that_size(preset, height, width):
    model = tiny(preset).eval()
    with torch.no_grad():
        scores = model(six_channel(1, height, width))
    assert scores.shape == (1, 1, height, width)
    assert torch.isfinite(scores).all()


def test_odd_sizes_are_zero_padded_bottom_right_then_cropped_back():
    # 33 pads to 36 at depth 2; the crop must keep rows/columns 0..32, i.e. the top-left, where the photo is.
    model = tiny("unet").eval()
    x = six_channel(1, 36, 36)
    with torch.no_grad():
        padded_by_hand = model(torch.nn.functional.pad(x[:, :, :33, :33], [0, 3, 0, 3]))
        cropped = model(x[:, :, :33, :33])
    torch.testing.assert_close(cropped, padded_by_hand[:, :, :33, :33])


@pytest.mark.parametrize("channels", [3, 1, 7])
def test_wrong_channel_count_says_what_to_do(channels):
    model = tiny("dense-res-unet")
    with pytest.raises(ValueError, match=rf"expected 6 channels \(RGB\+HSV, see skinseg_core\.preprocess\.network_input\), got {channels}"):
        model(torch.zeros(1, channels, 16, 16))


def test_missing_batch_dimension_is_an_error():
    with pytest.raises(ValueError, match="unsqueeze"):
        tiny("unet")(torch.zeros(6, 16, 16))


def test_config_round_trip_gives_identical_outputs(preset):
    model = tiny(preset).eval()
    config = json.loads(json.dumps(model.config))  # as a checkpoint stores it
    assert config["arch"] == PRESETS[preset]["arch"]
    rebuilt = build_from_config(config)
    assert type(rebuilt) is type(model)
    assert rebuilt.config == model.config
    rebuilt.load_state_dict(model.state_dict())
    rebuilt.eval()
    x = six_channel(2, 40, 24)
    with torch.no_grad():
        assert torch.equal(model(x), rebuilt(x))


def test_config_lists_every_init_setting():
    model = build_model("dense-res-unet", **TINY_DENSE)
    assert set(model.config) == {
        "arch", "widths", "fc_dim", "fc_grid", "dropout", "noise_std", "input_size",
        "dense_layers", "residual_blocks", "residual_width",
    }  # fmt: skip
    assert model.config["widths"] == [4, 8, 12]
    model.config["widths"].append(99)  # a copy: editing it must not change the model's record
    assert model.config["widths"] == [4, 8, 12]


def test_train_mode_is_stochastic_and_eval_mode_deterministic(preset):
    model = tiny(preset)
    x = six_channel(1, 32, 32)
    model.train()
    with torch.no_grad():
        assert not torch.equal(model(x), model(x))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), model(x))


def test_noise_and_dropout_sit_where_the_paper_puts_them():
    model = build_model("dense-res-unet", **TINY_DENSE)
    depth = len(TINY_DENSE["widths"]) - 1
    noises = [m for m in model.modules() if isinstance(m, GaussianNoise)]
    dropouts = [m for m in model.modules() if isinstance(m, nn.Dropout)]
    # Noise before every dense encoding block, bottleneck included.
    assert len(noises) == depth + 1 and all(n.std == 0.025 for n in noises)
    # Dropout on the last encoding block, the fully-connected layer and each decoding block.
    assert len(dropouts) == 1 + 1 + depth and all(d.p == 0.5 for d in dropouts)
    assert len([m for m in model.modules() if isinstance(m, ResidualBlock)]) == 4


def test_fully_convolutional_variant_has_no_fc_layer():
    model = build_model("unet", widths=(4, 8), fc_dim=0)
    assert not any(isinstance(m, nn.Linear) for m in model.modules())
    assert model(six_channel(1, 9, 9)).shape == (1, 1, 9, 9)


def test_predict_gives_probabilities_and_keeps_the_mode():
    model = tiny("dense-res-unet").train()
    x = six_channel(2, 20, 20)
    prob = model.predict(x)
    assert prob.shape == (2, 1, 20, 20)
    assert 0.0 <= prob.min() and prob.max() <= 1.0
    assert model.training  # restored
    torch.testing.assert_close(prob, model.predict(x))  # eval mode: no noise, no dropout


def test_scores_to_probabilities_is_the_rescaled_tanh():
    scores = torch.tensor([-100.0, -1.0, 0.0, 1.0, 100.0])
    expected = (torch.tanh(scores) + 1) / 2
    torch.testing.assert_close(scores_to_probabilities(scores), expected)
    assert scores_to_probabilities(torch.tensor(0.0)) == 0.5


def test_build_model_accepts_architecture_names_and_overrides():
    model = build_model("dense-res-unet", widths=[8, 16], fc_dim=4, fc_grid=1, residual_blocks=2, residual_width=4)
    assert model.config["arch"] == "dense-res-unet"
    assert model.config["residual_blocks"] == 2
    assert model.config["widths"] == [8, 16]
    large = build_model("unet-large", widths=(4, 8), fc_dim=4)
    assert large.config["arch"] == "unet"


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown model 'resnet'") as info:
        build_model("resnet")
    for name in ("unet", "unet-large", "dense-res-unet"):
        assert name in str(info.value)


def test_unknown_setting_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'residual_width'") as info:
        build_model("unet", residual_width=8)  # a dense-res-unet setting
    assert "fc_dim" in str(info.value) and "widths" in str(info.value)
    with pytest.raises(ValueError, match="unknown architecture"):
        build_from_config({"arch": "segformer"})
    with pytest.raises(ValueError, match="'arch'"):
        build_from_config({"widths": [4, 8]})


@pytest.mark.parametrize(
    "overrides",
    [{"widths": (8,)}, {"widths": (8, 0)}, {"fc_dim": -1}, {"fc_grid": 0}, {"dropout": 1.0}, {"noise_std": -0.1}],
)
def test_bad_settings_are_refused(overrides):
    with pytest.raises(ValueError):
        build_model("unet", **overrides)


def test_channels_last_gives_the_same_scores():
    model = tiny("dense-res-unet").eval()
    x = six_channel(1, 32, 32)
    with torch.no_grad():
        reference = model(x)
        fast = model.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(fast, reference, rtol=1e-4, atol=1e-5)


def test_torchscript_compiles_and_matches(preset):
    model = tiny(preset).eval()
    x = six_channel(1, 33, 21)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit is deprecated, yet still what some deployments use
        scripted = torch.jit.script(model)
    with torch.no_grad():
        torch.testing.assert_close(scripted(x), model(x))


@pytest.mark.parametrize("name", sorted(TABLE_I_PARAMS))
def test_paper_presets_match_table_i_parameter_counts(name):
    with torch.device("meta"):  # shapes only: a 150M-parameter net costs no memory or time here
        model = build_model(name)
    params = count_parameters(model)
    assert abs(params - TABLE_I_PARAMS[name]) <= 0.10 * TABLE_I_PARAMS[name], f"{name}: {params:,}"


def test_unet_large_has_the_papers_fc_and_filters():
    assert PRESETS["unet-large"]["fc_dim"] == 1450
    assert PRESETS["unet-large"]["widths"][:3] == (45, 90, 180)


def test_count_parameters():
    model = nn.Sequential(nn.Conv2d(6, 4, 3), nn.Linear(4, 2))
    assert count_parameters(model) == 6 * 4 * 9 + 4 + 4 * 2 + 2
    model[1].requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == 6 * 4 * 9 + 4


def test_forward_gflops_scale_with_the_area_for_a_fully_convolutional_net():
    model = build_model("dense-res-unet", widths=(4, 8, 16), fc_dim=0, dense_layers=2, residual_width=4).train()
    small, large = forward_gflops(model, 128), forward_gflops(model, 256)
    assert small > 0
    assert large / small == pytest.approx(4.0, rel=0.02)
    assert model.training  # restored


def test_forward_gflops_of_a_paper_preset_on_meta():
    with torch.device("meta"):
        model = build_model("unet")
    gflops = forward_gflops(model, 128)
    assert 1.0 < gflops < 100.0


def test_absolute_colour_widens_the_input_to_nine_channels(preset):
    from skinseg_core.models import with_absolute_colour
    from skinseg_core.preprocess import model_input

    narrow = tiny(preset).eval()
    wide = with_absolute_colour(narrow).eval()
    assert (narrow.in_channels, wide.in_channels) == (6, 9)
    assert wide.config["absolute_colour"] is True and "absolute_colour" not in narrow.config
    rgb = torch.rand(2, 3, 24, 40, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        # The new weights start at zero: the widened net computes what the narrow one did, whatever the colour.
        assert torch.allclose(narrow(model_input(narrow, rgb)), wide(model_input(wide, rgb)), atol=1e-5)
        rebuilt = build_from_config(wide.config)
        rebuilt.load_state_dict(wide.state_dict())
        assert torch.equal(rebuilt.eval()(model_input(rebuilt, rgb)), wide(model_input(wide, rgb)))
    with pytest.raises(ValueError, match=r"expected 9 channels"):
        wide(six_channel(1, 16, 16))
    scores = wide.train()(model_input(wide, rgb))
    scores.mean().backward()
    first_conv = next(p for p in wide.parameters() if p.ndim == 4)
    assert first_conv.shape[1] == 9 and first_conv.grad[:, 6:9].abs().sum() > 0, "the new channels learn"


def test_blending_two_versions_of_a_network_interpolates_their_weights(preset):
    from skinseg_core.models import blended

    torch.manual_seed(0)
    start = tiny(preset).eval()
    torch.manual_seed(1)
    tuned = tiny(preset).eval()
    x = six_channel(1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(blended(start, tuned, 0.0)(x), start(x), atol=1e-6)
        assert torch.allclose(blended(start, tuned, 1.0)(x), tuned(x), atol=1e-6)
        half = blended(start, tuned, 0.5).state_dict()
    for key, value in tuned.state_dict().items():
        if value.is_floating_point():
            assert torch.allclose(half[key], (start.state_dict()[key] + value) / 2, atol=1e-6), key
    with pytest.raises(ValueError, match="configs differ"):
        blended(start, tiny(preset, dropout=0.1), 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        blended(start, tuned, 1.5)


def test_a_seed_gives_the_same_initial_network_and_leaves_torchs_generator_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    first = build_model("dense-res-unet", seed=7, widths=(4, 8), fc_dim=8, fc_grid=2, input_size=32)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's random numbers do not change
    again = build_model("dense-res-unet", seed=7, widths=(4, 8), fc_dim=8, fc_grid=2, input_size=32)
    other = build_model("dense-res-unet", seed=8, widths=(4, 8), fc_dim=8, fc_grid=2, input_size=32)
    for key, value in first.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])
    assert any(not torch.equal(v, other.state_dict()[k]) for k, v in first.state_dict().items())
