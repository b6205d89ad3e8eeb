"""Fine-tuning an existing model on a folder of corrected photos (the paper's third scenario, lr 0.001)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from skinseg_core.checkpoint import fine_tuned_meta, load_checkpoint, save_checkpoint
from skinseg_core.data import find_pairs, split_pairs
from skinseg_core.devices import resolve_device
from skinseg_core.errors import DataError
from skinseg_core.inference import resolve_model_path
from skinseg_core.training import LR_FINE_TUNE, Progress, TrainSettings, fit, run_fit

MIN_HELD_OUT = 2
MIN_PHOTOS = 3


def held_out_count(n: int, val_fraction: float = 0.2) -> int:
    """At least 20 % and at least 2 photos are held out."""
    return max(MIN_HELD_OUT, round(n * val_fraction))


def finetune_folder(
    images: str | Path,
    masks: str | Path,
    *,
    source: str | Path | None,
    out: str | Path,
    run_dir: str | Path,
    settings: TrainSettings = TrainSettings(learning_rate=LR_FINE_TUNE, epochs=100, patience=20),
    val_fraction: float = 0.2,
    device: str = "auto",
    on_progress: Callable[[Progress], None] | None = None,
) -> Path:
    """Fine-tune `source` (default: the default model) on images/masks; write the best epoch's model to `out`."""
    pairs = find_pairs(images, masks)
    if len(pairs) < MIN_PHOTOS + MIN_HELD_OUT - 1:
        raise DataError(
            f"Fine-tuning needs at least {MIN_PHOTOS + MIN_HELD_OUT - 1} photos with masks ({MIN_HELD_OUT} are held "
            f"out to check the result); {images} has {len(pairs)}."
        )
    n_val = held_out_count(len(pairs), val_fraction)
    train, val = split_pairs(pairs, n_val / len(pairs), seed=settings.seed)
    source_path = resolve_model_path(source)
    loaded = load_checkpoint(source_path)
    meta = {"name": Path(out).stem, "parent": loaded.name, "parent_sha256": loaded.info.get("weights_sha256"),
            "scenario": "fine-tuning", "images": str(Path(images).resolve())}
    result = run_fit(fit(run_dir, loaded.model, train, val, settings, resolve_device(device), meta), on_progress)
    best = load_checkpoint(result.best_checkpoint)
    return save_checkpoint(best.model, out, fine_tuned_meta(loaded, best, Path(out).stem))
