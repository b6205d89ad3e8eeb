"""Clinical k-fold for the bundled recipe: how well it does on clinical photos it was not fine-tuned on.

The shipped model is fine-tuned on all 15 clinical photos, so scoring it on them says little. Here stages 2 and 3 of the
recipe run k times from the same pretrained model, each time with one part of the clinical photos left out, and
each left-out photo is scored by the model that never saw it, next to the colour rules (same code as the report).
Per-photo scores of all folds are pooled into one summary.

    skinseg report --clinical-kfold 3 --pretrained runs/bundled/pretrain/best.json \
        --backgrounds runs/backgrounds --work runs/kfold --out runs/kfold/report
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from skinseg_core.data import kfold_splits
from skinseg_core.inference import Segmenter
from skinseg_core.recipes import SPLIT_SEED, dataset_splits, train_bundled
from skinseg_core.report import collect_pairs, merge_collected, report_markdown, summarise_collected

CLINICAL = "clinical_fitz17k"


def clinical_kfold(data_root: str | Path, work: str | Path, pretrained: Path, k: int = 3,
                   backgrounds: Path | None = None, device: str = "auto", on_progress=None,
                   progress: Callable[[Iterable, int, str], Iterable] | None = None) -> dict[str, Any]:
    """Run the k folds (each resumable in `work`/fold<i>) and return a report dict like `bundled_report`'s."""
    work = Path(work)
    clinical = dataset_splits(data_root)[CLINICAL].test
    parts, folds = [], []
    for i, (_, held_out) in enumerate(kfold_splits(clinical, k, seed=SPLIT_SEED), start=1):
        excluded = {p.stem for p in held_out}
        model_json = train_bundled(data_root, work / f"fold{i}", device=device, clinical_exclude=excluded,
                                   on_progress=on_progress, pretrained=pretrained, backgrounds=backgrounds)
        part = collect_pairs(Segmenter(model_json, device=device), held_out, progress=progress,
                             label=f"fold {i}/{k}")
        parts.append(part)
        folds.append({"fold": i, "held_out": sorted(excluded),
                      "model_jaccard": summarise_collected(part)["methods"]["model"]["summary"]["jaccard"]["mean"]})
    name = f"{CLINICAL} ({k}-fold, held out)"
    report: dict[str, Any] = {"model": f"bundled recipe after stage 1, per fold, from {pretrained}", "k": k,
                              "folds": folds, "sets": {name: summarise_collected(merge_collected(parts))}}
    report["markdown"] = report_markdown(report)
    return report
