"""The segmentation networks: a name -> architecture registry, the paper's presets and `build_model`.

    >>> model = build_model("dense-res-unet", widths=(16, 32, 64, 96), fc_dim=128, fc_grid=4)  # a desktop variant
    >>> same = build_from_config(model.config)

Presets reproduce the three networks of Table I at their 128x128 training size. The paper gives U-Net Large's
numbers (fully-connected 1450, convolutions 45 / 90 / 180) and the total parameter counts only; the other widths
and fully-connected sizes here are chosen so the counts land near Table I (7.5M, 150M, 149.9M). Most of those
parameters sit in the bottleneck's fully-connected layer, which is why a desktop variant with a small fc_dim and
fc_grid is a hundred times smaller from the same code.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import torch

from skinseg_core.models.base import SegmentationNet, scores_to_probabilities
from skinseg_core.models.dense_res_unet import DenseResUNet
from skinseg_core.models.unet import UNet

__all__ = [
    "ARCHITECTURES",
    "PRESETS",
    "settings_for",
    "with_absolute_colour",
    "DenseResUNet",
    "SegmentationNet",
    "UNet",
    "build_from_config",
    "build_model",
    "preset_names",
    "scores_to_probabilities",
]

ARCHITECTURES: dict[str, type[SegmentationNet]] = {cls.arch: cls for cls in (UNet, DenseResUNet)}

# Depth 3 (three 2x down-samplings): at the 128 training size the bottleneck is 16x16, so fc_grid = 16 makes
# the pooling before the fully-connected layer the identity.
_PAPER_COMMON: dict[str, Any] = {"fc_grid": 16, "dropout": 0.5, "noise_std": 0.025, "input_size": 128}

PRESETS: dict[str, dict[str, Any]] = {
    # "U-Net": the same filters as the Dense Residual U-Net, a small fully-connected layer. ~7.5M parameters.
    "unet": {"arch": "unet", "widths": (32, 64, 128, 128), "fc_dim": 90, **_PAPER_COMMON},
    # "U-Net Large": fully-connected 1450, convolutions 45 / 90 / 180 (the bottleneck level also 180). ~150M.
    "unet-large": {"arch": "unet", "widths": (45, 90, 180, 180), "fc_dim": 1450, **_PAPER_COMMON},
    # Dense Residual U-Net: dense blocks of 3 convolutions, 4 residual blocks. ~149.9M.
    "dense-res-unet": {
        "arch": "dense-res-unet",
        "widths": (32, 64, 128, 128),
        "fc_dim": 2224,
        **_PAPER_COMMON,
        "dense_layers": 3,
        "residual_blocks": 4,
        "residual_width": 32,
    },
}


def preset_names() -> list[str]:
    """Names accepted by `build_model` as presets, smallest first: ["unet", "unet-large", "dense-res-unet"]."""
    return list(PRESETS)


def _valid_kwargs(cls: type[SegmentationNet]) -> list[str]:
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def _instantiate(arch: str, kwargs: dict[str, Any], what: str) -> SegmentationNet:
    cls = ARCHITECTURES[arch]
    valid = _valid_kwargs(cls)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown setting(s) {', '.join(map(repr, unknown))} for {what} (architecture {arch!r}); "
            f"valid settings are: {', '.join(valid)}"
        )
    return cls(**kwargs)


def _architecture_of(name: str) -> str:
    """The architecture behind a preset or architecture name; an unknown name lists the valid ones."""
    if name in PRESETS:
        return PRESETS[name]["arch"]
    if name in ARCHITECTURES:
        return name
    valid = sorted(set(PRESETS) | set(ARCHITECTURES))
    raise ValueError(f"unknown model {name!r}; valid names are: {', '.join(valid)}")


def settings_for(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The part of `settings` that model `name` (preset or architecture) accepts: lets one size description (e.g.
    the bundled model's, with Dense Residual U-Net extras) build every architecture at that size."""
    valid_keys = set(_valid_kwargs(ARCHITECTURES[_architecture_of(name)]))
    return {k: v for k, v in settings.items() if k in valid_keys}


def build_model(name: str, seed: int | None = None, **overrides: Any) -> SegmentationNet:
    """Build a network from a preset or an architecture name, with any of its settings overridden.

    Args:
        name: a preset ("unet", "unet-large", "dense-res-unet") or an architecture name ("unet",
            "dense-res-unet"); a name that is both means the preset, which for these two equals the
            architecture's defaults.
        seed: draw the initial weights from this seed (torch's global generator is left as it was), so that a
            training run starts from the same network every time; None draws them from torch's global generator.
            Training seeds its generators only after the network exists, so a run that builds its network without
            a seed is not repeatable (docs/adr/0014).
        **overrides: init kwargs of the architecture (widths, fc_dim, fc_grid, dropout, noise_std, input_size;
            dense-res-unet also dense_layers, residual_blocks, residual_width).

    Returns:
        A freshly initialised `SegmentationNet` in train mode, on the current default device.

    Raises:
        ValueError: unknown name (the message lists the valid names), unknown setting (it lists the valid
            settings) or an invalid value.
    """
    arch = _architecture_of(name)
    kwargs = {k: v for k, v in PRESETS.get(name, {}).items() if k != "arch"}
    kwargs.update(overrides)
    if seed is None:
        return _instantiate(arch, kwargs, f"model {name!r}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _instantiate(arch, kwargs, f"model {name!r}")


def build_from_config(config: dict[str, Any]) -> SegmentationNet:
    """Rebuild a network (freshly initialised) from `model.config`; load its state_dict afterwards.

    Args:
        config: {"arch": ..., init kwargs}, e.g. read back from a checkpoint's JSON.

    Raises:
        ValueError: config has no "arch", an unknown arch, or unknown settings.
    """
    if not isinstance(config, dict) or "arch" not in config:
        raise ValueError(
            f"a model config needs an 'arch' entry (one of: {', '.join(ARCHITECTURES)}); got {config!r}"
        )
    arch = config["arch"]
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r} in model config; valid are: {', '.join(ARCHITECTURES)}")
    kwargs = {k: v for k, v in config.items() if k != "arch"}
    return _instantiate(arch, kwargs, "the model config")


def with_absolute_colour(model: SegmentationNet) -> SegmentationNet:
    """A copy of `model` that also takes the absolute R, G, B channels (9 inputs) and, until trained, computes
    exactly what `model` computes: the weights that read the new channels start at zero.

    Every layer that reads the network input sees it first in its concatenation (dense blocks concatenate
    [input, features...]), so in such a layer's weights the 6 input columns stay in front, 3 zero columns follow,
    and the feature columns move up by 3.
    """
    if getattr(model, "absolute_colour", False):
        return copy.deepcopy(model)
    wide = build_from_config({**model.config, "absolute_colour": True})
    old, new = model.state_dict(), wide.state_dict()
    for key, target in new.items():
        source = old[key]
        if source.shape == target.shape:
            new[key] = source.clone()
        elif source.ndim == 4 and target.shape[1] == source.shape[1] + 3 and target.shape[0] == source.shape[0]:
            widened = torch.zeros_like(target)
            widened[:, :6] = source[:, :6]
            widened[:, 9:] = source[:, 6:]
            new[key] = widened
        else:
            raise ValueError(f"cannot widen {key}: {tuple(source.shape)} -> {tuple(target.shape)}")
    wide.load_state_dict(new)
    return wide


def blended(start: SegmentationNet, tuned: SegmentationNet, alpha: float) -> SegmentationNet:
    """A copy of `tuned` with weights (1 - alpha) * start + alpha * tuned: weight-space ensembling of a model and its
    own fine-tuned version (WiSE-FT, Wortsman et al., CVPR 2022), which keeps much of what fine-tuning gained while
    giving back less of what the starting model knew. Any integer tensors are taken from `tuned`."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    if start.config != tuned.config:
        raise ValueError("only two versions of the same network can be blended; their configs differ")
    mixed = copy.deepcopy(tuned)
    first, second = start.state_dict(), tuned.state_dict()
    mixed.load_state_dict({
        key: torch.lerp(first[key].float(), value.float(), alpha).to(value.dtype) if value.is_floating_point()
        else value.clone()
        for key, value in second.items()
    })
    return mixed
