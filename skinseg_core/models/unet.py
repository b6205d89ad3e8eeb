"""The traditional U-Net of the paper (Sec. II-B): the Dense Residual U-Net without dense connections and
without the residual end units, i.e. double-conv blocks, a fully-connected bottleneck, skip connections."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from skinseg_core.models.base import SegmentationNet
from skinseg_core.models.blocks import (
    BottleneckFC,
    DecodingStage,
    DoubleConv,
    EncodingStage,
    init_score_layer,
    init_weights,
)


class UNet(SegmentationNet):
    """U-Net with a fully-connected bottleneck, noise before each encoding block and the paper's dropout.

    Shape: [B,6,H,W] -> scores [B,1,H,W] (any H, W; see `SegmentationNet.forward`).

    Args:
        widths: filters per level, len = depth + 1; the last entry is the bottleneck level.
        fc_dim: hidden units of the bottleneck fully-connected layer; 0 leaves it out (fully convolutional).
        fc_grid: side of the grid the bottleneck is pooled to before the fully-connected layer.
        dropout: dropout on the last encoding block (the bottleneck), the fully-connected layer and every
            decoding block; the paper uses 0.5.
        noise_std: std of the Gaussian noise added before each encoding block while training.
        input_size: the square side the network is trained at; stored for inference.
    """

    arch = "unet"

    def __init__(
        self,
        widths: Sequence[int] = (32, 64, 128, 128),
        fc_dim: int = 90,
        fc_grid: int = 16,
        dropout: float = 0.5,
        noise_std: float = 0.025,
        input_size: int = 128,
        absolute_colour: bool = False,
    ) -> None:
        super().__init__(widths, fc_dim, fc_grid, dropout, noise_std, input_size, absolute_colour)
        self._record_config(
            widths=self.widths,
            fc_dim=self.fc_dim,
            fc_grid=self.fc_grid,
            dropout=self.dropout_p,
            noise_std=self.noise_std,
            input_size=self.input_size,
            **({"absolute_colour": True} if self.absolute_colour else {}),
        )
        w, p = self.widths, self.dropout_p
        level_inputs = (self.in_channels, *w[:-2])
        self.encoders = nn.ModuleList(
            EncodingStage(DoubleConv(c_in, c_out), noise_std, dropout=0.0) for c_in, c_out in zip(level_inputs, w[:-1])
        )
        self.down = nn.MaxPool2d(2)
        # The bottleneck is the last encoding block, which the paper gives 50 % dropout.
        self.bottleneck = EncodingStage(DoubleConv(w[-2], w[-1]), noise_std, dropout=p)
        self.global_context: nn.Module = (
            BottleneckFC(w[-1], self.fc_dim, self.fc_grid, p) if self.fc_dim > 0 else nn.Identity()
        )
        # Deepest decoder first, matching the order of forward().
        self.decoders = nn.ModuleList(
            DecodingStage(w[i + 1], w[i], DoubleConv(2 * w[i], w[i]), dropout=p) for i in reversed(range(self.depth))
        )
        self.score = nn.Conv2d(w[0], 1, kernel_size=1)
        init_weights(self)
        init_score_layer(self.score)

    def _forward_padded(self, x: Tensor) -> Tensor:
        skips: list[Tensor] = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = self.down(x)
        x = self.bottleneck(x)
        x = self.global_context(x)
        for i, decoder in enumerate(self.decoders):
            x = decoder(x, skips[len(skips) - 1 - i])
        return self.score(x)
