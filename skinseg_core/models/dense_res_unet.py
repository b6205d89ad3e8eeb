"""The Dense Residual U-Net of the paper (Sec. II-A, Fig. 2)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from skinseg_core.models.base import SegmentationNet, _positive_int
from skinseg_core.models.blocks import (
    BottleneckFC,
    DecodingStage,
    DenseBlock,
    EncodingStage,
    MergeLayer,
    ResidualBlock,
    init_score_layer,
    init_weights,
)


class DenseResUNet(SegmentationNet):
    """U-Net with dense encoding (E) and decoding (D) blocks, a fully-connected bottleneck, then a merge layer,
    residual blocks and a final merge layer over the residual blocks' outputs, as in Fig. 2.

    Shape: [B,6,H,W] -> scores [B,1,H,W] (any H, W; see `SegmentationNet.forward`).

    Args:
        widths: filters of each convolution of the dense block of each level (n in Fig. 2), len = depth + 1;
            the last entry is the bottleneck level.
        fc_dim: hidden units of the bottleneck fully-connected layer; 0 leaves it out (fully convolutional).
        fc_grid: side of the grid the bottleneck is pooled to before the fully-connected layer.
        dropout: dropout on the last dense encoding block (the bottleneck), the fully-connected layer and every
            dense decoding block; the paper uses 0.5.
        noise_std: std of the Gaussian noise added before each dense encoding block while training.
        input_size: the square side the network is trained at; stored for inference.
        dense_layers: 3x3 convolutions per dense block.
        residual_blocks: residual units after the U-Net (the paper has 4).
        residual_width: channels of the merge layer after the U-Net and of the residual units.
    """

    arch = "dense-res-unet"

    def __init__(
        self,
        widths: Sequence[int] = (32, 64, 128, 128),
        fc_dim: int = 2224,
        fc_grid: int = 16,
        dropout: float = 0.5,
        noise_std: float = 0.025,
        input_size: int = 128,
        absolute_colour: bool = False,
        dense_layers: int = 3,
        residual_blocks: int = 4,
        residual_width: int = 32,
    ) -> None:
        super().__init__(widths, fc_dim, fc_grid, dropout, noise_std, input_size, absolute_colour)
        self.dense_layers = _positive_int("dense_layers", dense_layers)
        self.residual_blocks_count = _positive_int("residual_blocks", residual_blocks)
        self.residual_width = _positive_int("residual_width", residual_width)
        self._record_config(
            widths=self.widths,
            fc_dim=self.fc_dim,
            fc_grid=self.fc_grid,
            dropout=self.dropout_p,
            noise_std=self.noise_std,
            input_size=self.input_size,
            **({"absolute_colour": True} if self.absolute_colour else {}),
            dense_layers=self.dense_layers,
            residual_blocks=self.residual_blocks_count,
            residual_width=self.residual_width,
        )
        w, p, layers = self.widths, self.dropout_p, self.dense_layers
        level_inputs = (self.in_channels, *w[:-2])
        self.encoders = nn.ModuleList(
            EncodingStage(DenseBlock(c_in, c_out, layers, merge_channels=c_out), noise_std, dropout=0.0)
            for c_in, c_out in zip(level_inputs, w[:-1])
        )
        self.down = nn.MaxPool2d(2)
        # The bottleneck is the last dense encoding block, which the paper gives 50 % dropout.
        self.bottleneck = EncodingStage(DenseBlock(w[-2], w[-1], layers, merge_channels=w[-1]), noise_std, dropout=p)
        self.global_context: nn.Module = (
            BottleneckFC(w[-1], self.fc_dim, self.fc_grid, p) if self.fc_dim > 0 else nn.Identity()
        )
        # Deepest decoder first. The last (full-resolution) one returns its convolutions' outputs unmerged:
        # the network-level merge layer below takes them, as Fig. 2 draws it.
        self.decoders = nn.ModuleList(
            DecodingStage(
                w[i + 1],
                w[i],
                DenseBlock(2 * w[i], w[i], layers, merge_channels=w[i] if i > 0 else None),
                dropout=p,
            )
            for i in reversed(range(self.depth))
        )
        self.merge_unet = MergeLayer(layers * w[0], self.residual_width, kernel_size=3)
        self.residual = nn.ModuleList(ResidualBlock(self.residual_width) for _ in range(self.residual_blocks_count))
        self.merge_residual = MergeLayer(
            self.residual_blocks_count * self.residual_width, 1, kernel_size=1, relu=False
        )
        init_weights(self)
        init_score_layer(self.merge_residual.conv)

    def _forward_padded(self, x: Tensor) -> Tensor:
        # U-Net part: dense encoding blocks, bottleneck with the fully-connected layer, dense decoding blocks.
        skips: list[Tensor] = []
        for encoder in self.encoders:
            x = encoder(x)
            skips.append(x)
            x = self.down(x)
        x = self.bottleneck(x)
        x = self.global_context(x)
        for i, decoder in enumerate(self.decoders):
            x = decoder(x, skips[len(skips) - 1 - i])
        # Residual end units: merge of the last decoding block, residual blocks, merge of every residual output.
        x = self.merge_unet(x)
        residual_outputs: list[Tensor] = []
        for block in self.residual:
            x = block(x)
            residual_outputs.append(x)
        return self.merge_residual(torch.cat(residual_outputs, dim=1))
