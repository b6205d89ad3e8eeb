"""What SkinSeg knows about a folder of photos, kept in a sidecar folder beside them.

Layout (all files are written atomically; the photos themselves are only ever read):

    <folder>/.skinseg/
        state.json          {"format": "skinseg-sidecar", "version": 1, "photos": {"<file name>": {...}}}
                            per photo: status ("segmented" | "corrected"), threshold, the model (name, sha256)
                            that made its map, and the photo's size and modification time when it was segmented
        maps/<file name>.npz  the network's probability map for that photo (see `probmap.ProbabilityMap`)
        corrected/<file name>.png             the corrected mask (0/255, the photo's full size), saved within 2 s
        corrected/<file name>.prediction.npz  the model's map that the correction started from (kept when the
                                              model changes: before/after views, training on what was corrected)
        journal/<file name>.journal           edits not yet in corrected/<file name>.png (see `journal`)

A photo with no entry is "not segmented". A corrected photo stays corrected whatever the model, as long as the photo
file is the one that was corrected; its mask is the saved PNG plus its journal replayed. A map is used only while the photo file and the model are the ones it was
made from; otherwise the photo counts as not segmented again. Deleting `.skinseg/` forgets everything and loses
nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skinseg_core.atomic import atomic_write_bytes, atomic_write_json
from skinseg_core.errors import ImageReadError, SkinSegError
from skinseg_core.face_colour import FaceColourGate
from skinseg_core.imageio import read_mask, write_mask_png
from skinseg_core.journal import Journal
from skinseg_core.probmap import ProbabilityMap

__all__ = ["SIDECAR_NAME", "STATUSES", "ModelStamp", "PhotoRecord", "Sidecar"]

log = logging.getLogger(__name__)

SIDECAR_NAME = ".skinseg"
FORMAT = "skinseg-sidecar"
VERSION = 1

NOT_SEGMENTED = "not segmented"
SEGMENTED = "segmented"
CORRECTED = "corrected"
STATUSES = (NOT_SEGMENTED, SEGMENTED, CORRECTED)


@dataclass(frozen=True)
class ModelStamp:
    """Which model made a map: its name, the sha256 of its weights (empty when unknown) and `run`, a digest of the
    model file's settings besides the weights that change its maps (test-time flip, guided filter, face colour gate;
    and the network the user chose, where it is not chosen by the faces found),
    so that a map made before a model file gained such a setting is made again."""

    name: str
    sha256: str = ""
    run: str = ""

    @classmethod
    def from_info(cls, info: dict[str, Any], fallback_name: str = "model") -> ModelStamp:
        settings = {key: info.get(key) for key in ("test_time_flip", "guided_filter")}
        gate = info.get("face_colour_gate")
        if gate:  # only when set, so that maps made before the gate existed keep their stamp
            try:
                # As it runs: a file written before a setting existed gets its default, and its maps made without
                # that setting are made again.
                gate = FaceColourGate.from_dict(gate).to_dict()
            except (KeyError, TypeError, ValueError):
                pass  # a damaged entry: loading the model says what to do
            settings["face_colour_gate"] = gate
        network = info.get("network", "auto")
        if network != "auto":  # only when chosen, so that maps made before the choice existed keep their stamp
            settings["network"] = network
        run = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
        return cls(name=str(info.get("name", fallback_name)), sha256=str(info.get("weights_sha256", "")), run=run)


@dataclass
class PhotoRecord:
    status: str = NOT_SEGMENTED
    threshold: float | None = None
    model: dict[str, str] = field(default_factory=dict)
    size: int = -1  # file size in bytes when segmented
    mtime_ns: int = -1
    prediction_threshold: float | None = None  # the threshold of the model's mask that a correction started from
    effort: dict[str, float] = field(default_factory=dict)  # seconds, edits, pixels (changed) while correcting

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PhotoRecord:
        status = data.get("status", NOT_SEGMENTED)
        threshold = data.get("threshold")
        return cls(
            status=status if status in STATUSES else NOT_SEGMENTED,
            threshold=float(threshold) if isinstance(threshold, (int, float)) else None,
            model=dict(data.get("model") or {}),
            size=int(data.get("size", -1)),
            mtime_ns=int(data.get("mtime_ns", -1)),
            prediction_threshold=(float(data["prediction_threshold"])
                                  if isinstance(data.get("prediction_threshold"), (int, float)) else None),
            effort={str(k): float(v) for k, v in (data.get("effort") or {}).items() if isinstance(v, (int, float))},
        )


def _file_stamp(photo: Path) -> tuple[int, int]:
    try:
        info = photo.stat()
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)


class Sidecar:
    """The sidecar of one folder. Not thread-safe: the app uses it from the GUI thread; maps written by workers go
    through `write_map`, which touches only that photo's own map file."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.root = self.folder / SIDECAR_NAME
        self.records: dict[str, PhotoRecord] = {}
        self._load()

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    def map_path(self, photo: str | os.PathLike[str]) -> Path:
        return self.root / "maps" / f"{Path(photo).name}.npz"

    def _load(self) -> None:
        if not self.state_path.exists():
            return
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("not a SkinSeg sidecar state file")
            photos = data.get("photos") or {}
            self.records = {str(name): PhotoRecord.from_json(entry) for name, entry in photos.items()}
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            # A damaged state file must not stop the user from working; the maps can be made again.
            log.warning("Ignoring damaged sidecar state %s: %s", self.state_path, exc)
            self.records = {}

    def save(self) -> None:
        """Write state.json atomically (raises SkinSegError with advice when the folder is read-only)."""
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(
            self.state_path,
            {
                "format": FORMAT,
                "version": VERSION,
                "photos": {name: record.to_json() for name, record in sorted(self.records.items())},
            },
        )

    def record(self, photo: str | os.PathLike[str]) -> PhotoRecord:
        return self.records.get(Path(photo).name, PhotoRecord())

    def is_current(self, photo: str | os.PathLike[str], model: ModelStamp | None) -> bool:
        """True when the photo has a map made from this file as it is now, by this model."""
        path = self.folder / Path(photo).name
        record = self.records.get(path.name)
        if record is None or record.status == NOT_SEGMENTED:
            return False
        if (record.size, record.mtime_ns) != _file_stamp(path):
            return False
        if model is not None and (record.model.get("sha256", "") != model.sha256
                                  or record.model.get("run", "") != model.run):
            return False
        return self.map_path(path).exists()

    def status(self, photo: str | os.PathLike[str], model: ModelStamp | None) -> str:
        if self.is_corrected(photo):
            return CORRECTED
        return SEGMENTED if self.is_current(photo, model) else NOT_SEGMENTED

    def write_map(self, photo: str | os.PathLike[str], prob: ProbabilityMap) -> None:
        path = self.map_path(photo)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, prob.to_bytes())

    def read_map(self, photo: str | os.PathLike[str]) -> ProbabilityMap | None:
        path = self.map_path(photo)
        if not path.exists():
            return None
        try:
            return ProbabilityMap.load(path)
        except (SkinSegError, OSError) as exc:
            log.warning("Ignoring cached map %s: %s", path, exc)
            return None

    def mark_segmented(self, photo: str | os.PathLike[str], model: ModelStamp, threshold: float | None = None) -> None:
        path = self.folder / Path(photo).name
        size, mtime_ns = _file_stamp(path)
        old = self.records.get(path.name)
        corrected = old is not None and old.status == CORRECTED and (old.size, old.mtime_ns) == (size, mtime_ns)
        self.records[path.name] = PhotoRecord(
            status=CORRECTED if corrected else SEGMENTED,
            threshold=threshold if threshold is not None else (old.threshold if old else None),
            model={"name": model.name, "sha256": model.sha256, "run": model.run},
            size=size,
            mtime_ns=mtime_ns,
            prediction_threshold=old.prediction_threshold if corrected and old else None,
            effort=dict(old.effort) if corrected and old else {},
        )

    def set_threshold(self, photo: str | os.PathLike[str], threshold: float) -> None:
        name = Path(photo).name
        record = self.records.get(name)
        if record is None:
            record = self.records[name] = PhotoRecord()
        record.threshold = float(threshold)

    # ---- corrections ----------------------------------------------------------------------------------------------

    def corrected_path(self, photo: str | os.PathLike[str]) -> Path:
        return self.root / "corrected" / f"{Path(photo).name}.png"

    def prediction_path(self, photo: str | os.PathLike[str]) -> Path:
        return self.root / "corrected" / f"{Path(photo).name}.prediction.npz"

    def journal(self, photo: str | os.PathLike[str]) -> Journal:
        return Journal(self.root / "journal" / f"{Path(photo).name}.journal")

    def is_corrected(self, photo: str | os.PathLike[str]) -> bool:
        """True when the photo, as it is now, has a corrected mask (saved or still in its journal)."""
        path = self.folder / Path(photo).name
        record = self.records.get(path.name)
        if record is None or record.status != CORRECTED or (record.size, record.mtime_ns) != _file_stamp(path):
            return False
        return self.corrected_path(path).exists() or self.journal(path).exists()

    def mark_corrected(self, photo: str | os.PathLike[str], prediction_threshold: float | None) -> PhotoRecord:
        path = self.folder / Path(photo).name
        size, mtime_ns = _file_stamp(path)
        record = self.records.get(path.name) or PhotoRecord()
        record.status = CORRECTED
        record.size, record.mtime_ns = size, mtime_ns
        if prediction_threshold is not None:
            record.prediction_threshold = float(prediction_threshold)
        self.records[path.name] = record
        return record

    def add_effort(self, photo: str | os.PathLike[str], seconds: float, edits: int, pixels: int) -> dict[str, float]:
        record = self.records.setdefault(Path(photo).name, PhotoRecord())
        effort = record.effort
        effort["seconds"] = round(effort.get("seconds", 0.0) + seconds, 1)
        effort["edits"] = effort.get("edits", 0) + edits
        effort["pixels"] = effort.get("pixels", 0) + pixels
        return effort

    def write_prediction(self, photo: str | os.PathLike[str], prob: ProbabilityMap) -> None:
        path = self.prediction_path(photo)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, prob.to_bytes())

    def read_prediction(self, photo: str | os.PathLike[str]) -> ProbabilityMap | None:
        path = self.prediction_path(photo)
        try:
            return ProbabilityMap.load(path) if path.exists() else None
        except (SkinSegError, OSError) as exc:
            log.warning("Ignoring the kept prediction %s: %s", path, exc)
            return None

    def write_corrected_mask(self, photo: str | os.PathLike[str], mask: np.ndarray) -> None:
        """Save the corrected mask (bool or 0/1 [H, W]) as a 0/255 PNG, atomically."""
        path = self.corrected_path(photo)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_mask_png(path, mask)

    def read_corrected_mask(self, photo: str | os.PathLike[str], size: tuple[int, int]) -> np.ndarray | None:
        """uint8 0/1 [H, W] for a photo of `size` (width, height): the saved mask with its journal replayed, or None
        when the photo has no correction (or only one made for a photo of another size)."""
        path = self.corrected_path(photo)
        mask = None
        if path.exists():
            try:
                saved = read_mask(path)
            except ImageReadError as exc:
                log.warning("Ignoring the corrected mask %s: %s", path, exc)
                saved = None
            if saved is not None and (saved.shape[1], saved.shape[0]) == tuple(size):
                mask = saved.astype(np.uint8)
            elif saved is not None:
                log.warning("The corrected mask %s is %s, not %s: ignored", path, saved.shape[::-1], size)
        mask, _ = self.journal(photo).replay(mask, size)
        return mask

    def corrected_photos(self) -> list[Path]:
        """The photos of this folder with a corrected mask (for export and fine-tuning)."""
        return [self.folder / name for name in sorted(self.records) if self.is_corrected(self.folder / name)]
