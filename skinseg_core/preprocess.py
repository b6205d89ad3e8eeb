"""The network's input: RGB plus HSV, each channel standardised per image (Codella et al. 2018, Sec. II-A).

Everything here is plain torch so that it runs wherever the model runs (CPU, CUDA, MPS) and inside a
training step, without a round trip through numpy or OpenCV.
"""

from __future__ import annotations

import torch

NORMALISATION = "rgb+hsv, per-image per-channel standardisation"
"""Recorded in checkpoint configs, so a checkpoint says which input transform its weights expect."""
NORMALISATION_ABSOLUTE = NORMALISATION + "; plus absolute rgb, (rgb - 0.5) / 0.25"

# Absolute colour channels are scaled with these fixed numbers (not per image), so they keep the colour itself.
ABSOLUTE_MEAN = 0.5
ABSOLUTE_SCALE = 0.25

NETWORK_CHANNELS = ("R", "G", "B", "H", "S", "V")
"""Channel order of `network_input`'s output, as in Fig. 2 of the paper."""

# A channel whose standard deviation is below this is treated as constant and set to zero. Dividing by a tiny
# std would blow float32 rounding noise (~1e-7 around the mean of a constant channel) up to values of order 1;
# real photo channels vary in steps of 1/255, far above this.
_MIN_STD = 1e-5


def _check_rgb(rgb: torch.Tensor) -> None:
    if not isinstance(rgb, torch.Tensor):
        raise TypeError(f"expected a torch.Tensor of shape [B,3,H,W], got {type(rgb).__name__}")
    if rgb.ndim != 4 or rgb.shape[1] != 3:
        raise ValueError(
            f"expected an RGB batch of shape [B,3,H,W], got shape {list(rgb.shape)}; "
            "add a batch dimension with rgb.unsqueeze(0) and put channels first (permute(2, 0, 1))"
        )
    if not rgb.is_floating_point():
        raise ValueError(
            f"expected floating-point RGB in [0, 1], got dtype {rgb.dtype}; convert 8-bit images with .float() / 255"
        )


def rgb_to_hsv(rgb: torch.Tensor) -> torch.Tensor:
    """Convert RGB to HSV like `colorsys.rgb_to_hsv`, batched, in torch, never producing NaN.

    Args:
        rgb: float [B,3,H,W] with values in [0, 1].

    Returns:
        float [B,3,H,W]: hue as a fraction of the turn in [0, 1) (red 0, green 1/3, blue 2/3), saturation and
        value in [0, 1]. Grey pixels (no chroma) get hue 0 and saturation 0, black pixels also value 0.
    """
    _check_rgb(rgb)
    r, g, b = rgb.unbind(dim=1)
    max_c, _ = rgb.max(dim=1)
    min_c, _ = rgb.min(dim=1)
    delta = max_c - min_c
    has_chroma = delta > 0
    # Substitute 1 where the divisor is 0 so that no inf/NaN is ever produced (NaN would leak into gradients
    # through torch.where); those pixels are overwritten below anyway.
    safe_delta = torch.where(has_chroma, delta, torch.ones_like(delta))
    safe_max = torch.where(max_c > 0, max_c, torch.ones_like(max_c))

    hue_if_r = torch.remainder((g - b) / safe_delta, 6.0)
    hue_if_g = (b - r) / safe_delta + 2.0
    hue_if_b = (r - g) / safe_delta + 4.0
    # Ties resolve as in colorsys: red first, then green.
    hue = torch.where(max_c == r, hue_if_r, torch.where(max_c == g, hue_if_g, hue_if_b))
    hue = torch.where(has_chroma, hue / 6.0, torch.zeros_like(hue))
    # remainder() can return exactly 6.0 for tiny negative inputs in float32; fold it back onto 0.
    hue = torch.where(hue >= 1.0, hue - 1.0, hue)
    saturation = torch.where(max_c > 0, delta / safe_max, torch.zeros_like(delta))
    return torch.stack((hue, saturation, max_c), dim=1)


def standardise_per_image(x: torch.Tensor) -> torch.Tensor:
    """Subtract each image's per-channel mean and divide by its per-channel standard deviation.

    Args:
        x: float [B,C,H,W].

    Returns:
        float [B,C,H,W] with mean 0 and (population) std 1 per image and channel; a constant channel, such as
        the saturation of a grey photo, becomes all zeros instead of NaN.
    """
    mean = x.mean(dim=(-2, -1), keepdim=True)
    centred = x - mean
    std = centred.square().mean(dim=(-2, -1), keepdim=True).sqrt()
    varies = std > _MIN_STD
    safe_std = torch.where(varies, std, torch.ones_like(std))
    return torch.where(varies, centred / safe_std, torch.zeros_like(centred))


def network_input(rgb: torch.Tensor, absolute_colour: bool = False) -> torch.Tensor:
    """Build the six-channel network input of the paper from an RGB batch (nine with `absolute_colour`).

    Per-image standardisation removes each photo's average colour. In a close-up that skin fills, that average
    is the skin colour, and what is left is shading and texture, which the network cannot tell from a wall or
    sand; the colour rules, which see absolute colour, win there. `absolute_colour` appends R, G, B scaled with
    fixed numbers, so the network sees both the paper's relative channels and the colour itself.

    Args:
        rgb: float [B,3,H,W] in [0, 1], on any device. Other float dtypes are computed in float32.
        absolute_colour: append (rgb - 0.5) / 0.25 as channels 7-9.

    Returns:
        float32 [B,6,H,W] on rgb's device: R, G, B, H, S, V (HSV in [0, 1], hue as a fraction of the turn), each
        channel standardised per image (see `standardise_per_image`); [B,9,H,W] with the absolute R, G, B after.

    Raises:
        ValueError: rgb is not a floating-point [B,3,H,W] tensor.
    """
    _check_rgb(rgb)
    rgb = rgb.to(torch.float32)
    six = standardise_per_image(torch.cat((rgb, rgb_to_hsv(rgb)), dim=1))
    if not absolute_colour:
        return six
    return torch.cat((six, (rgb - ABSOLUTE_MEAN) / ABSOLUTE_SCALE), dim=1)


def model_input(model: torch.nn.Module, rgb: torch.Tensor) -> torch.Tensor:
    """`network_input` with the channels `model` was built for (see SegmentationNet.absolute_colour)."""
    return network_input(rgb, absolute_colour=bool(getattr(model, "absolute_colour", False)))
