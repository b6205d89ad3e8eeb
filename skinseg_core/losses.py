"""The training objective of Codella et al. 2018, eq. (1): a soft Jaccard loss computed per image.

    L = 1 - sum(t p) / (sum(t^2) + sum(p^2) - sum(t p))

It correlates with the Jaccard index the paper reports and, unlike pixel-wise cross-entropy, does not let the
(usually larger) background class dominate.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["jaccard_loss"]


def jaccard_loss(prob: Tensor, target: Tensor, weight: Tensor | None = None, eps: float = 1.0) -> Tensor:
    """Soft Jaccard loss of eq. (1), computed per image and averaged over the batch.

    Args:
        prob: float [B,1,H,W] or [B,H,W], skin probabilities in [0,1] (after the network's sigmoid / rescaled tanh).
        target: same shape as `prob`, ground truth 1 = skin, 0 = not skin (any dtype; soft labels allowed).
        weight: optional non-negative per-pixel weights, the same shape as `prob` or broadcastable to it (e.g.
            [B,1,1,1] per image). Every sum of eq. (1) is weighted, so pixels with weight 3 count like three pixels:
            fine-tuning uses this to make the pixels a user corrected weigh more.
        eps: added to numerator and denominator. It makes an empty target with an empty prediction a perfect
            0 loss (instead of 0/0), and for an empty target the loss 1 - eps / (sum(p^2) + eps) still pushes every
            prediction towards 0. Larger eps softens the loss on images with very little skin.

    Returns:
        Scalar tensor, mean over the batch of the per-image losses, in [0, 1] for probabilities in [0, 1].
    """
    if prob.shape != target.shape:
        raise ValueError(f"prob and target shapes differ: {tuple(prob.shape)} vs {tuple(target.shape)}")
    if prob.ndim not in (3, 4) or (prob.ndim == 4 and prob.shape[1] != 1):
        raise ValueError(f"expected prob of shape [B,1,H,W] or [B,H,W], got {tuple(prob.shape)}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")

    # Sums over a 512x512 image exceed float16's range (65504): under autocast, accumulate in float32.
    p = prob.float()
    t = target.to(dtype=torch.float32, device=prob.device)
    if weight is None:
        w = None
    else:
        try:
            fits = torch.broadcast_shapes(weight.shape, prob.shape) == prob.shape
        except RuntimeError:
            fits = False
        if not fits:
            raise ValueError(
                f"weight of shape {tuple(weight.shape)} does not broadcast to prob's shape {tuple(prob.shape)}"
            )
        w = weight.to(dtype=torch.float32, device=prob.device).expand_as(p)

    def weighted_sum(x: Tensor) -> Tensor:
        if w is not None:
            x = x * w
        return x.flatten(1).sum(dim=1)

    intersection = weighted_sum(t * p)
    union = weighted_sum(t * t) + weighted_sum(p * p) - intersection
    per_image = 1.0 - (intersection + eps) / (union + eps)
    return per_image.mean()
