"""Fine-tuning on the user's corrected photos in a separate process, so a crash or a kill never touches the app.

The parent writes `job.json` into an empty job folder and starts `python -m skinseg_core.finetune_job JOB_DIR`, or in
a frozen app `skinseg-app --finetune-job JOB_DIR` (`FinetuneProcess` does both, see skinseg_core.frozen). The child:

    data/masks/          the corrected masks (saved PNG plus journal replayed), one per photo
    run/                 the `training.fit` run folder (resumable state, best epoch so far)
    progress.jsonl       one JSON object per line: {"event": "preparing" | "step" | "epoch" | "evaluating" |
                         "done" | "cancelled" | "error", ...}; the parent reads complete lines only
    result/              model.json + model.safetensors, comparison.json, thumbs/*.png: the finished model and
                         the active-vs-new comparison on the held-out photos. Built under a hidden name and renamed
                         into place as the very last step, so a killed process leaves no result at all.
    stop                 created by the parent to ask the child to stop at its next training step

The held-out photos (at least 20 %, at least 2) are never trained on; the best epoch on them is kept (early stopping
after `patience` epochs without improvement). The learning rate is the paper's fine-tuning rate, 0.001.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skinseg_core.errors import DataError, SkinSegError
from skinseg_core.finetune import MIN_HELD_OUT, MIN_PHOTOS, held_out_count
from skinseg_core.frozen import is_frozen, module_command
from skinseg_core.training import LR_FINE_TUNE, TrainSettings

log = logging.getLogger(__name__)

MIN_CORRECTED = MIN_PHOTOS + MIN_HELD_OUT - 1  # 2 held out, at least 2 to train on
# Pixels the user changed weigh this much more in the loss than the others (1.0: no weighting). Chosen by
# benchmarks/finetune_gain.py (3-fold on clinical_fitz17k from the pretrained model): held-out Jaccard 0.359 before,
# 0.870 fine-tuned with weight 1, 0.927 with weight 3 (better or equal in every fold). See ADR 0006.
DEFAULT_CHANGED_WEIGHT = 3.0
APP_SETTINGS = TrainSettings(learning_rate=LR_FINE_TUNE, epochs=30, patience=6, batch_size=8)
THUMB_LONG_SIDE = 160
_WEIGHT_LONG_SIDE = 512  # weight maps are computed at this size (SkinDataset resizes them again to its cache)

EXIT_CANCELLED = 3
EXIT_ERROR = 2


def corrected_photos(folders: Sequence[str | Path]) -> list[Path]:
    """The photos with a corrected mask in these folders (sidecar order: by file name, folder by folder)."""
    from skinseg_core.sidecar import Sidecar

    found: list[Path] = []
    for folder in folders:
        found += Sidecar(folder).corrected_photos()
    return found


def check_enough(count: int) -> None:
    """Raise DataError, saying how many are needed, when `count` corrected photos are too few to fine-tune."""
    if count < MIN_CORRECTED:
        raise DataError(
            f"Fine-tuning needs at least {MIN_CORRECTED} corrected photos ({MIN_HELD_OUT} are held out to check the "
            f"new model, the others are trained on); there {'is' if count == 1 else 'are'} {count}. Correct "
            f"{MIN_CORRECTED - count} more photo{'s' if MIN_CORRECTED - count != 1 else ''} and try again."
        )


@dataclass
class JobSpec:
    """What a fine-tuning job does; stored as the job folder's job.json."""

    photos: list[str]
    source: str  # the model fine-tuned (the active one), a .json model file
    settings: dict[str, Any] = field(default_factory=lambda: APP_SETTINGS.to_dict())
    device: str = "auto"
    changed_weight: float = DEFAULT_CHANGED_WEIGHT
    val_fraction: float = 0.2
    threads: int | None = None  # torch threads in the child (None: all cores but one, so the app stays responsive)

    def write(self, job_dir: Path) -> None:
        from skinseg_core.atomic import atomic_write_json

        job_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(job_dir / "job.json", dataclasses.asdict(self))

    @classmethod
    def read(cls, job_dir: Path) -> JobSpec:
        return cls(**json.loads((job_dir / "job.json").read_text(encoding="utf-8")))


class _Reporter:
    """Appends progress lines; each line is written whole and flushed, so the parent never reads half a line."""

    def __init__(self, path: Path, on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._last_step = 0.0
        self._on_event = on_event

    def __call__(self, event: str, **values: Any) -> None:
        if event == "step":  # steps are frequent; a few per second are plenty for a progress display
            now = time.monotonic()
            if now - self._last_step < 0.3:
                return
            self._last_step = now
        record = {"event": event, "time": time.time(), **values}
        self._handle.write(json.dumps(record) + "\n")
        self._handle.flush()
        if self._on_event is not None:
            self._on_event(record)

    def close(self) -> None:
        self._handle.close()


class _Stopped(Exception):
    pass


def _prepare(spec: JobSpec, job_dir: Path) -> tuple[list[Any], list[np.ndarray | None]]:
    """Write each photo's corrected mask into data/masks; the pairs and (optional) weight maps, photo by photo."""
    import cv2

    from skinseg_core.data import SamplePair
    from skinseg_core.imageio import read_photo, write_mask_png
    from skinseg_core.sidecar import Sidecar

    masks_dir = job_dir / "data" / "masks"
    masks_dir.mkdir(parents=True, exist_ok=True)
    sidecars: dict[Path, Sidecar] = {}
    pairs, weights = [], []
    for index, name in enumerate(spec.photos):
        photo = Path(name)
        sidecar = sidecars.setdefault(photo.parent, Sidecar(photo.parent))
        size = read_photo(photo, min_long_side=64).full_size
        mask = sidecar.read_corrected_mask(photo, size)
        if mask is None:
            raise DataError(f"{photo.name} has no corrected mask any more (was the photo changed?). Correct it "
                            "again, or leave it out.")
        mask_path = masks_dir / f"{index:04d}-{photo.stem}.png"
        write_mask_png(mask_path, mask.astype(bool))
        pairs.append(SamplePair(image=photo, mask=mask_path))
        weight = None
        prediction = sidecar.read_prediction(photo) if spec.changed_weight != 1.0 else None
        if prediction is not None:
            scale = min(1.0, _WEIGHT_LONG_SIDE / max(size))
            small = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
            threshold = sidecar.record(photo).prediction_threshold or 0.5
            predicted = prediction.resized(small) >= threshold
            target = cv2.resize(mask.astype(np.uint8), small, interpolation=cv2.INTER_NEAREST) > 0
            weight = np.where(predicted != target, np.float32(spec.changed_weight), np.float32(1.0))
        weights.append(weight)
    return pairs, weights


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    import cv2

    h, w = rgb.shape[:2]
    scale = THUMB_LONG_SIDE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interpolation = cv2.INTER_AREA if rgb.dtype == np.uint8 and rgb.ndim == 3 else cv2.INTER_NEAREST
    return cv2.resize(rgb, size, interpolation=interpolation)


def _compare(active: Any, new: Any, new_meta: Any, val_pairs: Sequence[Any], device: str, out: Path,
             report: _Reporter) -> dict[str, Any]:
    """Both models on the held-out photos at full resolution, each as it runs in the app (`new_meta`: the test-time
    flip and guided filter the new model is saved with): per-photo and mean Jaccard and Dice, thumbnails."""
    from PIL import Image

    from skinseg_core.face_colour import FaceColourGate
    from skinseg_core.imageio import read_mask
    from skinseg_core.inference import Segmenter
    from skinseg_core.metrics import confusion, dice, jaccard
    from skinseg_core.refine import GuidedFilter

    thumbs = out / "thumbs"
    thumbs.mkdir(parents=True, exist_ok=True)
    segmenters = {"active": Segmenter(active, device=device, backend="torch"),
                  "new": Segmenter(new, device=device, backend="torch", tta=new_meta.test_time_flip,
                                   refine=GuidedFilter.from_dict(new_meta.guided_filter) if new_meta.guided_filter
                                   else False,
                                   face_gate=FaceColourGate.from_dict(new_meta.face_colour_gate)
                                   if new_meta.face_colour_gate else False)}
    photos = []
    for index, pair in enumerate(val_pairs):
        report("evaluating", photo=index + 1, photos=len(val_pairs))
        row: dict[str, Any] = {"photo": str(pair.image), "thumbs": {}}
        for key, segmenter in segmenters.items():
            prediction = segmenter.predict(pair.image)
            target = read_mask(pair.mask, size=prediction.photo.full_size)
            mask = prediction.mask(segmenter.loaded.threshold)
            counts = confusion(mask, target)
            row[key] = {"jaccard": jaccard(counts), "dice": dice(counts)}
            name = f"{index:03d}-{key}.png"
            Image.fromarray(_thumbnail(mask.astype(np.uint8) * 255)).save(thumbs / name)
            row["thumbs"][key] = f"thumbs/{name}"
            if "photo" not in row["thumbs"]:
                name = f"{index:03d}-photo.png"
                Image.fromarray(_thumbnail(prediction.photo.rgb)).save(thumbs / name)
                row["thumbs"]["photo"] = f"thumbs/{name}"
        photos.append(row)
    summary = {key: {metric: float(np.mean([row[key][metric] for row in photos])) for metric in ("jaccard", "dice")}
               for key in segmenters}
    return {"photos": photos, "summary": summary}


def run_job(job_dir: str | Path, on_event: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Run the job in `job_dir` in this process (the child's main, and `skinseg finetune --corrected`); returns the
    exit status. `on_event` also gets each progress line (as a dict)."""
    import torch

    from skinseg_core.checkpoint import fine_tuned_meta, load_checkpoint, save_checkpoint
    from skinseg_core.data import split_pairs
    from skinseg_core.devices import resolve_device
    from skinseg_core.training import fit

    job_dir = Path(job_dir)
    report = _Reporter(job_dir / "progress.jsonl", on_event)
    stop_file = job_dir / "stop"
    parent_pid = os.getppid()

    def check_stop() -> None:
        # The app asked to stop, or the app is gone (the child then has nobody to report to).
        if stop_file.exists() or os.getppid() != parent_pid:
            raise _Stopped

    try:
        spec = JobSpec.read(job_dir)
        shutil.rmtree(job_dir / "result", ignore_errors=True)  # a re-run (same --run-dir) replaces the old result
        torch.set_num_threads(spec.threads or max(1, (os.cpu_count() or 1) - 1))
        settings = TrainSettings.from_dict(spec.settings)
        check_enough(len(spec.photos))
        report("preparing", photos=len(spec.photos))
        pairs, weights = _prepare(spec, job_dir)
        n_val = held_out_count(len(pairs), spec.val_fraction)
        train, val = split_pairs(pairs, n_val / len(pairs), seed=settings.seed)
        train_weights = [weights[pairs.index(p)] for p in train]
        use_weights = spec.changed_weight != 1.0 and any(w is not None for w in train_weights)
        check_stop()
        active = load_checkpoint(spec.source)
        device = resolve_device(spec.device)
        candidate = load_checkpoint(spec.source).model
        meta = {"name": "fine-tuned", "parent": active.name, "parent_sha256": active.info.get("weights_sha256"),
                "scenario": "fine-tuning", "changed_weight": spec.changed_weight}
        progress = fit(job_dir / "run", candidate, train, val, settings, device, meta,
                       pixel_weights=train_weights if use_weights else None)
        started = time.monotonic()
        result = None
        while True:
            check_stop()
            try:
                item = next(progress)
            except StopIteration as stop:
                result = stop.value
                break
            if item.event == "step":
                report("step", epoch=item.epoch, epochs=item.epochs, step=item.step, steps=item.steps,
                       loss=item.loss, elapsed_s=time.monotonic() - started)
            elif item.event == "epoch":
                per_epoch = (time.monotonic() - started) / item.epoch
                since_best = item.epoch - (item.best_epoch or item.epoch)
                left = 0 if item.stopped_early else min(item.epochs - item.epoch, settings.patience - since_best)
                report("epoch", epoch=item.epoch, epochs=item.epochs, loss=item.loss, val_jaccard=item.val_jaccard,
                       best_val_jaccard=item.best_val_jaccard, best_epoch=item.best_epoch,
                       elapsed_s=time.monotonic() - started, remaining_s=max(0, left) * per_epoch,
                       stopped_early=item.stopped_early)
        progress.close()
        check_stop()
        best = load_checkpoint(result.best_checkpoint)
        staging = job_dir / f".result-{secrets.token_hex(4)}.tmp"
        staging.mkdir()
        meta = fine_tuned_meta(active, best, "fine-tuned")
        comparison = _compare(active, best, meta, val, spec.device, staging, report)
        comparison.update(
            parent={"name": active.name, "path": str(active.config_path),
                    "sha256": active.info.get("weights_sha256")},
            train_photos=[str(p.image) for p in train], held_out=[str(p.image) for p in val],
            best_epoch=result.best_epoch, epochs_run=result.epochs_run, settings=settings.to_dict(),
            changed_weight=spec.changed_weight if use_weights else 1.0,
        )
        meta.metrics["held_out_comparison"] = comparison["summary"]
        save_checkpoint(best.model, staging / "model.json", meta)
        (staging / "comparison.json").write_text(json.dumps(comparison, indent=1), encoding="utf-8")
        check_stop()
        os.replace(staging, job_dir / "result")  # the one step that makes the result visible
        report("done", result=str(job_dir / "result"), summary=comparison["summary"])
        return 0
    except _Stopped:
        report("cancelled")
        return EXIT_CANCELLED
    except SkinSegError as exc:
        report("error", message=str(exc))
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the parent must hear about every failure
        report("error", message=f"Fine-tuning failed: {exc}", details=traceback.format_exc())
        return 1
    finally:
        for leftover in job_dir.glob(".result-*.tmp"):
            shutil.rmtree(leftover, ignore_errors=True)
        report.close()


class FinetuneProcess:
    """The parent's handle on one job's child process (no Qt: the app polls it from a timer)."""

    def __init__(self, job_dir: str | Path) -> None:
        self.job_dir = Path(job_dir)
        self._process: subprocess.Popen[bytes] | None = None
        self._offset = 0
        self._partial = b""

    def start(self, spec: JobSpec) -> None:
        spec.write(self.job_dir)
        env = dict(os.environ)
        if not is_frozen():  # a frozen app runs the job itself (skinseg_core.frozen); from source, find this checkout
            root = str(Path(__file__).resolve().parent.parent)
            env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        with open(self.job_dir / "child.log", "wb") as log_file:
            self._process = subprocess.Popen(  # noqa: S603 - our own module, no shell
                module_command("skinseg_core.finetune_job", str(self.job_dir)),
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=self.job_dir,
            )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def poll(self) -> int | None:
        """The exit status once the child has ended, else None."""
        return self._process.poll() if self._process is not None else None

    def read_events(self) -> list[dict[str, Any]]:
        """The progress lines written since the last call (complete lines only)."""
        path = self.job_dir / "progress.jsonl"
        try:
            with open(path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        events = []
        for line in lines:
            try:
                events.append(json.loads(line))
            except ValueError:
                log.warning("Ignoring a damaged progress line from %s", path)
        return events

    def request_stop(self) -> None:
        (self.job_dir / "stop").touch()

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def result_dir(self) -> Path | None:
        result = self.job_dir / "result"
        return result if (result / "model.json").exists() else None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        sys.stderr.write("usage: python -m skinseg_core.finetune_job JOB_DIR\n")
        return EXIT_ERROR
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run_job(args[0])


if __name__ == "__main__":
    sys.exit(main())
