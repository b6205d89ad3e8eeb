"""The soft Jaccard loss of eq. (1) against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from skinseg_core.losses import jaccard_loss


def test_hand_case_without_smoothing() -> None:
    # t = [1, 1, 0, 0], p = [1, 0.5, 0.5, 0]:
    # sum(tp) = 1.5, sum(t^2) = 2, sum(p^2) = 1.5 -> L = 1 - 1.5 / (2 + 1.5 - 1.5) = 0.25
    t = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 2, 2)
    p = torch.tensor([1.0, 0.5, 0.5, 0.0]).view(1, 1, 2, 2)
    assert jaccard_loss(p, t, eps=0.0).item() == pytest.approx(0.25)
    # eps = 1: 1 - 2.5 / 3
    assert jaccard_loss(p, t, eps=1.0).item() == pytest.approx(1 - 2.5 / 3)


def test_per_image_then_batch_mean() -> None:
    # Image 0 perfect (loss 0); image 1 as the hand case (0.25): mean 0.125, not the pooled value.
    t = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]).view(2, 1, 2, 2)
    p = torch.tensor([[1.0, 1.0, 0.0, 0.0], [1.0, 0.5, 0.5, 0.0]]).view(2, 1, 2, 2)
    assert jaccard_loss(p, t, eps=0.0).item() == pytest.approx(0.125)
    # [B,H,W] is accepted as well
    assert jaccard_loss(p[:, 0], t[:, 0], eps=0.0).item() == pytest.approx(0.125)


def test_perfect_prediction_is_zero() -> None:
    t = (torch.rand(3, 1, 16, 16) > 0.5).float()
    assert jaccard_loss(t.clone(), t).item() == pytest.approx(0.0, abs=1e-6)


def test_empty_target_and_empty_prediction_is_zero() -> None:
    z = torch.zeros(2, 1, 8, 8)
    assert jaccard_loss(z, z).item() == pytest.approx(0.0)


def test_empty_target_pushes_predictions_down() -> None:
    p = torch.full((1, 1, 4, 4), 0.5, requires_grad=True)
    loss = jaccard_loss(p, torch.zeros(1, 1, 4, 4))
    # sum(p^2) = 4 -> 1 - 1 / 5
    assert loss.item() == pytest.approx(0.8)
    loss.backward()
    assert p.grad is not None and bool((p.grad > 0).all())  # gradient descent lowers every prediction


def test_gradient_flows_through_network() -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 1, 3, padding=1)
    x = torch.rand(2, 3, 16, 16)
    t = (torch.rand(2, 1, 16, 16) > 0.5).float()
    loss = jaccard_loss(torch.sigmoid(conv(x)), t)
    loss.backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()
    assert conv.weight.grad.abs().sum() > 0
    assert 0.0 < loss.item() < 1.0


def test_weights() -> None:
    t = torch.tensor([1.0, 1.0, 0.0, 0.0]).view(1, 1, 2, 2)
    p = torch.tensor([1.0, 0.5, 0.5, 0.0]).view(1, 1, 2, 2)
    unweighted = jaccard_loss(p, t, eps=0.0)
    # Uniform weights change nothing (they cancel in the ratio).
    assert jaccard_loss(p, t, torch.full_like(p, 3.0), eps=0.0).item() == pytest.approx(unweighted.item())
    # Weight 3 on pixel 1 (t=1, p=0.5): sum(wtp) = 1 + 1.5 = 2.5, sum(wt^2) = 1 + 3 = 4, sum(wp^2) = 1 + 0.75 + 0.25
    # = 2 -> L = 1 - 2.5 / (4 + 2 - 2.5) = 1 - 2.5 / 3.5
    w = torch.tensor([1.0, 3.0, 1.0, 1.0]).view(1, 1, 2, 2)
    weighted = jaccard_loss(p, t, w, eps=0.0)
    assert weighted.item() == pytest.approx(1 - 2.5 / 3.5)
    assert weighted.item() != pytest.approx(unweighted.item())
    # Per-image weights broadcast.
    assert jaccard_loss(p, t, torch.ones(1, 1, 1, 1), eps=0.0).item() == pytest.approx(unweighted.item())


def test_bool_target_and_half_precision_input() -> None:
    t = torch.zeros(1, 1, 256, 256, dtype=torch.bool)
    t[..., :128, :] = True
    p = t.to(torch.float16)
    # float16 sums over 65536 pixels would overflow; the loss accumulates in float32.
    assert jaccard_loss(p, t).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("prob_shape", "target_shape", "weight_shape"),
    [((1, 1, 4, 4), (1, 1, 4, 5), None), ((1, 2, 4, 4), (1, 2, 4, 4), None), ((4, 4), (4, 4), None),
     ((1, 1, 4, 4), (1, 1, 4, 4), (1, 1, 3, 4))],
)
def test_bad_shapes(prob_shape: tuple, target_shape: tuple, weight_shape: tuple | None) -> None:
    w = None if weight_shape is None else torch.ones(weight_shape)
    with pytest.raises(ValueError):
        jaccard_loss(torch.zeros(prob_shape), torch.zeros(target_shape), w)
