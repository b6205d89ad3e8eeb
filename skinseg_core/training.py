"""Training as plain functions: one epoch, evaluation, and `fit`, a generator that yields progress.

`fit` trains with the paper's settings (SGD, momentum 0.9, batch 16, Jaccard loss of eq. (1), early stopping after
`patience` epochs without validation improvement). It writes into its run folder:

    config.json        the settings, the network config and the photos used
    metrics.jsonl      one line per finished epoch
    best.json/.safetensors   the best model so far (the SkinSeg model format, see checkpoint.py)
    state.json/.safetensors  everything needed to resume: weights, optimiser momentum, RNG, counters

An interrupted run (killed, or its generator closed between steps) resumes from the last finished epoch when `fit`
is called again on the same folder with the same configuration.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import math
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader, RandomSampler

from skinseg_core.atomic import atomic_path, atomic_write_json
from skinseg_core.checkpoint import CheckpointMeta, save_checkpoint
from skinseg_core.closeups import CloseUpDataset
from skinseg_core.collage import CollageDataset, load_backgrounds
from skinseg_core.data import SamplePair, SkinDataset
from skinseg_core.decoys import DecoyDataset
from skinseg_core.errors import DataError, SkinSegError
from skinseg_core.lesion_spots import LesionSpotDataset
from skinseg_core.losses import jaccard_loss
from skinseg_core.metrics import Counts, confusion, summarize
from skinseg_core.mixed_light import MixedLightDataset
from skinseg_core.models import SegmentationNet, scores_to_probabilities
from skinseg_core.preprocess import NETWORK_CHANNELS, model_input
from skinseg_core.skin_tone import SkinToneDataset
from skinseg_core.transforms import eval_transform, train_transform

log = logging.getLogger(__name__)

LR_FROM_SCRATCH = 0.01
LR_FINE_TUNE = 0.001


@dataclass(frozen=True)
class TrainSettings:
    """Every training knob, defaulting to the paper's values (Codella et al. 2018, section II-A)."""

    epochs: int = 500
    patience: int = 50
    batch_size: int = 16
    learning_rate: float = LR_FROM_SCRATCH
    momentum: float = 0.9
    weight_decay: float = 0.0
    optimizer: str = "sgd"  # "sgd" (the paper's) or "adamw" (converges in fewer steps: the CPU-budget recipes)
    lr_schedule: str = "constant"  # "constant" (the paper's) or "cosine" (decays to 1 % over all epochs)
    augmentation: str = "strong"  # "paper" (rotation, scale, crop) or "strong" (adds flips, colour, light, blur, JPEG)
    # The paper trains with the Jaccard loss alone (0.0). A small cross-entropy term keeps gradients alive where
    # the re-scaled tanh saturates, which otherwise can freeze a from-scratch run at "everything is skin".
    bce_weight: float = 0.0
    grad_clip: float | None = None  # clip the gradient norm to this value (None: no clipping)
    # Share of training items cut from inside the skin and enlarged (see closeups.py): clinical close-ups.
    closeups: float = 0.0
    # Share of training photos whose absolute colour channels (a network with `absolute_colour`) are blanked, so
    # that the network also learns to find skin without them and does not lean on colour alone (docs/adr/0010).
    colour_dropout: float = 0.0
    # Share of training items whose skin is re-coloured (melanin and blood, see skin_tone.py): skin colours the
    # photos lack. Kept small (0.15, stage 1 of the bundled recipe): at 0.5 it costs web photos (docs/adr/0011).
    skin_tone: float = 0.0
    # Share of training items in which part of the background is painted a skin colour and stays background (see
    # decoys.py): skin-coloured clothes, hair and walls, which web photos show and the training photos rarely do.
    # Not in the bundled recipe: at 0.3 in stage 2 the network called less skin everywhere (docs/adr/0013).
    decoys: float = 0.0
    # Share of training items lit by two lights fading into each other, a lamp on one side and daylight on the other
    # (see mixed_light.py), which no single colour gain undoes. Not in the bundled recipe: at 0.2-0.4 in stage 4 it moved
    # the validation photos under such light less than another seed did (docs/adr/0030).
    mixed_light: float = 0.0
    # Share of training items given red, purple or brown spots on their skin, labelled skin (see lesion_spots.py):
    # lesions on faces, which the photos of people lack. Not in the bundled recipe yet: at 0.5 in stage 4 it kept
    # 0.010-0.014 more of lesions pasted on faces skin at the same validation score, not enough to beat the shipped
    # network on both (docs/adr/0030).
    lesion_spots: float = 0.0
    # Validate and keep an exponential moving average of the weights (this factor per step; 0: off) instead of the
    # last step's weights: one epoch's last batches then move the kept model less (docs/adr/0016).
    weight_average: float = 0.0
    # Weight W of the background class's Jaccard loss beside eq. (1)'s skin one: (J_skin + W J_background) / (1 + W).
    # On close-ups that are 90 % skin, eq. (1) counts their few background pixels no more than as many skin pixels;
    # the background term makes them count. Not in the bundled recipe: at 1 in the clinical polish it helped one
    # stage 1 on both the scenes and the held-out clinical photos and cost two others' clinical photos (docs/adr/0019).
    background_jaccard: float = 0.0
    steps_per_epoch: int | None = None  # None: one pass over the training photos per epoch
    cache_long_side: int | None = None  # photos are kept in memory at this long side (default 2 x input size)
    threshold: float = 0.5
    seed: int = 0
    num_workers: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer must be 'sgd' or 'adamw', got {self.optimizer!r}")
        if self.lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {self.lr_schedule!r}")
        if not 0.0 <= self.weight_average < 1.0:
            raise ValueError(f"weight_average must be in [0, 1), got {self.weight_average!r}")
        if self.background_jaccard < 0:
            raise ValueError(f"background_jaccard must be >= 0, got {self.background_jaccard!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown training settings {unknown}; valid ones: {sorted(known)}")
        return cls(**values)


@dataclass(frozen=True)
class Progress:
    """One report from `fit`: after every step (`event="step"`), epoch (`"epoch"`) and at the end (`"finished"`)."""

    event: str
    epoch: int  # 1-based epoch being trained or just finished
    epochs: int
    step: int  # 1-based step within the epoch
    steps: int
    loss: float  # mean training loss of this epoch so far
    val_jaccard: float | None = None  # mean per-image validation Jaccard of the finished epoch
    best_val_jaccard: float | None = None
    best_epoch: int | None = None
    elapsed_s: float = 0.0
    stopped_early: bool = False


@dataclass(frozen=True)
class FitResult:
    run_dir: Path
    best_checkpoint: Path
    best_val_jaccard: float
    best_epoch: int
    epochs_run: int


def _autocast_off(device: torch.device) -> bool:
    return device.type != "cuda"


def _to_device(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    images = images.to(device, non_blocking=True)
    if device.type in ("cpu", "cuda"):
        images = images.contiguous(memory_format=torch.channels_last)
    return images


def training_loss(scores: torch.Tensor, masks: torch.Tensor, weights: torch.Tensor | None = None,
                  bce_weight: float = 0.0, background_jaccard: float = 0.0) -> torch.Tensor:
    """Eq. (1) on the re-scaled tanh, averaged with weight `background_jaccard` with the same loss of the background
    class, plus optionally `bce_weight` x cross-entropy on the same probabilities.

    (tanh(s) + 1) / 2 equals sigmoid(2 s), so the cross-entropy is computed stably from the logits 2 s.
    """
    probs = scores_to_probabilities(scores)
    loss = jaccard_loss(probs, masks, weight=weights)
    if background_jaccard > 0:
        background = jaccard_loss(1.0 - probs, 1.0 - masks.to(probs.dtype), weight=weights)
        loss = (loss + background_jaccard * background) / (1.0 + background_jaccard)
    if bce_weight > 0:
        loss = loss + bce_weight * F.binary_cross_entropy_with_logits(2.0 * scores, masks, weight=weights)
    return loss


def blank_absolute_colour(inputs: torch.Tensor, share: float, generator: torch.Generator | None = None
                          ) -> torch.Tensor:
    """[B, 9, H, W] network input with the absolute colour channels (7-9) zeroed in about `share` of the photos."""
    blank = torch.rand(inputs.shape[0], generator=generator) < share
    if not blank.any():
        return inputs
    inputs = inputs.clone()
    inputs[blank.to(inputs.device), len(NETWORK_CHANNELS):] = 0.0
    return inputs


class WeightAverage:
    """An exponential moving average of a network's weights and buffers (Polyak averaging), kept in its own copy.

    The factor warms up, (1 + n) / (10 + n) after n updates until it reaches `decay`, so that the average follows the
    training from the first steps instead of staying near the starting weights for hundreds of them (with a fixed
    0.99 the first epoch of a 40-step fine-tuning still weighed its start by 0.67, and won the choice of epoch)."""

    def __init__(self, model: SegmentationNet, decay: float, updates: int = 0) -> None:
        self.decay = decay
        self.updates = updates
        self.model = copy.deepcopy(model).eval()
        for param in self.model.parameters():
            param.requires_grad_(False)

    def factor(self) -> float:
        return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))

    @torch.no_grad()
    def update(self, model: SegmentationNet) -> None:
        keep = self.factor()
        self.updates += 1
        for averaged, current in zip(self.model.state_dict().values(), model.state_dict().values()):
            if averaged.is_floating_point():
                averaged.lerp_(current, 1.0 - keep)
            else:  # counters (batch norm's batches seen)
                averaged.copy_(current)


def train_one_epoch(
    model: SegmentationNet,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    bce_weight: float = 0.0,
    grad_clip: float | None = None,
    colour_dropout: float = 0.0,
    generator: torch.Generator | None = None,
    average: WeightAverage | None = None,
    background_jaccard: float = 0.0,
) -> Generator[tuple[int, int, float], None, float]:
    """Train one pass; yields (step, steps, running mean loss) after each step and returns the epoch's mean loss.

    colour_dropout: share of photos whose absolute colour channels are set to 0 (mid grey), drawn with `generator`.
    average: updated after every step.
    """
    model.train()
    total, count = 0.0, 0
    steps = len(loader)
    for step, batch in enumerate(loader, start=1):
        images, masks = batch[0], batch[1]
        weights = batch[2].to(device) if len(batch) > 2 else None
        images = _to_device(images, device)
        masks = masks.to(device, non_blocking=True)
        inputs = model_input(model, images)
        if colour_dropout > 0:
            inputs = blank_absolute_colour(inputs, colour_dropout, generator)
        scores = model(inputs)
        loss = training_loss(scores, masks, weights, bce_weight, background_jaccard)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        if average is not None:
            average.update(model)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise SkinSegError(
                f"Training diverged (loss {value}) at step {step}. Lower the learning rate and start a new run."
            )
        total += value * images.shape[0]
        count += images.shape[0]
        yield step, steps, total / count
    return total / max(count, 1)


@torch.inference_mode()
def evaluate(
    model: SegmentationNet, dataset: SkinDataset, device: torch.device, threshold: float = 0.5, batch_size: int = 16
) -> list[Counts]:
    """Per-photo confusion counts at the network's input size (fast; full-resolution scores come from inference)."""
    model.eval()
    counts: list[Counts] = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    for batch in loader:
        images, masks = batch[0], batch[1]
        probabilities = scores_to_probabilities(model(model_input(model, _to_device(images, device)))).float().cpu()
        for prob, mask in zip(probabilities, masks):
            counts.append(confusion(prob[0].numpy() >= threshold, mask[0].numpy() >= 0.5))
    return counts


def grouped_summary(counts: Sequence[Counts], groups: Sequence[str]) -> dict[str, dict]:
    """`summarize` per group label, in the order the groups first appear."""
    by_group: dict[str, list[Counts]] = {}
    for c, g in zip(counts, groups):
        by_group.setdefault(g, []).append(c)
    return {g: summarize(cs) for g, cs in by_group.items()}


def selection_score(groups: dict[str, dict]) -> float:
    """Mean over groups of the mean of per-image skin Jaccard and background Jaccard (see `fit`)."""
    return float(np.mean([(g["jaccard"]["mean"] + g["background_jaccard"]["mean"]) / 2 for g in groups.values()]))


def make_optimizer(model: torch.nn.Module, settings: TrainSettings) -> torch.optim.Optimizer:
    if settings.optimizer == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=settings.learning_rate, momentum=settings.momentum, weight_decay=settings.weight_decay
    )


def learning_rate_at(settings: TrainSettings, progress: float) -> float:
    """The learning rate after `progress` (0..1) of the whole run."""
    if settings.lr_schedule == "cosine":
        floor = 0.01 * settings.learning_rate
        return floor + 0.5 * (settings.learning_rate - floor) * (1.0 + math.cos(math.pi * min(progress, 1.0)))
    return settings.learning_rate


# Settings added after run folders already existed, with the value that means "not used": left out of the fingerprint
# at that value, so that a run started by an earlier version (an interrupted fine-tuning, a recipe stage) resumes.
_LATER_SETTINGS = {"colour_dropout": 0.0, "skin_tone": 0.0, "decoys": 0.0, "weight_average": 0.0,
                   "background_jaccard": 0.0, "mixed_light": 0.0, "lesion_spots": 0.0}


def _fingerprint(payload: dict[str, Any]) -> str:
    settings = {k: v for k, v in payload.get("settings", {}).items() if _LATER_SETTINGS.get(k, object()) != v}
    payload = {**payload, "settings": settings} if "settings" in payload else payload
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _save_state(run_dir: Path, model: SegmentationNet, optimizer: torch.optim.Optimizer, state: dict[str, Any],
                average: WeightAverage | None = None) -> None:
    tensors: dict[str, torch.Tensor] = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if average is not None:
        tensors.update({f"average.{k}": v.detach().cpu().contiguous() for k, v in average.model.state_dict().items()})
    names = {id(p): name for name, p in model.named_parameters()}
    for group in optimizer.param_groups:
        for param in group["params"]:
            for key, value in optimizer.state.get(param, {}).items():
                if isinstance(value, torch.Tensor):
                    tensors[f"optim.{key}.{names[id(param)]}"] = value.detach().cpu().contiguous().clone()
    tensors["rng.torch"] = torch.get_rng_state()
    with atomic_path(run_dir / "state.safetensors") as tmp:
        save_file(tensors, str(tmp))
    atomic_write_json(run_dir / "state.json", state)


def _load_state(run_dir: Path, model: SegmentationNet, optimizer: torch.optim.Optimizer, device: torch.device,
                average: WeightAverage | None = None) -> None:
    tensors = load_file(str(run_dir / "state.safetensors"), device="cpu")
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}, strict=True)
    if average is not None:
        average.model.load_state_dict({k[len("average.") :]: v for k, v in tensors.items()
                                       if k.startswith("average.")}, strict=True)
    params = dict(model.named_parameters())
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, entry, name = key.split(".", 2)
            # Adam's step counter stays on the CPU, as torch keeps it; buffers go to the training device.
            optimizer.state[params[name]][entry] = value if entry == "step" else value.to(device)
    torch.set_rng_state(tensors["rng.torch"])


def fit(
    run_dir: str | Path,
    model: SegmentationNet,
    train_pairs: Sequence[SamplePair],
    val_pairs: Sequence[SamplePair],
    settings: TrainSettings = TrainSettings(),
    device: torch.device | str = "cpu",
    meta: dict[str, Any] | None = None,
    sample_weights: Sequence[float] | None = None,
    pixel_weights: Sequence[np.ndarray | float | None] | None = None,
    val_groups: Sequence[str] | None = None,
    backgrounds: Sequence[Path] | None = None,
) -> Generator[Progress, None, FitResult]:
    """Train `model` (already initialised, e.g. from a pretrained file) and yield progress; resumable.

    Close the generator (or stop iterating) to stop between steps: the last finished epoch is kept in `run_dir`.
    `sample_weights` (one per training pair) draws photos with those relative frequencies, to balance sets.
    `pixel_weights` (one per training pair: float [H, W] map, scalar or None) weighs pixels in the loss, e.g. more
    where the user corrected the model (see `SkinDataset`).
    `val_groups` (one label per validation pair, e.g. its data set) makes the epoch choice weigh every group the
    same: the score is the mean over groups of (skin Jaccard + background Jaccard) / 2, so a small group (a few
    clinical photos) counts as much as a large one and over-calling skin is penalised, not only missing it.
    `backgrounds` (skin-free pictures) turns part of the training items into collages (see `collage.py`).
    Returns a FitResult (the generator's return value; `run_fit` collects it).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(device)
    if not train_pairs:
        raise DataError("No training photos: give at least one folder with images/ and masks/ that pair up.")
    if not val_pairs:
        raise DataError("No validation photos: at least one photo must be held out to choose the best epoch.")
    if settings.colour_dropout > 0 and not getattr(model, "absolute_colour", False):
        raise ValueError("colour_dropout blanks the absolute colour channels, which this network does not read: set "
                         "it to 0, or train a network built with absolute_colour.")
    input_size = int(model.config["input_size"])
    config = {
        "settings": settings.to_dict(),
        "model": model.config,
        "train": [str(p.image) for p in train_pairs],
        "val": [str(p.image) for p in val_pairs],
        "sample_weights": list(sample_weights) if sample_weights is not None else None,
        "meta": meta or {},
    }
    if val_groups is not None:
        if len(val_groups) != len(val_pairs):
            raise ValueError(f"got {len(val_groups)} validation group labels for {len(val_pairs)} photos")
        config["val_groups"] = list(val_groups)
    if backgrounds is not None:
        config["backgrounds"] = [str(p) for p in backgrounds]
    if pixel_weights is not None:
        # Only their presence is fingerprinted: the maps themselves are derived from the photos listed above.
        config["pixel_weights"] = True
    fingerprint = _fingerprint({k: v for k, v in config.items() if k != "meta"})
    config["fingerprint"] = fingerprint

    torch.manual_seed(settings.seed)
    np.random.seed(settings.seed)
    model.to(device)
    if device.type in ("cpu", "cuda"):
        model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(model, settings)
    average = WeightAverage(model, settings.weight_average) if settings.weight_average > 0 else None
    # The model that is validated and kept: the average when there is one.
    kept = average.model if average is not None else model
    state: dict[str, Any] = {
        "fingerprint": fingerprint,
        "epochs_done": 0,
        "best_val_jaccard": -1.0,
        "best_epoch": 0,
        "epochs_since_best": 0,
        "elapsed_s": 0.0,
        "finished": False,
    }
    state_file = run_dir / "state.json"
    if state_file.exists():
        previous = json.loads(state_file.read_text())
        if previous.get("fingerprint") != fingerprint:
            raise SkinSegError(
                f"The run folder {run_dir} holds a different training run (other settings, network or photos). "
                "Choose a new output folder, or delete that one to start over."
            )
        _load_state(run_dir, model, optimizer, device, average)
        state.update(previous)
        if average is not None:
            average.updates = int(state.get("average_updates", 0))
        log.info("resuming %s after epoch %d", run_dir, state["epochs_done"])
    else:
        atomic_write_json(run_dir / "config.json", config)
        (run_dir / "metrics.jsonl").unlink(missing_ok=True)

    best_path = run_dir / "best.json"
    if state["finished"]:
        # A finished run called again (e.g. a recipe re-run): report it without loading any photos.
        yield Progress("finished", int(state["epochs_done"]), settings.epochs, 0, 0, 0.0, None,
                       state["best_val_jaccard"], state["best_epoch"], float(state["elapsed_s"]),
                       state["epochs_since_best"] >= settings.patience)
        return FitResult(run_dir, best_path, float(state["best_val_jaccard"]), int(state["best_epoch"]),
                         int(state["epochs_done"]))

    cache = settings.cache_long_side or 2 * input_size
    train_set = SkinDataset(
        list(train_pairs), input_size, transform=train_transform(input_size, settings.augmentation), cache_long_side=cache,
        weights=pixel_weights,
    )
    if settings.closeups > 0:
        train_set = CloseUpDataset(train_set, settings.closeups)
    if backgrounds:
        train_set = CollageDataset(train_set, load_backgrounds(backgrounds, cache))
    if settings.decoys > 0:
        train_set = DecoyDataset(train_set, settings.decoys)
    if settings.skin_tone > 0:
        train_set = SkinToneDataset(train_set, settings.skin_tone)
    if settings.mixed_light > 0:
        train_set = MixedLightDataset(train_set, settings.mixed_light)
    if settings.lesion_spots > 0:
        train_set = LesionSpotDataset(train_set, settings.lesion_spots)
    val_set = SkinDataset(list(val_pairs), input_size, transform=eval_transform(input_size), cache_long_side=cache)
    generator = torch.Generator().manual_seed(settings.seed + state["epochs_done"])
    num_samples = (settings.steps_per_epoch or math.ceil(len(train_set) / settings.batch_size)) * settings.batch_size
    if sample_weights is not None:
        sampler: torch.utils.data.Sampler = torch.utils.data.WeightedRandomSampler(
            list(sample_weights), num_samples, replacement=True, generator=generator
        )
    else:
        sampler = RandomSampler(train_set, replacement=num_samples > len(train_set), num_samples=num_samples, generator=generator)
    loader = DataLoader(
        train_set,
        batch_size=settings.batch_size,
        sampler=sampler,
        num_workers=settings.num_workers,
        drop_last=len(train_set) >= settings.batch_size,
        persistent_workers=settings.num_workers > 0,
    )

    started = time.perf_counter() - float(state["elapsed_s"])
    epoch = int(state["epochs_done"])
    stopped_early = bool(state["finished"]) and state["epochs_since_best"] >= settings.patience
    while not state["finished"] and epoch < settings.epochs:
        epoch += 1
        epoch_start = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(settings, (epoch - 1) / settings.epochs)
        # Each epoch's photo order depends only on the seed and the epoch, so a resumed run draws the same photos
        # as an uninterrupted one would; so do the augmentations when they run in this process (num_workers=0).
        # DataLoader workers reseed themselves from torch's RNG, which the resume state restores.
        generator.manual_seed(settings.seed * 100_003 + epoch)
        np.random.seed((settings.seed * 100_003 + epoch) % 2**32)
        train_set.reseed(settings.seed * 100_003 + epoch)
        loss = 0.0
        steps = len(loader)
        for step, steps, loss in train_one_epoch(model, loader, optimizer, device, settings.bce_weight,
                                                 settings.grad_clip, settings.colour_dropout,
                                                 torch.Generator().manual_seed(settings.seed * 100_003 + epoch + 1),
                                                 average, settings.background_jaccard):
            yield Progress("step", epoch, settings.epochs, step, steps, loss, None,
                           state["best_val_jaccard"] if state["best_epoch"] else None,
                           state["best_epoch"] or None, time.perf_counter() - started)
        val_counts = evaluate(kept, val_set, device, settings.threshold, settings.batch_size)
        summary = summarize(val_counts)
        val_jaccard = float(summary["jaccard"]["mean"])
        if val_groups is not None:
            summary["groups"] = grouped_summary(val_counts, val_groups)
            val_jaccard = selection_score(summary["groups"])
        improved = val_jaccard > state["best_val_jaccard"]
        if improved:
            state.update(best_val_jaccard=val_jaccard, best_epoch=epoch, epochs_since_best=0)
            save_checkpoint(
                kept,
                best_path,
                CheckpointMeta(
                    name=(meta or {}).get("name"),
                    training={**(meta or {}), "settings": settings.to_dict(), "epoch": epoch,
                              "train_photos": len(train_pairs), "val_photos": len(val_pairs)},
                    metrics={"val": summary},
                    threshold=settings.threshold,
                ),
            )
        else:
            state["epochs_since_best"] += 1
        state["epochs_done"] = epoch
        state["elapsed_s"] = time.perf_counter() - started
        stopped_early = state["epochs_since_best"] >= settings.patience
        state["finished"] = stopped_early or epoch >= settings.epochs
        record = {"epoch": epoch, "loss": loss, "val_jaccard": val_jaccard, "val_dice": summary["dice"]["mean"],
                  "val_background_jaccard": summary["background_jaccard"]["mean"],
                  "lr": optimizer.param_groups[0]["lr"], "epoch_s": round(time.perf_counter() - epoch_start, 3)}
        if val_groups is not None:
            record["val_groups"] = {name: {"jaccard": g["jaccard"]["mean"],
                                           "background_jaccard": g["background_jaccard"]["mean"]}
                                    for name, g in summary["groups"].items()}
        with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
        if average is not None:
            state["average_updates"] = average.updates
        _save_state(run_dir, model, optimizer, state, average)
        yield Progress("epoch", epoch, settings.epochs, steps, steps, loss, val_jaccard, state["best_val_jaccard"],
                       state["best_epoch"], state["elapsed_s"], stopped_early)
    state["finished"] = True
    atomic_write_json(state_file, state)
    yield Progress("finished", epoch, settings.epochs, 0, 0, 0.0, None, state["best_val_jaccard"], state["best_epoch"],
                   float(state["elapsed_s"]), stopped_early)
    return FitResult(run_dir, best_path, float(state["best_val_jaccard"]), int(state["best_epoch"]), epoch)


def run_fit(progress: Generator[Progress, None, FitResult], on_progress=None) -> FitResult:
    """Drive a `fit` generator to its end, passing each Progress to `on_progress`; returns its FitResult."""
    while True:
        try:
            report = next(progress)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(report)
