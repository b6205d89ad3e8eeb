"""Full-resolution evaluation of a model against reference masks: per-photo scores, their spread, pooled scores."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from skinseg_core.data import SamplePair, find_pairs
from skinseg_core.imageio import read_mask
from skinseg_core.inference import Segmenter
from skinseg_core.metrics import background_jaccard, confusion, dice, jaccard, summarize

ProgressWrap = Callable[[Iterable, int], Iterable]


def evaluate_pairs(
    segmenter: Segmenter,
    pairs: Sequence[SamplePair],
    threshold: float | None = None,
    progress: ProgressWrap | None = None,
) -> dict[str, Any]:
    """Segment each photo at its full size and compare with its mask (resized nearest-neighbour if it differs)."""
    threshold = segmenter.loaded.threshold if threshold is None else threshold
    iterable: Iterable = pairs if progress is None else progress(pairs, len(pairs))
    per_image, counts = [], []
    for pair in iterable:
        prediction = segmenter.predict(pair.image)
        target = read_mask(pair.mask, size=prediction.photo.full_size)
        c = confusion(prediction.mask(threshold), target)
        counts.append(c)
        per_image.append({"photo": pair.image.name, "jaccard": jaccard(c), "dice": dice(c),
                          "background_jaccard": background_jaccard(c),
                          "counts": {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn}})
    return {"model": segmenter.loaded.name, "threshold": threshold, "n": len(pairs),
            "summary": summarize(counts), "per_image": per_image}


def evaluate_model(
    model: str | Path | None,
    images: str | Path,
    masks: str | Path,
    threshold: float | None = None,
    device: str = "auto",
    tta: bool | None = None,
    progress: ProgressWrap | None = None,
    refine: bool | None = None,
    face_gate: bool | None = None,
    network: str = "auto",
) -> dict[str, Any]:
    segmenter = Segmenter(model, device=device, tta=tta, refine=refine, face_gate=face_gate, network=network)
    result = evaluate_pairs(segmenter, find_pairs(images, masks), threshold, progress)
    result["images"] = str(images)
    return result


def format_summary(result: dict[str, Any]) -> str:
    summary = result["summary"]
    lines = [f"model {result['model']}  threshold {result['threshold']:g}  photos {result['n']}", "",
             f"{'metric':<22}{'mean':>8}{'std':>8}{'median':>8}{'min':>8}{'max':>8}{'pooled':>8}"]
    for key, label in (("jaccard", "Jaccard (skin)"), ("dice", "Dice (skin)"),
                       ("background_jaccard", "Jaccard (background)")):
        s = summary[key]
        lines.append(f"{label:<22}{s['mean']:>8.4f}{s['std']:>8.4f}{s['median']:>8.4f}{s['min']:>8.4f}"
                     f"{s['max']:>8.4f}{s['pooled']:>8.4f}")
    return "\n".join(lines)
