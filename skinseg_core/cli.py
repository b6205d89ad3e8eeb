"""The `skinseg` command: predict, evaluate, train, finetune, experiment, models, benchmark.

Expected failures (bad photos, missing models, absent devices) print one clear line and exit with status 2;
nothing here prints a traceback for them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import skinseg_core
from skinseg_core.errors import SkinSegError
from skinseg_core.paths import model_card_path

log = logging.getLogger("skinseg")

EXIT_FAILED = 1  # some photos failed, the others were done
EXIT_ERROR = 2  # nothing could be done (bad arguments, no model, ...)


def _progress(iterable, **kwargs):
    from tqdm import tqdm

    return tqdm(iterable, file=sys.stderr, dynamic_ncols=True, disable=kwargs.pop("quiet", False), **kwargs)


def _add_device(parser: argparse.ArgumentParser) -> None:
    from skinseg_core.devices import DEVICE_CHOICES

    parser.add_argument("--device", default="auto", choices=DEVICE_CHOICES,
                        help="compute device: auto (CUDA, then Apple MPS, then CPU; default), cpu, cuda or mps")


def _add_refine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--refine", action=argparse.BooleanOptionalAction, default=None,
                        help="refine the map's edges with the photo's colours, a guided filter (default: as the model "
                        "file says; the bundled model does)")
    parser.add_argument("--face-gate", action=argparse.BooleanOptionalAction, default=None,
                        help="damp colours far from the skin inside the photo's faces, where faces are found "
                        "(default: as the model file says; the bundled model does)")


def _add_network(parser: argparse.ArgumentParser) -> None:
    # inference.NETWORKS, written out: importing it here would load torch for every command's --help.
    parser.add_argument("--network", default="auto", choices=("auto", "clinical", "people"),
                        help="which of the model's networks runs: auto (default) chooses by the faces found, the "
                        "network for photos of people where a large face is found and the first network elsewhere; "
                        "clinical always runs the first network (close-ups, a lesion on a face); people always runs "
                        "the network for photos of people, where the model has one (bodies, arms, hands and legs "
                        "with no face in view)")


def _add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, default=None,
                        help="model file (.json with its .safetensors beside it); default: the bundled model")


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers such as 16,32,64: {text!r}") from error


def _add_training(parser: argparse.ArgumentParser, *, fine_tune: bool) -> None:
    group = parser.add_argument_group("training settings (defaults: the paper's)")
    group.add_argument("--epochs", type=int, default=100 if fine_tune else 500, help="maximum epochs")
    group.add_argument("--patience", type=int, default=20 if fine_tune else 50,
                       help="stop after this many epochs without validation improvement")
    group.add_argument("--batch-size", type=int, default=16)
    group.add_argument("--lr", type=float, default=0.001 if fine_tune else 0.01, help="SGD learning rate")
    group.add_argument("--momentum", type=float, default=0.9)
    group.add_argument("--augmentation", choices=["paper", "strong"], default="strong",
                       help="paper: rotation, scale, crop; strong: also flips, colour, light, blur, JPEG")
    group.add_argument("--steps-per-epoch", type=int, default=None, help="default: one pass over the photos")
    group.add_argument("--val-fraction", type=float, default=0.2, help="share of photos held out for validation")
    group.add_argument("--seed", type=int, default=None,
                       help="random seed (default 0)" if fine_tune else
                       "random seed (default 0; with --recipe bundled, the recipe's seed, which moves every stage's "
                       "seed: default recipes.RECIPE_SEED; docs/adr/0015)")
    _add_device(parser)


def _recipe_seed(args: argparse.Namespace) -> int:
    """--seed for the bundled recipe: the recipe's own seed unless one is given."""
    from skinseg_core.recipes import RECIPE_SEED

    return RECIPE_SEED if args.seed is None else args.seed


def _plain_seed(args: argparse.Namespace) -> int:
    """--seed for training outside a recipe (splits, first weights, settings): 0 unless one is given."""
    return 0 if args.seed is None else args.seed


def _settings_from(args: argparse.Namespace):
    from skinseg_core.training import TrainSettings

    return TrainSettings(epochs=args.epochs, patience=args.patience, batch_size=args.batch_size, learning_rate=args.lr,
                         momentum=args.momentum, augmentation=args.augmentation,
                         steps_per_epoch=args.steps_per_epoch, seed=_plain_seed(args))


def _report_training(bar_holder: dict[str, Any]):
    """A callback for run_fit that shows a progress bar per epoch and a line per finished epoch."""

    def show(report) -> None:
        bar = bar_holder.get("bar")
        if report.event == "step":
            if bar is None or report.step == 1:
                if bar is not None:
                    bar.close()
                bar = _progress(range(report.steps), desc=f"epoch {report.epoch}/{report.epochs}", leave=False)
                bar_holder["bar"] = bar
            bar.update(1)
            bar.set_postfix(loss=f"{report.loss:.4f}")
        elif report.event == "epoch":
            if bar is not None:
                bar.close()
                bar_holder["bar"] = None
            print(f"epoch {report.epoch}: loss {report.loss:.4f}  val Jaccard {report.val_jaccard:.4f}  "
                  f"best {report.best_val_jaccard:.4f} (epoch {report.best_epoch})", file=sys.stderr)
        elif report.event == "finished" and report.stopped_early:
            print(f"stopped early: no validation improvement since epoch {report.best_epoch}", file=sys.stderr)

    return show


# --- predict -----------------------------------------------------------------------------------------------------

def _collect_photos(inputs: list[Path]) -> list[Path]:
    from skinseg_core.imageio import list_photos

    photos: list[Path] = []
    for item in inputs:
        if item.is_dir():
            found = list_photos(item)
            if not found:
                log.warning("no photos in folder %s", item)
            photos.extend(found)
        else:
            photos.append(item)
    return photos


def _output_names(photos: list[Path]) -> list[str]:
    """`<stem>.png` per photo; photos sharing a stem (a.jpg, a.tif) keep their suffix so nothing is overwritten."""
    stems = [p.stem for p in photos]
    names = []
    for photo in photos:
        if stems.count(photo.stem) > 1:
            names.append(f"{photo.stem}_{photo.suffix.lstrip('.').lower()}")
        else:
            names.append(photo.stem)
    return names


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from skinseg_core.imageio import write_gray_png, write_mask_png
    from skinseg_core.inference import Segmenter

    photos = _collect_photos(args.photos)
    if not photos:
        raise SkinSegError("No photos to segment: name photo files or folders that contain photos.")
    segmenter = Segmenter(args.model, device=args.device, tta=args.tta, refine=args.refine,
                          face_gate=args.face_gate, network=args.network)
    threshold = args.threshold if args.threshold is not None else segmenter.loaded.threshold
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for photo, name in zip(_progress(photos, desc="segmenting", unit="photo", quiet=args.quiet), _output_names(photos)):
        try:
            prediction = segmenter.predict(photo)
            write_mask_png(args.out / f"{name}.png", prediction.mask(threshold))
            if args.probabilities:
                write_gray_png(args.out / f"{name}_prob.png",
                               np.round(prediction.probabilities * 255.0).astype(np.uint8))
        except SkinSegError as error:
            failures += 1
            print(f"skipped: {error}", file=sys.stderr)
    done = len(photos) - failures
    print(f"{done} of {len(photos)} photos segmented into {args.out} "
          f"(model {segmenter.loaded.name}, threshold {threshold:g}, {segmenter.device_description})", file=sys.stderr)
    return EXIT_FAILED if failures else 0


# --- evaluate ----------------------------------------------------------------------------------------------------

def cmd_evaluate(args: argparse.Namespace) -> int:
    from skinseg_core.evaluation import evaluate_model, format_summary

    result = evaluate_model(args.model, args.images, args.masks, threshold=args.threshold, device=args.device,
                            tta=args.tta, refine=args.refine, face_gate=args.face_gate, network=args.network,
                            progress=lambda it, n: _progress(it, total=n, desc="evaluating", unit="photo",
                                                             quiet=args.json))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(format_summary(result))
    return 0


# --- train / finetune --------------------------------------------------------------------------------------------

def _model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for key in ("widths", "fc_dim", "fc_grid", "input_size", "dense_layers", "residual_blocks"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return overrides


def cmd_train(args: argparse.Namespace) -> int:
    from skinseg_core.data import folder_pairs, split_pairs
    from skinseg_core.devices import resolve_device
    from skinseg_core.models import build_model
    from skinseg_core.training import fit, run_fit

    if args.recipe:
        from skinseg_core.recipes import run_recipe

        return run_recipe(args.recipe, out=args.out, data_root=args.data_root, device=args.device,
                          install=args.install, pretrained=args.pretrained, backgrounds=args.backgrounds,
                          seed=_recipe_seed(args))
    if not args.data:
        raise SkinSegError("Give at least one --data FOLDER (with images/ and masks/ inside), or --recipe NAME.")
    device = resolve_device(args.device)
    train_pairs, val_pairs = [], []
    for folder in args.data:
        pairs = folder_pairs(folder)
        train, val = split_pairs(pairs, args.val_fraction, seed=_plain_seed(args))
        train_pairs += train
        val_pairs += val
    model = build_model(args.model, seed=_plain_seed(args), **_model_overrides(args))
    if args.init:
        from skinseg_core.checkpoint import load_weights_into

        load_weights_into(model, args.init)
    meta = {"name": args.name or args.out.name, "data": [str(Path(f).resolve()) for f in args.data],
            "init": str(args.init) if args.init else None}
    result = run_fit(fit(args.out, model, train_pairs, val_pairs, _settings_from(args), device, meta),
                     _report_training({}))
    print(f"best validation Jaccard {result.best_val_jaccard:.4f} at epoch {result.best_epoch}; "
          f"model: {result.best_checkpoint}")
    return 0


def _finetune_corrected(args: argparse.Namespace) -> int:
    """Fine-tune on the photos corrected in the app (their sidecars): the same job the app runs."""
    import shutil

    from skinseg_core import versions
    from skinseg_core.atomic import atomic_write_json
    from skinseg_core.checkpoint import checkpoint_paths, read_checkpoint_info
    from skinseg_core.finetune_job import DEFAULT_CHANGED_WEIGHT, JobSpec, check_enough, corrected_photos, run_job
    from skinseg_core.inference import resolve_model_path

    photos = corrected_photos(args.corrected)
    check_enough(len(photos))
    source = resolve_model_path(args.source)

    def show(event: dict[str, Any]) -> None:
        if event["event"] == "epoch":
            print(f"epoch {event['epoch']}/{event['epochs']}  loss {event['loss']:.4f}  held-out Jaccard "
                  f"{event['val_jaccard']:.4f}  (best {event['best_val_jaccard']:.4f})", file=sys.stderr)
        elif event["event"] in ("preparing", "evaluating"):
            print(event["event"] + "…", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="skinseg-finetune-") as scratch:
        job_dir = args.run_dir or Path(scratch)
        JobSpec([str(p) for p in photos], str(source), _settings_from(args).to_dict(), device=args.device,
                changed_weight=DEFAULT_CHANGED_WEIGHT if args.changed_weight is None else args.changed_weight,
                val_fraction=args.val_fraction).write(job_dir)
        code = run_job(job_dir, show)
        events = [json.loads(line) for line in (job_dir / "progress.jsonl").read_text(encoding="utf-8").splitlines()]
        if code != 0:
            raise SkinSegError(events[-1].get("message", "Fine-tuning stopped.") if events else "Fine-tuning failed.")
        result = job_dir / "result"
        comparison = json.loads((result / "comparison.json").read_text(encoding="utf-8"))
        config, weights = checkpoint_paths(args.out)
        config.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result / "model.safetensors", weights)
        atomic_write_json(config, dict(read_checkpoint_info(result / "model.json"), weights_file=weights.name,
                                       name=config.stem))
    summary = comparison["summary"]
    print(f"held-out Jaccard: in use {summary['active']['jaccard']:.4f}, new {summary['new']['jaccard']:.4f}; "
          f"Dice: in use {summary['active']['dice']:.4f}, new {summary['new']['dice']:.4f} "
          f"({len(comparison['held_out'])} held-out photos)")
    print(f"fine-tuned model written to {config}")
    if args.adopt:
        version = versions.add_version(config, {
            "parent": comparison["parent"]["name"], "photos": comparison["train_photos"] + comparison["held_out"],
            "held_out": comparison["held_out"], "metrics": summary, "best_epoch": comparison["best_epoch"],
            "settings": comparison["settings"]})
        versions.activate(version.id)
        print(f"adopted as {version.id}: now the default model (roll back in the app: Model › Model Versions…)")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from skinseg_core.finetune import finetune_folder

    if args.corrected:
        if args.images or args.masks:
            raise SkinSegError("Give either --corrected FOLDER or --images DIR --masks DIR, not both.")
        return _finetune_corrected(args)
    if not (args.images and args.masks):
        raise SkinSegError("Give --images DIR and --masks DIR, or --corrected FOLDER (photos corrected in the app).")
    source = args.source
    with tempfile.TemporaryDirectory(prefix="skinseg-finetune-") as scratch:
        run_dir = args.run_dir or Path(scratch)
        out = finetune_folder(args.images, args.masks, source=source, out=args.out, run_dir=run_dir,
                              settings=_settings_from(args), val_fraction=args.val_fraction, device=args.device,
                              on_progress=_report_training({}))
    print(f"fine-tuned model written to {out}")
    return 0


# --- experiment, models, benchmark -------------------------------------------------------------------------------

def _bundled_size() -> dict[str, Any]:
    from skinseg_core.recipes import BUNDLED_ARCHITECTURE

    return {k: v for k, v in BUNDLED_ARCHITECTURE.items() if k != "name"}


def cmd_experiment(args: argparse.Namespace) -> int:
    from skinseg_core.experiment import ExperimentSpec, run_experiment

    common = dict(patience=args.patience, batch_size=args.batch_size, augmentation=args.augmentation,
                  optimizer=args.optimizer, lr_schedule=args.lr_schedule, bce_weight=args.bce_weight,
                  weight_decay=args.weight_decay, grad_clip=args.grad_clip, seed=args.seed)
    spec = ExperimentSpec(
        architectures=args.arch or ["unet", "dense-res-unet"],
        pretrain_folders=[str(p) for p in args.pretrain],
        clinical_folder=str(args.clinical),
        folds=args.folds,
        model_overrides={**(_bundled_size() if args.desktop_size else {}), **_model_overrides(args)},
        pretrain_settings=dict(epochs=args.pretrain_epochs, steps_per_epoch=args.steps_per_epoch, **common),
        clinical_settings=dict(epochs=args.clinical_epochs, steps_per_epoch=args.clinical_steps_per_epoch, **common),
        max_pretrain_per_folder=args.max_pretrain_per_folder,
        seed=args.seed,
        learning_rate=args.lr,
    )
    result = run_experiment(spec, args.out, device=args.device, on_progress=_report_training({}))
    print(result["markdown"])
    print(f"written: {args.out / 'table1.md'} and {args.out / 'table1.json'}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from skinseg_core.atomic import atomic_write_json, atomic_write_text
    from skinseg_core.paths import repo_root
    from skinseg_core.report import bundled_report

    data_root = args.data_root or repo_root().parent / "shared" / "data"
    photos = lambda it, n, label: _progress(it, total=n, desc=label, unit="photo")  # noqa: E731
    if args.clinical_kfold:
        from skinseg_core.clinical_kfold import clinical_kfold

        if args.pretrained is None:
            raise SkinSegError("--clinical-kfold needs --pretrained: the stage-1 model every fold fine-tunes "
                               "(e.g. runs/bundled/pretrain/best.json)")
        holder: dict[str, Any] = {}
        if args.fold:
            from skinseg_core.clinical_kfold import train_fold

            if not 1 <= args.fold <= args.clinical_kfold:
                raise SkinSegError(f"--fold must be between 1 and {args.clinical_kfold} (the k of --clinical-kfold)")
            model_json = train_fold(data_root, args.work, args.pretrained, args.clinical_kfold, args.fold,
                                    backgrounds=args.backgrounds, device=args.device,
                                    on_progress=_report_training(holder), seed=_recipe_seed(args))
            print(f"fold {args.fold} of {args.clinical_kfold} trained: {model_json}. Once every fold is trained, "
                  "run the same command without --fold to score them.")
            return 0
        report = clinical_kfold(data_root, args.work, args.pretrained, k=args.clinical_kfold,
                                backgrounds=args.backgrounds, device=args.device,
                                on_progress=_report_training(holder), progress=photos,
                                seed=_recipe_seed(args))
    elif args.fold:
        raise SkinSegError("--fold needs --clinical-kfold K: it trains one of the K folds")
    else:
        report = bundled_report(args.model, data_root, device=args.device, progress=photos, split=args.split,
                                network=args.network)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(args.out / "report.json", report)
        atomic_write_text(args.out / "report.md", report["markdown"] + "\n")
    print(json.dumps(report, indent=2) if args.json else report["markdown"])
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from skinseg_core.model_catalog import preset_table

    rows = preset_table()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'name':<16}{'params':>14}{'GFLOPs@128':>12}{'GFLOPs@256':>12}")
        for row in rows:
            print(f"{row['name']:<16}{row['params']:>14,}{row['gflops_128']:>12.2f}{row['gflops_256']:>12.2f}")
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from skinseg_core.benchmark import format_benchmark, run_benchmark

    result = run_benchmark(args.model, device=args.device, repeats=args.repeats, include_50mp=not args.skip_50mp)
    print(json.dumps(result, indent=2) if args.json else format_benchmark(result))
    return 0


# --- parser ------------------------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    card = model_card_path()
    parser = argparse.ArgumentParser(
        prog="skinseg",
        description="SkinSeg: skin segmentation of clinical photographs (Codella et al., EMBC 2018). "
        "For research use only.",
    )
    parser.add_argument("--version", action="version", version=f"skinseg {skinseg_core.__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("predict", help="segment photos into skin masks",
                       description="Write DIR/<stem>.png (0/255, the photo's own size) for every photo. "
                       f"The default model and its measured quality are described in its model card: {card}")
    p.add_argument("photos", nargs="+", type=Path, metavar="PHOTO_OR_DIR", help="photo files or folders of photos")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the masks")
    _add_model(p)
    p.add_argument("--threshold", type=float, default=None, help="skin if probability >= T (default: the model's, 0.5)")
    _add_device(p)
    p.add_argument("--probabilities", action="store_true", help="also write <stem>_prob.png (8-bit probabilities)")
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                   help="average with a horizontally flipped pass (default: as the model file says; the bundled "
                   "model does)")
    _add_refine(p)
    _add_network(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("evaluate", help="measure a model against reference masks",
                       description="Jaccard and Dice per photo, their spread, and pooled over the set, at full resolution.")
    p.add_argument("--images", type=Path, required=True, metavar="DIR")
    p.add_argument("--masks", type=Path, required=True, metavar="DIR")
    _add_model(p)
    p.add_argument("--threshold", type=float, default=None)
    _add_device(p)
    p.add_argument("--tta", action=argparse.BooleanOptionalAction, default=None,
                   help="average with a horizontally flipped pass (default: as the model file says)")
    _add_refine(p)
    _add_network(p)
    p.add_argument("--json", action="store_true", help="print JSON (with per-photo scores)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a network from scratch (or from --init)",
                       description="Train on folders with images/ and masks/ (matched by file stem); 20 % of each "
                       "folder is held out for validation. The run folder holds config, metrics, the best model and "
                       "resume state: run the same command again to resume an interrupted run.")
    p.add_argument("--data", type=Path, action="append", metavar="FOLDER", help="a folder with images/ and masks/; repeat")
    p.add_argument("--out", type=Path, required=True, metavar="RUN_DIR")
    p.add_argument("--model", default="dense-res-unet", help="preset or architecture name (see `skinseg models`)")
    p.add_argument("--name", default=None, help="model name recorded in its config")
    p.add_argument("--init", type=Path, default=None, help="start from this model file's weights")
    p.add_argument("--recipe", default=None, help="run a named recipe instead (e.g. 'bundled')")
    p.add_argument("--data-root", type=Path, default=None,
                   help="for --recipe: the shared data folder (default: ../shared/data beside the checkout)")
    p.add_argument("--backgrounds", type=Path, default=None,
                   help="for --recipe bundled: skin-free pictures for collages and negatives in stage 2 (made by "
                        "scripts/fetch_backgrounds.py)")
    p.add_argument("--pretrained", type=Path, default=None,
                   help="for --recipe bundled: skip stage 1 and fine-tune this pretrained model")
    p.add_argument("--install", action="store_true",
                   help="for --recipe bundled: copy the result into models/ as the bundled model")
    arch = p.add_argument_group("network size (overrides the preset)")
    arch.add_argument("--widths", type=_int_tuple, default=None, help="filters per level, e.g. 16,32,64,96")
    arch.add_argument("--fc-dim", type=int, default=None, help="bottleneck fully-connected size (0: none)")
    arch.add_argument("--fc-grid", type=int, default=None, help="grid the bottleneck FC sees")
    arch.add_argument("--input-size", type=int, default=None, help="network input size (square)")
    arch.add_argument("--dense-layers", type=int, default=None)
    arch.add_argument("--residual-blocks", type=int, default=None)
    _add_training(p, fine_tune=False)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("finetune", help="adapt a model to your corrected photos (learning rate 0.001)",
                       description="Fine-tune a model on photos with corrected masks; 20 % (at least 2 photos) are "
                       "held out to choose the best epoch and to report the gain.")
    p.add_argument("--images", type=Path, default=None, metavar="DIR")
    p.add_argument("--masks", type=Path, default=None, metavar="DIR")
    p.add_argument("--corrected", type=Path, action="append", default=None, metavar="FOLDER",
                   help="a folder of photos corrected in the app (repeat for more); the app's own fine-tuning job")
    p.add_argument("--changed-weight", type=float, default=None,
                   help="with --corrected: loss weight of the pixels the user changed (1: no extra weight; "
                        "default 3, chosen by benchmarks/finetune_gain.py)")
    p.add_argument("--adopt", action="store_true",
                   help="with --corrected: store the new model as a version and make it the default")
    p.add_argument("--from", dest="source", type=Path, default=None, help="model to start from (default: the default model)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="new model file (.json; weights beside it)")
    p.add_argument("--run-dir", type=Path, default=None, help="keep the training run here (default: a temporary folder)")
    _add_training(p, fine_tune=True)
    p.set_defaults(func=cmd_finetune)

    p = sub.add_parser("experiment", help="the paper's three scenarios (Table I)",
                       description="Direct transfer, direct training and fine-tuning for each architecture; clinical "
                       "photos in k folds; writes table1.md and table1.json with per-image spread.")
    p.add_argument("--arch", action="append", help="preset or architecture (repeat); default: unet and dense-res-unet")
    p.add_argument("--pretrain", type=Path, action="append", required=True, metavar="FOLDER")
    p.add_argument("--clinical", type=Path, required=True, metavar="FOLDER")
    p.add_argument("--out", type=Path, required=True, metavar="DIR")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--pretrain-epochs", type=int, default=500)
    p.add_argument("--clinical-epochs", type=int, default=500)
    p.add_argument("--patience", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.01, help="from-scratch learning rate (fine-tuning uses a tenth)")
    p.add_argument("--optimizer", choices=["sgd", "adamw"], default="sgd",
                   help="sgd (the paper's, default) or adamw (converges in fewer steps: CPU budgets)")
    p.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant")
    p.add_argument("--bce-weight", type=float, default=0.0, help="cross-entropy added to the Jaccard loss")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--grad-clip", type=float, default=None)
    p.add_argument("--steps-per-epoch", type=int, default=None)
    p.add_argument("--clinical-steps-per-epoch", type=int, default=None)
    p.add_argument("--max-pretrain-per-folder", type=int, default=None, help="balance the sets as the paper did")
    p.add_argument("--augmentation", choices=["paper", "strong"], default="strong")
    p.add_argument("--seed", type=int, default=0)
    arch = p.add_argument_group("network size (overrides every architecture's preset)")
    arch.add_argument("--widths", type=_int_tuple, default=None)
    arch.add_argument("--fc-dim", type=int, default=None)
    arch.add_argument("--fc-grid", type=int, default=None)
    arch.add_argument("--input-size", type=int, default=None)
    arch.add_argument("--desktop-size", action="store_true",
                      help="every architecture at the bundled model's size (widths, input size, ...); the options "
                           "above still override it")
    _add_device(p)
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("report", help="test scores of a model per held-out set next to two colour-rule baselines",
                       description="Scores the model and the Kovac RGB and Chai & Ngan YCrCb colour rules on LFW's "
                       "test split, the held-out parts of SFA, abdomen and ECU and the clinical photos; on LFW's test "
                       "photos tiled 5 x 5 and 16 x 16 (faces as small as in group photos and crowds); on ECU's and "
                       "the clinical photos under coloured and mixed light; and on ECU's photos cut below their faces "
                       "(bodies, arms and hands with no face in view); at full resolution, in one run.")
    _add_model(p)
    p.add_argument("--data-root", type=Path, default=None, help="the shared data folder (default: ../shared/data)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="also write report.json and report.md here")
    p.add_argument("--clinical-kfold", type=int, default=0, metavar="K",
                   help="instead: run the bundled recipe's stages 2 and 3 K times, each with a K-th of the clinical photos "
                        "held out, and score every clinical photo with the model that did not see it")
    p.add_argument("--pretrained", type=Path, default=None, help="for --clinical-kfold: the stage-1 model")
    p.add_argument("--backgrounds", type=Path, default=None,
                   help="for --clinical-kfold: the backgrounds folder the recipe uses")
    p.add_argument("--work", type=Path, default=Path("runs") / "kfold",
                   help="for --clinical-kfold: where the fold runs go (resumable)")
    p.add_argument("--fold", type=int, default=0, metavar="I",
                   help="for --clinical-kfold: only train fold I (1..K) and stop, so that folds can train at once in "
                        "separate processes; the command without --fold then scores them")
    p.add_argument("--seed", type=int, default=None,
                   help="for --clinical-kfold: the recipe's seed for stages 2 and 3 (default: recipes.RECIPE_SEED; "
                        "give the seed of the stage-1 run measured)")
    p.add_argument("--split", choices=["test", "val"], default="test",
                   help="val: score the validation splits instead (no clinical photos), to choose between training "
                        "runs without looking at the test sets")
    _add_network(p)
    _add_device(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("models", help="list the network presets with parameters and GFLOPs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("benchmark", help="time the default model on this machine (prints figures, asserts nothing)")
    _add_model(p)
    _add_device(p)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--skip-50mp", action="store_true", help="leave out the 50 MP photo (slow to make)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_benchmark)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except SkinSegError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
