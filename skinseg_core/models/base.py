"""`SegmentationNet`, the base of every SkinSeg architecture, and the paper's output re-scaling."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def scores_to_probabilities(scores: Tensor) -> Tensor:
    """The paper's re-scaled hyperbolic tangent: (tanh(s) + 1) / 2.

    Args:
        scores: float [B,1,H,W] from `SegmentationNet.forward` (any shape works).

    Returns:
        float tensor of the same shape, the confidence that each pixel is skin, in [0, 1].
    """
    return (torch.tanh(scores) + 1.0) * 0.5


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


class SegmentationNet(nn.Module):
    """Base of the SkinSeg networks: input checks, padding to the network's stride, config and `predict`.

    Subclasses set `arch`, call `super().__init__` with the shared settings, record all their init kwargs with
    `_record_config` and implement `_forward_padded`. `forward` takes any H, W: the input is zero-padded (zero is
    the mean of the standardised input) at the bottom/right to a multiple of 2**depth and the scores are cropped
    back.

    Attributes:
        in_channels: 6, the R, G, B, H, S, V channels of `skinseg_core.preprocess.network_input`; 9 with
            `absolute_colour` (the absolute R, G, B appended).
        widths: filters per level, the last is the bottleneck.
        depth: number of down-samplings, len(widths) - 1.
        input_size: the square side the network is trained at (inference resizes photos to it).
    """

    arch: ClassVar[str] = ""
    # `config` is Python-side metadata; keep TorchScript from trying to compile it.
    __jit_unused_properties__ = ["config"]

    def __init__(
        self,
        widths: Sequence[int],
        fc_dim: int,
        fc_grid: int,
        dropout: float,
        noise_std: float,
        input_size: int,
        absolute_colour: bool = False,
    ) -> None:
        super().__init__()
        self.absolute_colour = bool(absolute_colour)
        self.in_channels = 9 if self.absolute_colour else 6
        if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) < 2:
            raise ValueError(
                f"widths must be a sequence of at least 2 filter counts (levels, the last is the bottleneck), "
                f"got {widths!r}"
            )
        self.widths: tuple[int, ...] = tuple(_positive_int("every entry of widths", w) for w in widths)
        self.depth: int = len(self.widths) - 1
        # Input sides must be multiples of this for the down-samplings to line up with the skips.
        self.stride: int = 2**self.depth
        if isinstance(fc_dim, bool) or not isinstance(fc_dim, int) or fc_dim < 0:
            raise ValueError(f"fc_dim must be an integer >= 0 (0 = no fully-connected layer), got {fc_dim!r}")
        self.fc_dim = int(fc_dim)
        self.fc_grid = _positive_int("fc_grid", fc_grid)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        self.dropout_p = float(dropout)
        if float(noise_std) < 0.0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
        self.noise_std = float(noise_std)
        self.input_size = _positive_int("input_size", input_size)
        self._config: dict[str, Any] = {}

    def _record_config(self, **kwargs: Any) -> None:
        """Store every init kwarg, JSON-friendly (tuples become lists), for `config`."""
        self._config = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}

    @property
    def config(self) -> dict[str, Any]:
        """{"arch": ..., every init kwarg}: JSON-serialisable; `build_from_config(model.config)` rebuilds the net."""
        return {"arch": self.arch, **copy.deepcopy(self._config)}

    def forward(self, x: Tensor) -> Tensor:
        """Score every pixel.

        Args:
            x: float32 [B,6,H,W] from `network_input`, any H, W >= 1.

        Returns:
            float32 [B,1,H,W] scores before the tanh (logits); see `scores_to_probabilities`.

        Raises:
            ValueError: x is not [B,6,H,W].
        """
        # Messages are built by concatenation, which TorchScript can compile.
        if x.dim() != 4:
            raise ValueError(
                "expected a [B,6,H,W] batch (RGB+HSV, see skinseg_core.preprocess.network_input), got a "
                + str(x.dim())
                + "-d tensor; add the batch dimension with x.unsqueeze(0)"
            )
        if x.shape[1] != self.in_channels:
            raise ValueError(
                "expected "
                + str(self.in_channels)
                + " channels (RGB+HSV, see skinseg_core.preprocess.network_input), got "
                + str(x.shape[1])
                + "; build the input with model_input(model, rgb)"
            )
        height, width = x.shape[-2], x.shape[-1]
        stride = self.stride
        pad_bottom = (stride - height % stride) % stride
        pad_right = (stride - width % stride) % stride
        if pad_bottom > 0 or pad_right > 0:
            x = F.pad(x, [0, pad_right, 0, pad_bottom])
        scores = self._forward_padded(x)
        return scores[:, :, :height, :width]

    def _forward_padded(self, x: Tensor) -> Tensor:
        """[B,6,H,W] with H, W multiples of 2**depth -> [B,1,H,W] scores."""
        raise NotImplementedError

    @torch.jit.ignore
    def predict(self, x: Tensor) -> Tensor:
        """Probabilities in [0, 1], computed in eval mode under `torch.inference_mode()`.

        Args:
            x: float32 [B,6,H,W] from `network_input`.

        Returns:
            float32 [B,1,H,W] skin confidence. The module's train/eval mode is restored afterwards, so a
            training loop can call this for previews.
        """
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode():
                return scores_to_probabilities(self(x))
        finally:
            self.train(was_training)
