"""Does fine-tuning on corrected photos help, and does weighting the pixels the user changed help more? (Issue 6.)

k-fold on a folder of photos with masks (default `../shared/data/clinical_fitz17k`): in each fold the other photos
play the user's corrected photos (the model's own prediction is kept as "what the correction started from", the
reference mask is the correction), the app's fine-tuning job (`skinseg_core.finetune_job.run_job`, the same code)
runs once per `--changed-weight`, and the model in use and each new model are scored at full resolution on the fold's
test photos, which no job ever sees. Prints a table and the time per job; writes JSON with `--out`.

    .venv/bin/python benchmarks/finetune_gain.py [--model FILE] [--folds 5] [--changed-weight 1 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skinseg_core.data import find_pairs, kfold_splits  # noqa: E402
from skinseg_core.evaluation import evaluate_pairs  # noqa: E402
from skinseg_core.finetune_job import APP_SETTINGS, JobSpec, run_job  # noqa: E402
from skinseg_core.imageio import read_mask  # noqa: E402
from skinseg_core.inference import Segmenter, resolve_model_path  # noqa: E402
from skinseg_core.probmap import predict_map  # noqa: E402
from skinseg_core.sidecar import Sidecar  # noqa: E402
from skinseg_core.training import TrainSettings  # noqa: E402


def corrected_copy(pairs, folder: Path, segmenter: Segmenter) -> list[Path]:  # noqa: ANN001
    """Copy the photos into `folder` and record their reference masks as corrections of the model's prediction."""
    folder.mkdir(parents=True)
    sidecar = Sidecar(folder)
    photos = []
    for pair in pairs:
        photo = folder / pair.image.name
        shutil.copy(pair.image, photo)
        prob = predict_map(segmenter, photo)
        sidecar.mark_corrected(photo, prediction_threshold=segmenter.loaded.threshold)
        sidecar.write_prediction(photo, prob)
        sidecar.write_corrected_mask(photo, read_mask(pair.mask, size=prob.full_size))
        photos.append(photo)
    sidecar.save()
    return photos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="model fine-tuned (default: the default model)")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "clinical_fitz17k")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0, help="k-fold seed (2018 matches `skinseg report --clinical-kfold`)")
    parser.add_argument("--fold-models", type=Path, default=None, metavar="DIR",
                        help="start fold i from DIR/fold<i+1>/skinseg-bundled.json instead of --model: the bundled "
                             "recipe's k-fold models (`skinseg report --clinical-kfold`), which never saw that fold")
    parser.add_argument("--changed-weight", type=float, nargs="+", default=[1.0, 3.0])
    parser.add_argument("--epochs", type=int, default=APP_SETTINGS.epochs)
    parser.add_argument("--patience", type=int, default=APP_SETTINGS.patience)
    parser.add_argument("--batch-size", type=int, default=APP_SETTINGS.batch_size)
    parser.add_argument("--background-jaccard", type=float, default=APP_SETTINGS.background_jaccard,
                        help="weight of the background class's Jaccard loss (TrainSettings.background_jaccard)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N photos (quick checks)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    model = resolve_model_path(args.model)
    pairs = find_pairs(args.data / "images", args.data / "masks")[: args.limit]
    settings = TrainSettings.from_dict(dict(APP_SETTINGS.to_dict(), epochs=args.epochs, patience=args.patience,
                                            batch_size=args.batch_size,
                                            background_jaccard=args.background_jaccard))
    segmenter = Segmenter(model, device=args.device, backend="torch")
    rows = []
    with tempfile.TemporaryDirectory(prefix="skinseg-finetune-gain-") as scratch:
        for fold, (train, test) in enumerate(kfold_splits(pairs, args.folds, seed=args.seed)):
            if args.fold_models is not None:
                model = args.fold_models / f"fold{fold + 1}" / "skinseg-bundled.json"
                segmenter = Segmenter(model, device=args.device, backend="torch")
            photos = corrected_copy(train, Path(scratch) / f"fold{fold}" / "photos", segmenter)
            in_use = evaluate_pairs(segmenter, test)["summary"]
            row = {"fold": fold, "test": [p.image.name for p in test], "in_use": in_use["jaccard"]["mean"],
                   "bg_in_use": in_use["background_jaccard"]["mean"]}
            for weight in args.changed_weight:
                job = Path(scratch) / f"fold{fold}" / f"job-w{weight:g}"
                JobSpec([str(p) for p in photos], str(model), settings.to_dict(), device=args.device,
                        changed_weight=weight).write(job)
                started = time.perf_counter()
                if run_job(job) != 0:
                    print((job / "progress.jsonl").read_text().splitlines()[-1], file=sys.stderr)
                    return 1
                seconds = time.perf_counter() - started
                new = Segmenter(job / "result" / "model.json", device=args.device, backend="torch")
                scores = evaluate_pairs(new, test)["summary"]
                row[f"w{weight:g}"] = scores["jaccard"]["mean"]
                row[f"bg_w{weight:g}"] = scores["background_jaccard"]["mean"]
                row[f"w{weight:g}_s"] = round(seconds, 1)
                print(f"fold {fold}  weight {weight:g}: test Jaccard {row['in_use']:.4f} -> {row[f'w{weight:g}']:.4f}"
                      f"  ({seconds:.0f} s for {len(photos)} photos)", file=sys.stderr)
            rows.append(row)
    print("| | model in use | " + " | ".join(f"fine-tuned, changed pixels x{w:g}" for w in args.changed_weight) + " |")
    print("|---|---:|" + "---:|" * len(args.changed_weight))
    for row in rows:
        print(f"| fold {row['fold']} | {row['in_use']:.4f} | "
              + " | ".join(f"{row[f'w{w:g}']:.4f}" for w in args.changed_weight) + " |")
    means = [statistics.mean(r["in_use"] for r in rows)] + [statistics.mean(r[f"w{w:g}"] for r in rows)
                                                            for w in args.changed_weight]
    print("| mean | " + " | ".join(f"{m:.4f}" for m in means) + " |")
    backgrounds = [statistics.mean(r["bg_in_use"] for r in rows)] + [
        statistics.mean(r[f"bg_w{w:g}"] for r in rows) for w in args.changed_weight]
    print("| mean background Jaccard | " + " | ".join(f"{m:.4f}" for m in backgrounds) + " |")
    if args.out:
        args.out.write_text(json.dumps({"model": str(args.fold_models or model), "settings": settings.to_dict(), "folds": rows},
                                       indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
