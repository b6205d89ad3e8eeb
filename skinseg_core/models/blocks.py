"""Building blocks of the U-Net and the Dense Residual U-Net (Codella et al. 2018, Fig. 2, centre).

Every block keeps the spatial size of its input except the explicit down (max-pool) and up (transposed
convolution) steps, so the networks only have to pad the input to a multiple of 2**depth. ReLU follows every
convolution; the only non-ReLU output is the final score map, which the paper passes through a re-scaled tanh.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class GaussianNoise(nn.Module):
    """Add zero-mean Gaussian noise while training (the paper adds sigma 0.025 before each encoding block).

    Shape: any -> same. The identity in eval mode, so inference stays deterministic.
    """

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = float(std)

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.std > 0.0:
            return x + torch.randn_like(x) * self.std
        return x

    def extra_repr(self) -> str:
        return f"std={self.std}"


class ConvReLU(nn.Sequential):
    """Convolution ("same" padding) followed by ReLU: [B,C_in,H,W] -> [B,C_out,H,W]."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            nn.ReLU(inplace=True),
        )


class DoubleConv(nn.Sequential):
    """The classic U-Net block, two 3x3 ConvReLUs: [B,C_in,H,W] -> [B,C_out,H,W]."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(ConvReLU(in_channels, out_channels), ConvReLU(out_channels, out_channels))


class MergeLayer(nn.Module):
    """Fig. 2's merge layer: z inputs concatenated on channels, then one convolution.

    The caller concatenates (it knows how many inputs there are); this block owns the convolution.
    Shape: [B,C_in,H,W] (the z inputs already concatenated) -> [B,C_out,H,W].

    Args:
        relu: False only for the network's last layer, whose output is the pre-tanh score map.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, relu: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        self.relu = relu

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        return F.relu(x) if self.relu else x


class DenseBlock(nn.Module):
    """Densely connected convolution block (DenseNet style), the E and D blocks of Fig. 2.

    Convolution k sees the concatenation of the block input and the outputs of convolutions 1..k-1; the block's
    output merges (concatenates, then 1x1 convolution) the outputs of all its convolutions.

    Shape: [B,C_in,H,W] -> [B,out_channels,H,W], or [B,layers*growth,H,W] when merge_channels is None, for the
    last decoding block whose concatenated convolution outputs go to the network-level merge layer instead.

    Args:
        in_channels: channels of the block input.
        growth: filters of each convolution (n in Fig. 2).
        layers: number of 3x3 convolutions.
        merge_channels: output channels of the internal merge, or None to return the raw concatenation.
    """

    def __init__(self, in_channels: int, growth: int, layers: int, merge_channels: int | None) -> None:
        super().__init__()
        self.convs = nn.ModuleList(ConvReLU(in_channels + k * growth, growth) for k in range(layers))
        self.merge: nn.Module = (
            MergeLayer(layers * growth, merge_channels, kernel_size=1) if merge_channels is not None else nn.Identity()
        )
        self.out_channels = merge_channels if merge_channels is not None else layers * growth

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        outputs: list[Tensor] = []
        for conv in self.convs:
            y = conv(torch.cat(features, dim=1))
            features.append(y)
            outputs.append(y)
        return self.merge(torch.cat(outputs, dim=1))


class ResidualBlock(nn.Module):
    """Residual unit appended after the U-Net: relu(x + conv(relu(conv(x)))), [B,C,H,W] -> [B,C,H,W]."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class EncodingStage(nn.Module):
    """One encoding level: Gaussian noise (training only) -> block -> optional dropout.

    Shape: [B,C_in,H,W] -> [B,C_out,H,W]; down-sampling is the caller's, because the output is also a skip.
    """

    def __init__(self, block: nn.Module, noise_std: float, dropout: float) -> None:
        super().__init__()
        self.noise = GaussianNoise(noise_std)
        self.block = block
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.block(self.noise(x)))


class DecodingStage(nn.Module):
    """One decoding level: transposed-conv up-sampling, concatenation with the skip, block, dropout.

    Shapes: x [B,C_low,H/2,W/2] and skip [B,C_skip,H,W] -> [B,C_out,H,W]. The up-sampling maps C_low to C_skip
    channels, so the block sees 2*C_skip channels.
    """

    def __init__(self, low_channels: int, skip_channels: int, block: nn.Module, dropout: float) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(low_channels, skip_channels, kernel_size=2, stride=2)
        self.block = block
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = F.relu(self.up(x))
        return self.dropout(self.block(torch.cat([x, skip], dim=1)))


def _adaptive_pool_matrix(size: int, grid: int, like: Tensor) -> Tensor:
    """[grid, size] averaging weights with AdaptiveAvgPool2d's windows: [floor(i*size/grid), ceil((i+1)*size/grid))."""
    weights = torch.zeros(grid, size, dtype=like.dtype, device=like.device)
    for i in range(grid):
        start, end = (i * size) // grid, -((-(i + 1) * size) // grid)
        weights[i, start:end] = 1.0 / (end - start)
    return weights


class BottleneckFC(nn.Module):
    """The fully-connected layer at the bottleneck, which models global, non-linear context.

    The bottleneck features are average-pooled to grid x grid (the identity at the training size when grid =
    input_size / 2**depth, as in the paper), flattened, passed through Linear -> ReLU -> dropout -> Linear -> ReLU,
    reshaped back to [C,grid,grid], up-sampled (bilinear) to the bottleneck's size and merged with the bottleneck
    features (concatenation, then a 3x3 convolution). Pooling to a fixed grid keeps the weights usable at any
    input size, which a plain flatten would not.

    Shape: [B,C,h,w] -> [B,C,h,w].
    """

    def __init__(self, channels: int, hidden: int, grid: int, dropout: float) -> None:
        super().__init__()
        self.grid = int(grid)
        self.channels = int(channels)
        flat = channels * grid * grid
        self.pool = nn.AdaptiveAvgPool2d(grid)
        self.fc_in = nn.Linear(flat, hidden)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc_out = nn.Linear(hidden, flat)
        self.merge = MergeLayer(2 * channels, channels, kernel_size=3)

    def _adaptive_pool(self, x: Tensor, height: int, width: int) -> Tensor:
        if not torch.jit.is_scripting():  # TorchScript skips this block; the exporter traces eagerly
            if torch.onnx.is_in_onnx_export():
                return self._pool_for_export(x, height, width)
        return self.pool(x)

    @torch.jit.unused
    def _pool_for_export(self, x: Tensor, height: int, width: int) -> Tensor:
        # The ONNX exporter cannot express an adaptive pool whose grid does not divide the input; the same
        # averages as constant matrices (one export is for one input size anyway) export as two matmuls.
        rows = _adaptive_pool_matrix(height, self.grid, x)
        cols = _adaptive_pool_matrix(width, self.grid, x)
        return torch.matmul(torch.matmul(rows, x), cols.transpose(0, 1))

    def forward(self, x: Tensor) -> Tensor:
        # int() makes a tracer (ONNX export) record the sizes as constants: such an export is for one input size.
        height, width = int(x.shape[-2]), int(x.shape[-1])
        if height % self.grid == 0 and width % self.grid == 0:
            # Same result as the adaptive pool, but an op that the ONNX exporter supports.
            context = F.avg_pool2d(x, (height // self.grid, width // self.grid))
        else:
            context = self._adaptive_pool(x, height, width)
        context = context.flatten(1)
        context = self.dropout(F.relu(self.fc_in(context)))
        context = F.relu(self.fc_out(context)).view(-1, self.channels, self.grid, self.grid)
        context = F.interpolate(context, size=(height, width), mode="bilinear", align_corners=False)
        return self.merge(torch.cat([x, context], dim=1))


def init_weights(module: nn.Module) -> None:
    """He (Kaiming) initialisation for the ReLU layers of a network, zero biases.

    Call on the whole network, then re-initialise its linear output layer (see `init_score_layer`).
    """
    for m in module.modules():
        if isinstance(m, nn.ConvTranspose2d):
            # torch computes a transposed conv's fan-in from the weight's second dimension (its *output*
            # channels); the true fan-in of one output pixel is in_channels * k*k / stride**2 taps.
            kh, kw = m.kernel_size
            sh, sw = m.stride
            fan_in = m.in_channels * max(1.0, kh * kw / (sh * sw))
            nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / fan_in))
        elif isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
        else:
            continue
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def init_score_layer(conv: nn.Conv2d) -> None:
    """Initialise the final (pre-tanh) score convolution small, so the tanh starts unsaturated near 0.5."""
    fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    nn.init.normal_(conv.weight, 0.0, 0.1 / math.sqrt(fan_in))
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)
