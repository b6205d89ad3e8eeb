"""Pixel confusion counts and the overlap scores the paper reports (Jaccard, Dice), with explicit empty-mask rules.

Skin is the positive class. Scores are computed from `Counts`, never from masks directly, so that a test set can be
summarised both per image (mean and spread, what a user of one photo experiences) and pooled (counts summed over
the set first, which weighs large skin areas more and is what some papers report).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "DEFAULT_THRESHOLD",
    "Counts",
    "background_jaccard",
    "confusion",
    "dice",
    "jaccard",
    "summarize",
]

# The paper's binary decision: a pixel is skin when the network's confidence is at least 50 %.
DEFAULT_THRESHOLD = 0.5

MaskLike = np.ndarray | torch.Tensor


@dataclass(frozen=True)
class Counts:
    """Pixel confusion counts of one image (or of a set, after adding), skin = positive."""

    tp: int
    fp: int
    fn: int
    tn: int

    def __post_init__(self) -> None:
        if min(self.tp, self.fp, self.fn, self.tn) < 0:
            raise ValueError(f"confusion counts cannot be negative: {self}")

    @property
    def total(self) -> int:
        """Number of pixels counted."""
        return self.tp + self.fp + self.fn + self.tn

    def __add__(self, other: Counts) -> Counts:
        if not isinstance(other, Counts):
            return NotImplemented
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)

    def __radd__(self, other: object) -> Counts:
        # Lets the built-in sum() pool a list of counts: sum() starts from the integer 0.
        if isinstance(other, int) and other == 0:
            return self
        return NotImplemented


def _to_bool(x: MaskLike, name: str) -> MaskLike:
    """Return `x` as a boolean array/tensor, refusing anything that is not already binary.

    Probabilities passed by mistake would otherwise be silently truncated; the caller must threshold first.
    """
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bool:
            return x
        if not bool(((x == 0) | (x == 1)).all()):
            raise ValueError(
                f"{name} must hold only 0 and 1 (or be boolean); threshold probabilities first, "
                f"e.g. prob >= {DEFAULT_THRESHOLD}"
            )
        return x != 0
    arr = np.asarray(x)
    if arr.dtype == np.bool_:
        return arr
    if not np.isin(arr, (0, 1)).all():
        raise ValueError(
            f"{name} must hold only 0 and 1 (or be boolean); threshold probabilities first, "
            f"e.g. prob >= {DEFAULT_THRESHOLD}"
        )
    return arr != 0


def confusion(pred: MaskLike, target: MaskLike) -> Counts:
    """Count tp/fp/fn/tn between a predicted and a ground-truth mask.

    Args:
        pred: bool or 0/1 array or tensor, any shape (e.g. [H,W] or [B,1,H,W]; a batch is counted as one).
        target: same shape as `pred`; numpy and torch inputs may be mixed.
    """
    if tuple(pred.shape) != tuple(target.shape):
        raise ValueError(f"prediction and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    p = _to_bool(pred, "pred")
    t = _to_bool(target, "target")
    if isinstance(p, torch.Tensor) and isinstance(t, torch.Tensor):
        # Count on the prediction's device so a GPU batch does not travel to the CPU; only 3 numbers come back.
        t = t.to(p.device)
        tp = int((p & t).sum().item())
        fp = int((p & ~t).sum().item())
        fn = int((~p & t).sum().item())
        n = p.numel()
    else:
        pa = p.cpu().numpy() if isinstance(p, torch.Tensor) else p
        ta = t.cpu().numpy() if isinstance(t, torch.Tensor) else t
        tp = int(np.count_nonzero(pa & ta))
        fp = int(np.count_nonzero(pa & ~ta))
        fn = int(np.count_nonzero(~pa & ta))
        n = pa.size
    return Counts(tp=tp, fp=fp, fn=fn, tn=int(n) - tp - fp - fn)


def jaccard(c: Counts) -> float:
    """Skin intersection over union, tp / (tp + fp + fn).

    Both masks empty (no skin predicted, none present) is perfect agreement: 1.0, not 0/0.
    """
    denom = c.tp + c.fp + c.fn
    return 1.0 if denom == 0 else c.tp / denom


def dice(c: Counts) -> float:
    """Dice coefficient (F1 of skin pixels), 2tp / (2tp + fp + fn); both masks empty -> 1.0."""
    denom = 2 * c.tp + c.fp + c.fn
    return 1.0 if denom == 0 else 2 * c.tp / denom


def background_jaccard(c: Counts) -> float:
    """Jaccard of the non-skin class, tn / (tn + fp + fn); both masks all skin -> 1.0.

    Clinical close-ups are ~90 % skin, where skin Jaccard is high even for a model that calls everything skin;
    this score exposes that.
    """
    denom = c.tn + c.fp + c.fn
    return 1.0 if denom == 0 else c.tn / denom


_SCORES: dict[str, Callable[[Counts], float]] = {
    "jaccard": jaccard,
    "dice": dice,
    "background_jaccard": background_jaccard,
}


def summarize(per_image: Sequence[Counts]) -> dict:
    """Summarise a test set: per-image statistics of each score plus the pooled score.

    Returns:
        {"n": int, "jaccard": {...}, "dice": {...}, "background_jaccard": {...}} where each inner dict holds
        "mean", "std" (population standard deviation, so one image gives 0.0), "median", "min", "max" of the
        per-image scores and "pooled" (counts summed over the set, then the ratio). Plain floats, JSON-ready.

    Raises:
        ValueError: `per_image` is empty (there is nothing to summarise, and 0 or NaN would be misleading).
    """
    counts = list(per_image)
    if not counts:
        raise ValueError("cannot summarise an empty set of images: evaluate at least one photo first")
    pooled = sum(counts, Counts(0, 0, 0, 0))
    summary: dict = {"n": len(counts)}
    for name, score in _SCORES.items():
        values = np.array([score(c) for c in counts], dtype=np.float64)
        summary[name] = {
            "mean": float(values.mean()),
            "std": float(values.std()),
            "median": float(np.median(values)),
            "min": float(values.min()),
            "max": float(values.max()),
            "pooled": float(score(pooled)),
        }
    return summary
