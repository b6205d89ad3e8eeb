"""The paper's three training scenarios (Table I): direct transfer, direct training and fine-tuning.

For each architecture: pretrain on the public healthy-skin folders (20 % of each held out for validation); then, for
each of k folds of the clinical photos, (a) score the pretrained network on the fold's test photos (direct transfer),
(b) train a fresh network on the other folds (direct training, lr 0.01) and (c) fine-tune the pretrained network on
them (fine-tuning, lr 0.001). Every clinical photo is a test photo exactly once, so each scenario gets one score per
photo; the table reports their mean and spread. Each training run lives in its own folder and resumes.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skinseg_core.atomic import atomic_write_json, atomic_write_text
from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.data import SamplePair, folder_pairs, kfold_splits, split_pairs
from skinseg_core.devices import resolve_device
from skinseg_core.evaluation import evaluate_pairs
from skinseg_core.flops import count_parameters
from skinseg_core.inference import Segmenter
from skinseg_core.metrics import Counts, summarize
from skinseg_core.models import build_model, settings_for
from skinseg_core.training import LR_FROM_SCRATCH, Progress, TrainSettings, fit, run_fit

log = logging.getLogger(__name__)

SCENARIOS = ("direct_transfer", "direct_training", "fine_tuning")
SCENARIO_TITLES = {"direct_transfer": "Direct Transfer", "direct_training": "Direct Training",
                   "fine_tuning": "Fine-Tuning"}


@dataclass
class ExperimentSpec:
    architectures: list[str]
    pretrain_folders: list[str]
    clinical_folder: str
    folds: int = 5
    # Size settings for every architecture; each takes the keys it accepts (see models.settings_for).
    model_overrides: dict[str, Any] = field(default_factory=dict)
    pretrain_settings: dict[str, Any] = field(default_factory=dict)
    clinical_settings: dict[str, Any] = field(default_factory=dict)
    max_pretrain_per_folder: int | None = None
    seed: int = 0
    # Pretraining and direct training use this rate, fine-tuning a tenth of it (the paper: 0.01 and 0.001).
    learning_rate: float = LR_FROM_SCRATCH


def _settings(values: dict[str, Any], learning_rate: float) -> TrainSettings:
    clean = {k: v for k, v in values.items() if v is not None}
    clean.setdefault("learning_rate", learning_rate)
    return TrainSettings.from_dict(clean)


def _pretrain_pairs(spec: ExperimentSpec) -> tuple[list[SamplePair], list[SamplePair]]:
    train, val = [], []
    rng = random.Random(spec.seed)
    for folder in spec.pretrain_folders:
        pairs = folder_pairs(folder)
        if spec.max_pretrain_per_folder and len(pairs) > spec.max_pretrain_per_folder:
            # The paper downsampled each set at random to balance them (1000 / 721 / 899).
            pairs = sorted(rng.sample(pairs, spec.max_pretrain_per_folder), key=lambda p: p.image.name)
        t, v = split_pairs(pairs, 0.2, seed=spec.seed)
        train += t
        val += v
    return train, val


def _score(checkpoint: Path, pairs: list[SamplePair], device: str) -> list[dict[str, Any]]:
    segmenter = Segmenter(load_checkpoint(checkpoint), device=device)
    return evaluate_pairs(segmenter, pairs)["per_image"]


def _counts_of(rows: list[dict[str, Any]]) -> list[Counts]:
    return [Counts(**row["counts"]) for row in rows]


def run_experiment(
    spec: ExperimentSpec,
    out: str | Path,
    device: str = "auto",
    on_progress: Callable[[Progress], None] | None = None,
) -> dict[str, Any]:
    """Run every architecture x scenario; write table1.md and table1.json into `out`; return the JSON."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch_device = resolve_device(device)
    clinical = folder_pairs(spec.clinical_folder)
    folds = kfold_splits(clinical, min(spec.folds, len(clinical)), seed=spec.seed)
    pre_train, pre_val = _pretrain_pairs(spec)
    results: dict[str, Any] = {"spec": dataclasses.asdict(spec), "architectures": {}}
    for arch in spec.architectures:
        model = build_model(arch, seed=spec.seed, **settings_for(arch, spec.model_overrides))
        arch_dir = out / arch
        pretrain = run_fit(fit(arch_dir / "pretrain", model, pre_train, pre_val,
                               _settings(spec.pretrain_settings, spec.learning_rate), torch_device,
                               {"name": f"{arch}-pretrained", "scenario": "pretraining"}), on_progress)
        per_image: dict[str, list[dict[str, Any]]] = {s: [] for s in SCENARIOS}
        for index, (fold_train, fold_test) in enumerate(folds):
            fold_dir = arch_dir / f"fold{index}"
            per_image["direct_transfer"] += _score(pretrain.best_checkpoint, fold_test, device)
            train, val = split_pairs(fold_train, 0.2, seed=spec.seed)
            scratch = build_model(arch, seed=spec.seed + index + 1, **settings_for(arch, spec.model_overrides))
            direct = run_fit(fit(fold_dir / "direct_training", scratch, train, val,
                                 _settings(spec.clinical_settings, spec.learning_rate), torch_device,
                                 {"name": f"{arch}-direct-fold{index}", "scenario": "direct_training"}), on_progress)
            per_image["direct_training"] += _score(direct.best_checkpoint, fold_test, device)
            tuned_start = load_checkpoint(pretrain.best_checkpoint).model
            tuned = run_fit(fit(fold_dir / "fine_tuning", tuned_start, train, val,
                                _settings(spec.clinical_settings, spec.learning_rate / 10), torch_device,
                                {"name": f"{arch}-finetuned-fold{index}", "scenario": "fine_tuning"}), on_progress)
            per_image["fine_tuning"] += _score(tuned.best_checkpoint, fold_test, device)
        results["architectures"][arch] = {
            "model": model.config,
            "params": count_parameters(model),
            "pretrain_epochs": pretrain.epochs_run,
            "scenarios": {s: {"summary": summarize(_counts_of(rows)), "per_image": rows}
                          for s, rows in per_image.items()},
        }
    results["markdown"] = table_markdown(results)
    atomic_write_json(out / "table1.json", results)
    atomic_write_text(out / "table1.md", results["markdown"] + "\n")
    return results


def table_markdown(results: dict[str, Any]) -> str:
    """Table I: Jaccard (Dice) per architecture and scenario, as mean ± std over the clinical photos."""
    n_folds = results["spec"]["folds"]
    lines = [
        f"Jaccard (Dice), mean ± std over clinical photos ({n_folds}-fold; each photo tested once)",
        "",
        "| Model | # Param | " + " | ".join(SCENARIO_TITLES[s] for s in SCENARIOS) + " |",
        "|---|---:|" + "---|" * len(SCENARIOS),
    ]
    for arch, entry in results["architectures"].items():
        cells = []
        for scenario in SCENARIOS:
            summary = entry["scenarios"][scenario]["summary"]
            j, d = summary["jaccard"], summary["dice"]
            cells.append(f"{j['mean']:.2f} ± {j['std']:.2f} ({d['mean']:.2f} ± {d['std']:.2f})")
        lines.append(f"| {arch} | {entry['params'] / 1e6:.2f}M | " + " | ".join(cells) + " |")
    return "\n".join(lines)
