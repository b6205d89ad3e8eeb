"""Model size and cost: parameter counts (Table I of the paper) and forward-pass GFLOPs.

Both work on models built on the "meta" device, so the 150M-parameter presets can be measured without
allocating their weights:

    >>> with torch.device("meta"):
    ...     model = build_model("unet-large")
    >>> count_parameters(model), forward_gflops(model, 128)
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of scalar parameters (weights and biases), as the paper's "# Param" counts them."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def forward_gflops(model: nn.Module, size: int) -> float:
    """GFLOPs (1e9 floating-point operations, a multiply-add counted as 2) of one eval-mode forward pass.

    Counted by `torch.utils.flop_counter.FlopCounterMode`, which counts convolutions and matrix products;
    element-wise work (ReLU, pooling, concatenation, interpolation) is not included.

    Args:
        model: a network taking [B,in_channels,H,W] (in_channels defaults to 6), on any device, meta included.
        size: side of the square input; the pass runs on a [1,in_channels,size,size] zero tensor.

    Returns:
        GFLOPs of that pass. The model's train/eval mode is restored afterwards.
    """
    if size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}")
    first = next(model.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    in_channels = int(getattr(model, "in_channels", 6))
    x = torch.zeros(1, in_channels, size, size, device=device)
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(x)
    finally:
        model.train(was_training)
    return counter.get_total_flops() / 1e9
