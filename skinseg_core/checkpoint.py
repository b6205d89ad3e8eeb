"""Model files: weights as safetensors plus a JSON config beside them.

`name.safetensors` holds only tensors; `name.json` says how to rebuild the network (architecture and kwargs), the
input size and normalisation, what trained it, its metrics and the sha256 of the weights. Loading parses JSON and
safetensors only, so a model file can never execute code (no pickle anywhere).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

import skinseg_core
from skinseg_core.atomic import atomic_path, atomic_write_json
from skinseg_core.errors import CheckpointError
from skinseg_core.face_colour import FaceColourGate
from skinseg_core.flops import count_parameters
from skinseg_core.models import SegmentationNet, build_from_config
from skinseg_core.preprocess import NORMALISATION, NORMALISATION_ABSOLUTE
from skinseg_core.refine import GuidedFilter

log = logging.getLogger(__name__)

FORMAT = "skinseg-model"
FORMAT_VERSION = 1
# A model file may name a second network of the same architecture, a model file of its own beside it, that runs on
# photos of people instead of the first: {"file": "<name>.json", "min_face_share": s}, used where the first face
# search finds a face at least s times the photo's width (docs/adr/0028).
PEOPLE_KEY = "people_network"


def checkpoint_paths(path: str | Path) -> tuple[Path, Path]:
    """(config .json, weights .safetensors) for a path naming either file or their common stem."""
    path = Path(path)
    if path.suffix in (".json", ".safetensors"):
        stem = path.with_suffix("")
    else:
        stem = path
    return stem.with_suffix(".json"), stem.with_suffix(".safetensors")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class LoadedModel:
    """A network rebuilt from a model file, in eval mode on the CPU, with the file's config."""

    model: SegmentationNet
    info: dict[str, Any]
    config_path: Path
    weights_path: Path
    # The network for photos of people (PEOPLE_KEY), loaded with the same checks; None where the file names none.
    people: LoadedModel | None = None

    @property
    def people_min_face_share(self) -> float:
        """The people network runs where a found face is at least this share of the photo's width."""
        return float(self.info[PEOPLE_KEY]["min_face_share"]) if self.people is not None else 1.0

    @property
    def input_size(self) -> int:
        return int(self.info["input_size"])

    @property
    def threshold(self) -> float:
        return float(self.info.get("threshold", 0.5))

    @property
    def test_time_flip(self) -> bool:
        """Whether the model is meant to be run with a horizontally flipped pass averaged in (Segmenter's default)."""
        return bool(self.info.get("test_time_flip", False))

    @property
    def guided_filter(self) -> GuidedFilter | None:
        """The guided filter the model is meant to be run with (Segmenter's default), if its file names one."""
        return self._run_setting("guided_filter", GuidedFilter, "no refinement")

    @property
    def face_colour_gate(self) -> FaceColourGate | None:
        """The face colour gate the model is meant to be run with (Segmenter's default), if its file names one."""
        return self._run_setting("face_colour_gate", FaceColourGate, "no gate")

    def _run_setting(self, key: str, kind: type, off: str) -> Any:
        settings = self.info.get(key)
        if not settings:
            return None
        try:
            return kind.from_dict(settings)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(
                f"{self.config_path} has a damaged {key} entry ({settings!r}: {exc}). Set it to null ({off}) or to "
                f"{kind().to_dict()}, or reinstall the model file."
            ) from exc

    @property
    def name(self) -> str:
        return str(self.info.get("name", self.config_path.stem))


@dataclass
class CheckpointMeta:
    """What a caller knows about a model beyond its weights (all optional)."""

    name: str | None = None
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    threshold: float = 0.5
    # Run with a flipped pass averaged in by default (the recipe that made it measured that this pays).
    test_time_flip: bool = False
    # Refine the map with the photo's colours by default (GuidedFilter.to_dict(); None: the network's map as it is).
    guided_filter: dict[str, float] | None = None
    # Damp colours far from the skin in the photo's faces by default (FaceColourGate.to_dict(); None: no gate).
    face_colour_gate: dict[str, float] | None = None


def fine_tuned_meta(parent: LoadedModel, trained: LoadedModel, name: str) -> CheckpointMeta:
    """What a model fine-tuned from `parent` records: the training run's record, metrics and threshold (`trained` is
    the run's best checkpoint), the parent's name, and how the parent is meant to run (its test-time flip, guided filter
    and face colour gate)."""
    info = trained.info
    return CheckpointMeta(name=name, training=info.get("training", {}), metrics=dict(info.get("metrics", {})),
                          threshold=float(info.get("threshold", 0.5)), test_time_flip=parent.test_time_flip,
                          guided_filter=parent.info.get("guided_filter"),
                          face_colour_gate=parent.info.get("face_colour_gate"), extra={"parent": parent.name})


def save_checkpoint(model: SegmentationNet, path: str | Path, meta: CheckpointMeta | None = None) -> Path:
    """Write `<stem>.safetensors` and `<stem>.json` atomically; returns the config path.

    The weights are written first and the config last, so a config on disk always describes complete weights.
    """
    meta = meta or CheckpointMeta()
    config_path, weights_path = checkpoint_paths(path)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().to("cpu").contiguous() for key, value in model.state_dict().items()}
    with atomic_path(weights_path) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT})
    info: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": meta.name or config_path.stem,
        "skinseg_version": skinseg_core.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model": model.config,
        "parameters": count_parameters(model),
        "input_size": int(model.config.get("input_size", 128)),
        "normalisation": NORMALISATION_ABSOLUTE if getattr(model, "absolute_colour", False) else NORMALISATION,
        "output": "re-scaled tanh: p = (tanh(s) + 1) / 2",
        "threshold": meta.threshold,
        "test_time_flip": meta.test_time_flip,
        "guided_filter": meta.guided_filter,
        "face_colour_gate": meta.face_colour_gate,
        "training": meta.training,
        "metrics": meta.metrics,
        "weights_file": weights_path.name,
        "weights_sha256": sha256_of(weights_path),
    }
    info.update(meta.extra)
    atomic_write_json(config_path, info)
    return config_path


def read_checkpoint_info(path: str | Path) -> dict[str, Any]:
    """Parse and check a model's JSON config without touching its weights."""
    config_path, _ = checkpoint_paths(path)
    if not config_path.exists():
        raise CheckpointError(
            f"Model config {config_path} is missing. A SkinSeg model is a .safetensors weights file with a .json "
            "config of the same name beside it; copy both files together."
        )
    try:
        info = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"Model config {config_path} is damaged ({error}). Restore it from the original download or backup."
        ) from error
    if not isinstance(info, dict) or info.get("format") != FORMAT or "model" not in info:
        raise CheckpointError(f"{config_path} is not a SkinSeg model config (no '{FORMAT}' format field).")
    if int(info.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(
            f"{config_path} was written by a newer SkinSeg (format {info.get('format_version')}); update SkinSeg."
        )
    return info


def load_checkpoint(path: str | Path, *, verify_checksum: bool = True) -> LoadedModel:
    """Rebuild the network from its JSON config and load its safetensors weights (CPU, eval mode).

    Raises CheckpointError naming the file and the problem: missing, truncated, damaged, modified (checksum) or
    not matching the architecture its config describes.
    """
    config_path, default_weights = checkpoint_paths(path)
    info = read_checkpoint_info(config_path)
    weights_path = config_path.parent / str(info.get("weights_file", default_weights.name))
    if not weights_path.exists():
        raise CheckpointError(
            f"Model weights {weights_path} are missing (its config {config_path.name} is there). "
            "Copy the .safetensors file beside the .json."
        )
    if weights_path.stat().st_size == 0:
        raise CheckpointError(f"Model weights {weights_path} are empty (0 bytes): the file was not fully written.")
    expected_sha = info.get("weights_sha256")
    if verify_checksum and expected_sha and sha256_of(weights_path) != expected_sha:
        raise CheckpointError(
            f"Model weights {weights_path} do not match the checksum in {config_path.name}: the file is damaged, "
            "truncated or was replaced. Restore both files from the original source."
        )
    try:
        state = load_file(str(weights_path), device="cpu")
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"Model weights {weights_path} are damaged or truncated ({error}).") from error
    try:
        model = build_from_config(info["model"])
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(f"{config_path} describes a network SkinSeg cannot build: {error}") from error
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong_shape = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong_shape:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing tensors (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[0]})")
        if wrong_shape:
            key = wrong_shape[0]
            parts.append(
                f"{len(wrong_shape)} tensors of the wrong shape (e.g. {key}: file {tuple(state[key].shape)}, "
                f"config {tuple(expected[key].shape)})"
            )
        raise CheckpointError(
            f"Model weights {weights_path} do not match the architecture in {config_path.name}: "
            + "; ".join(parts)
            + ". The two files belong to different models."
        )
    model.load_state_dict(state, strict=True)
    model.eval()
    people = _load_people(config_path, info, verify_checksum) if info.get(PEOPLE_KEY) else None
    return LoadedModel(model=model, info=info, config_path=config_path, weights_path=weights_path, people=people)


def _load_people(config_path: Path, info: dict[str, Any], verify_checksum: bool) -> LoadedModel:
    entry = info[PEOPLE_KEY]
    fix = (f"Set {PEOPLE_KEY} to null in {config_path.name} to run without it, or reinstall the model's files.")
    try:
        file_name, share = str(entry["file"]), float(entry["min_face_share"])
        # A plain file name beside the config: a model file cannot point anywhere else on the disk.
        valid = Path(file_name).name == file_name and 0.0 < share <= 1.0
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        raise CheckpointError(f"{config_path} has a damaged {PEOPLE_KEY} entry ({entry!r}). {fix}")
    path = config_path.parent / file_name
    if not path.exists():
        raise CheckpointError(f"{config_path.name} names a network for photos of people, {file_name}, which is "
                              f"missing from {config_path.parent}. Copy it there with its .safetensors file. {fix}")
    people = load_checkpoint(path, verify_checksum=verify_checksum)
    if people.people is not None or people.info.get("model") != info.get("model"):
        raise CheckpointError(f"{file_name} is not a network for photos of people of the model in "
                              f"{config_path.name}: its architecture differs. {fix}")
    return people


def load_weights_into(model: torch.nn.Module, path: str | Path) -> dict[str, Any]:
    """Copy a model file's weights into an existing network of the same architecture (fine-tuning start)."""
    loaded = load_checkpoint(path)
    model.load_state_dict(loaded.model.state_dict(), strict=True)
    return loaded.info
