"""Clinical k-fold for the bundled recipe: how well it does on clinical photos it was not fine-tuned on.

The shipped model is fine-tuned on all 15 clinical photos, so scoring it on them says little. Here stages 2 and 3 of the
recipe run k times from the same pretrained model, each time with one part of the clinical photos left out, and
each left-out photo is scored by the model that never saw it, next to the colour rules (same code as the report).
Per-photo scores of all folds are pooled into one summary, and again per group of Fitzpatrick skin types (I-III,
IV-VI; from the set's metadata.csv), because a change that helps light skin can cost dark skin unseen.

    skinseg report --clinical-kfold 3 --pretrained runs/bundled/pretrain/best.json \
        --backgrounds runs/backgrounds --work runs/kfold --out runs/kfold/report

With `--fold I` the same command trains fold I alone, so that the folds can train at once on a machine with cores to
spare (a GPU box: six folds in 107 s, docs/adr/0022); the command without it then finds them finished and scores them.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from skinseg_core.data import SamplePair, kfold_splits
from skinseg_core.inference import Segmenter
from skinseg_core.recipes import CLINICAL_SET as CLINICAL
from skinseg_core.recipes import RECIPE_SEED, SPLIT_SEED, dataset_splits, train_bundled
from skinseg_core.report import collect_pairs, merge_collected, report_markdown, summarise_collected

SKIN_TYPE_GROUPS = {"types I-III": {1, 2, 3}, "types IV-VI": {4, 5, 6}}


def fitzpatrick_types(data_root: str | Path) -> dict[str, int]:
    """Fitzpatrick skin type (1-6) per clinical photo stem, from the set's metadata.csv; empty without one."""
    table = Path(data_root) / CLINICAL / "metadata.csv"
    if not table.is_file():
        return {}
    with table.open(newline="") as f:
        return {row["stem"]: int(row["fitzpatrick"]) for row in csv.DictReader(f)
                if (row.get("fitzpatrick") or "").strip().isdigit()}


def _by_skin_type(pairs: list[SamplePair], types: dict[str, int]) -> dict[str | None, list[SamplePair]]:
    groups: dict[str | None, list[SamplePair]] = {}
    for pair in pairs:
        group = next((g for g, members in SKIN_TYPE_GROUPS.items() if types.get(pair.stem) in members), None)
        groups.setdefault(group, []).append(pair)
    return groups


def held_out_parts(data_root: str | Path, k: int) -> list[list[SamplePair]]:
    """The k parts of the clinical photos, in fold order: fold i holds out part i."""
    clinical = dataset_splits(data_root)[CLINICAL].test
    return [held_out for _, held_out in kfold_splits(clinical, k, seed=SPLIT_SEED)]


def train_fold(data_root: str | Path, work: str | Path, pretrained: Path, k: int, fold: int,
               backgrounds: Path | None = None, device: str = "auto", on_progress=None,
               seed: int = RECIPE_SEED) -> Path:
    """Stages 2 and 3 of fold `fold` (1..k) in `work`/fold<fold>, resumable; returns its model's config path. Folds
    share nothing but `pretrained`, so they may train at the same time in separate processes."""
    parts = held_out_parts(data_root, k)
    if not 1 <= fold <= len(parts):
        raise ValueError(f"fold must be between 1 and {len(parts)}, got {fold}")
    return _train_part(data_root, work, pretrained, fold, parts[fold - 1], backgrounds, device, on_progress, seed)


def _train_part(data_root: str | Path, work: str | Path, pretrained: Path, fold: int, held_out: list[SamplePair],
                backgrounds: Path | None, device: str, on_progress, seed: int) -> Path:
    return train_bundled(data_root, Path(work) / f"fold{fold}", device=device,
                         clinical_exclude={p.stem for p in held_out}, on_progress=on_progress, pretrained=pretrained,
                         backgrounds=backgrounds, seed=seed, people=False)


def clinical_kfold(data_root: str | Path, work: str | Path, pretrained: Path, k: int = 3,
                   backgrounds: Path | None = None, device: str = "auto", on_progress=None,
                   progress: Callable[[Iterable, int, str], Iterable] | None = None,
                   seed: int = RECIPE_SEED) -> dict[str, Any]:
    """Run the k folds (each resumable in `work`/fold<i>) and return a report dict like `bundled_report`'s.
    `seed`: the recipe's seed for stages 2 and 3; give the one `pretrained` was trained with."""
    work = Path(work)
    types = fitzpatrick_types(data_root)
    parts, folds = [], []
    by_group: dict[str, list[dict[str, Any]]] = {}
    for i, held_out in enumerate(held_out_parts(data_root, k), start=1):
        excluded = {p.stem for p in held_out}
        model_json = _train_part(data_root, work, pretrained, i, held_out, backgrounds, device, on_progress, seed)
        segmenter = Segmenter(model_json, device=device)
        # Scored group by group (each photo once), so that the groups can be summarised as well as the whole.
        group_parts = {group: collect_pairs(segmenter, pairs, progress=progress, label=f"fold {i}/{k}")
                       for group, pairs in _by_skin_type(held_out, types).items()}
        for group, group_part in group_parts.items():
            if group is not None:
                by_group.setdefault(group, []).append(group_part)
        part = merge_collected(list(group_parts.values()))
        parts.append(part)
        polish = segmenter.loaded.info.get("training", {}).get("stages", {}).get("clinical polish", {})
        folds.append({"fold": i, "held_out": sorted(excluded),
                      "model_jaccard": summarise_collected(part)["methods"]["model"]["summary"]["jaccard"]["mean"],
                      # the blend may step down from the recipe's where the polish cost the public photos too much
                      "polish_blend": polish.get("blend")})
    name = f"{CLINICAL} ({k}-fold, held out)"
    report: dict[str, Any] = {"model": f"bundled recipe after stage 1, per fold, from {pretrained}", "k": k,
                              "folds": folds, "sets": {name: summarise_collected(merge_collected(parts))}}
    for group in SKIN_TYPE_GROUPS:
        if group in by_group:
            entry = summarise_collected(merge_collected(by_group[group]))
            entry["description"] = f"the held-out photos of Fitzpatrick skin {group} (the set's metadata.csv)"
            report["sets"][f"{CLINICAL} {group} ({k}-fold, held out)"] = entry
    report["markdown"] = report_markdown(report)
    return report
