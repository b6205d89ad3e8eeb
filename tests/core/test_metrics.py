"""Confusion counts and scores against cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from skinseg_core.metrics import (
    DEFAULT_THRESHOLD,
    Counts,
    background_jaccard,
    confusion,
    dice,
    jaccard,
    summarize,
)

# 3x3 case:      pred        target
#               1 1 0        1 0 0
#               1 0 0        1 1 0
#               0 0 0        0 0 0
# tp: (0,0) (1,0) = 2; fp: (0,1) = 1; fn: (1,1) = 1; tn: 9 - 4 = 5
PRED = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=np.uint8)
TARGET = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0]], dtype=np.uint8)
HAND = Counts(tp=2, fp=1, fn=1, tn=5)


def test_confusion_hand_case_numpy() -> None:
    assert confusion(PRED, TARGET) == HAND
    assert confusion(PRED.astype(bool), TARGET.astype(bool)) == HAND


def test_confusion_torch_and_mixed_inputs() -> None:
    p, t = torch.from_numpy(PRED), torch.from_numpy(TARGET)
    assert confusion(p, t) == HAND
    assert confusion(p.bool(), t.float()) == HAND
    assert confusion(p.float(), TARGET) == HAND
    assert confusion(PRED, t) == HAND
    c = confusion(p[None, None], t[None, None])  # [B,1,H,W] counts as one block
    assert c == HAND
    assert all(isinstance(v, int) for v in (c.tp, c.fp, c.fn, c.tn))


def test_scores_hand_case() -> None:
    assert jaccard(HAND) == pytest.approx(2 / 4)  # 2 / (2 + 1 + 1)
    assert dice(HAND) == pytest.approx(4 / 6)  # 4 / (4 + 1 + 1)
    assert background_jaccard(HAND) == pytest.approx(5 / 7)  # 5 / (5 + 1 + 1)


def test_both_empty_is_perfect() -> None:
    empty = np.zeros((4, 5), bool)
    c = confusion(empty, empty)
    assert c == Counts(0, 0, 0, 20)
    assert jaccard(c) == 1.0
    assert dice(c) == 1.0
    assert background_jaccard(c) == 1.0


def test_empty_target_with_predictions_scores_zero() -> None:
    pred = np.zeros((4, 4), bool)
    pred[0, :2] = True
    c = confusion(pred, np.zeros((4, 4), bool))
    assert c == Counts(tp=0, fp=2, fn=0, tn=14)
    assert jaccard(c) == 0.0
    assert dice(c) == 0.0
    assert background_jaccard(c) == pytest.approx(14 / 16)


def test_empty_prediction_with_skin_scores_zero() -> None:
    target = np.zeros((2, 2), bool)
    target[1, 1] = True
    c = confusion(np.zeros((2, 2), bool), target)
    assert (jaccard(c), dice(c)) == (0.0, 0.0)
    assert background_jaccard(c) == pytest.approx(3 / 4)


def test_all_skin() -> None:
    full = np.ones((3, 3), bool)
    c = confusion(full, full)
    assert c == Counts(9, 0, 0, 0)
    assert (jaccard(c), dice(c), background_jaccard(c)) == (1.0, 1.0, 1.0)
    # Calling everything skin on a 90 % skin close-up looks good on skin Jaccard; background Jaccard shows it.
    target = full.copy()
    target[0, 0] = False
    c = confusion(full, target)
    assert jaccard(c) == pytest.approx(8 / 9)
    assert background_jaccard(c) == 0.0


def test_counts_add_and_sum() -> None:
    a, b = Counts(1, 2, 3, 4), Counts(10, 20, 30, 40)
    assert a + b == Counts(11, 22, 33, 44)
    assert sum([a, b]) == Counts(11, 22, 33, 44)
    assert a.total == 10
    with pytest.raises(ValueError):
        Counts(-1, 0, 0, 0)


def test_shape_mismatch_and_probabilities_rejected() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        confusion(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="threshold"):
        confusion(np.full((2, 2), 0.7), np.ones((2, 2)))
    with pytest.raises(ValueError, match="threshold"):
        confusion(torch.ones(2, 2), torch.full((2, 2), 0.3))
    assert DEFAULT_THRESHOLD == 0.5


def test_summarize_per_image_vs_pooled() -> None:
    # Image A: small skin area, perfect. Image B: large skin area, half found.
    a = Counts(tp=1, fp=0, fn=0, tn=99)  # jaccard 1
    b = Counts(tp=50, fp=0, fn=50, tn=0)  # jaccard 0.5
    s = summarize([a, b])
    assert s["n"] == 2
    j = s["jaccard"]
    assert j["mean"] == pytest.approx(0.75)
    assert j["median"] == pytest.approx(0.75)
    assert j["std"] == pytest.approx(0.25)  # population std of (1, 0.5)
    assert (j["min"], j["max"]) == (pytest.approx(0.5), pytest.approx(1.0))
    # Pooled: tp 51, fp 0, fn 50 -> 51/101; dominated by the large image.
    assert j["pooled"] == pytest.approx(51 / 101)
    assert s["dice"]["pooled"] == pytest.approx(102 / 152)
    assert s["dice"]["mean"] == pytest.approx((1.0 + 100 / 150) / 2)
    # Background: a: 99/99 = 1; b: 0 / (0 + 0 + 50) = 0; pooled 99/149.
    assert s["background_jaccard"]["mean"] == pytest.approx(0.5)
    assert s["background_jaccard"]["pooled"] == pytest.approx(99 / 149)
    assert set(j) == {"mean", "std", "median", "min", "max", "pooled"}
    assert all(isinstance(v, float) for v in j.values())


def test_summarize_single_and_empty() -> None:
    s = summarize([HAND])
    assert s["jaccard"]["std"] == 0.0
    assert s["jaccard"]["mean"] == s["jaccard"]["pooled"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        summarize([])
