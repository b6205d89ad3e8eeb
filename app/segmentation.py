"""Probability maps for the app: a memory LRU over the folders' sidecars, and workers that run the model.

The model never runs on the GUI thread. Each pool thread keeps its own `Segmenter` (they are not thread-safe), made
on first use and remade when the model or the device changes. The inference pool has one thread: a second one
would only split the same CPU cores or GPU. The open photo's job is queued ahead of a folder's "Segment all" jobs.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from skinseg_core.atomic import atomic_write_bytes
from skinseg_core.checkpoint import PEOPLE_KEY, read_checkpoint_info
from skinseg_core.devices import resolve_device
from skinseg_core.errors import CheckpointError, SkinSegError
from skinseg_core.inference import NETWORKS, Segmenter, describe_run, resolve_model_path
from skinseg_core.probmap import ProbabilityMap, predict_map
from skinseg_core.sidecar import ModelStamp, Sidecar

from app.workers import Worker, WorkerPool

log = logging.getLogger(__name__)

MEMORY_CACHE_SIZE = 64  # compact maps are at most ~800 KB each (2x the network's input, refined), so under 50 MB
PRIORITY_OPEN_PHOTO = 10
PRIORITY_BATCH = 0

_local = threading.local()


def _thread_segmenter(model_path: Path, device: str, face_gate: bool, network: str) -> Segmenter:
    key = (str(model_path), device, face_gate, network)
    if getattr(_local, "key", None) != key:
        _local.segmenter = None  # free the old model before loading the new one
        # face_gate False turns off the model file's face colour gate; True leaves it as the file says.
        _local.segmenter = Segmenter(model_path, device=device, face_gate=None if face_gate else False,
                                     network=network)
        _local.key = key
    return _local.segmenter


def segment_photo(model_path: Path, device: str, face_gate: bool, network: str, photo: Path,
                  map_path: Path) -> tuple[Path, ProbabilityMap, str]:
    """Worker function: photo -> its map, cached in the sidecar. Returns (photo, map, device description)."""
    segmenter = _thread_segmenter(model_path, device, face_gate, network)
    prob = predict_map(segmenter, photo)
    try:
        map_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(map_path, prob.to_bytes())
    except (SkinSegError, OSError) as exc:  # a read-only folder: keep working from memory
        log.warning("Could not cache the map of %s: %s", photo, exc)
    return photo, prob, segmenter.device_description


@dataclass
class Batch:
    total: int
    done: int = 0
    failed: list[tuple[Path, BaseException]] = field(default_factory=list)
    cancelled: bool = False
    workers: list[Worker] = field(default_factory=list)


@dataclass(frozen=True)
class ModelInfo:
    path: Path
    name: str
    stamp: ModelStamp
    threshold: float
    info: dict[str, Any]


class SegmentationService(QObject):
    map_ready = Signal(object, object)  # photo Path, ProbabilityMap
    failed = Signal(object, object, bool)  # photo Path, exception, part of a Segment all
    batch_progress = Signal(int, int)  # done, total
    batch_finished = Signal(int, int, bool, object)  # done, total, cancelled, [(path, error)]
    device_changed = Signal(str)  # description
    busy_changed = Signal(bool)

    def __init__(self, model_path: Path | None, device: str, parent: QObject | None = None,
                 face_gate: bool = True, network: str = "auto") -> None:
        super().__init__(parent)
        self.pool = WorkerPool("inference", 1, self)
        self._memory: OrderedDict[Path, ProbabilityMap] = OrderedDict()
        self._sidecars: dict[Path, Sidecar] = {}
        self._in_flight: dict[Path, Worker] = {}
        self._batch: Batch | None = None
        self.model: ModelInfo | None = None
        self.model_error: str | None = None
        self.device = device
        self._resolved_device = None
        self.device_description = ""
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(400)
        self._save_timer.timeout.connect(self.save_sidecars)
        self.face_gate = face_gate  # False: the user turned the model file's face colour gate off
        self.network = network  # inference.NETWORKS: "auto" lets the faces found choose
        self.set_model(model_path)
        self.set_device(device)

    # ---- model and device ----
    def set_model(self, model_path: Path | None) -> None:
        """Use this model file (None: the default one). A missing or broken model leaves the app usable for
        viewing; `model_error` says why nothing can be segmented."""
        self.model = None
        self.model_error = None
        try:
            path = resolve_model_path(model_path)
            info = read_checkpoint_info(path)
        except CheckpointError as exc:
            self.model_error = str(exc)
            log.warning("No usable model: %s", exc)
            self._describe()
            return
        self.model = ModelInfo(
            path=path,
            name=str(info.get("name", path.stem)),
            stamp=ModelStamp.from_info(self._as_run(info), path.stem),
            threshold=float(info.get("threshold", 0.5)),
            info=info,
        )
        self._memory.clear()
        self._describe()

    def set_face_gate(self, on: bool) -> None:
        """Run the model file's face colour gate (on) or not. The maps made the other way are out of date: their
        stamp differs, so photos are segmented again when asked."""
        self.face_gate = on
        self._restamp()

    def _restamp(self) -> None:
        if self.model is not None:
            stamp = ModelStamp.from_info(self._as_run(self.model.info), self.model.path.stem)
            self.model = replace(self.model, stamp=stamp)
        self._memory.clear()
        self._describe()

    def set_network(self, network: str) -> None:
        """Which of the model's networks runs (inference.NETWORKS); maps made with another are out of date, as for
        `set_face_gate`."""
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")
        self.network = network
        self._restamp()

    @property
    def has_people_network(self) -> bool:
        """Whether the model in use has a network for photos of people (and so a choice of network)."""
        return bool(self.model and self.model.info.get(PEOPLE_KEY))

    @property
    def has_face_gate(self) -> bool:
        """Whether the model in use names a face colour gate (which the user may then turn off)."""
        return bool(self.model and self.model.info.get("face_colour_gate"))

    def _as_run(self, info: dict[str, Any]) -> dict[str, Any]:
        """The model file's settings as maps are made with them: without the face colour gate when it is off, and
        with the network the user chose where the model has a choice."""
        run = info if self.face_gate else {**info, "face_colour_gate": None}
        return {**run, "network": self.network} if info.get(PEOPLE_KEY) and self.network != "auto" else run

    def set_device(self, device: str) -> None:
        """Raises DeviceError (with advice) when the device is absent; the previous choice then stays."""
        self._resolved_device = resolve_device(device)
        self.device = device
        self._describe()

    def _describe(self) -> None:
        # What the model file says (flip, guided filter, face colour gate) is known before any photo is segmented, so
        # a folder whose maps all come from the cache still says how they were made; the backend follows from the
        # first worker.
        if self._resolved_device is None:
            return
        info = self._as_run(self.model.info) if self.model else {}
        self.device_description = describe_run(self._resolved_device, bool(info.get("test_time_flip")),
                                               bool(info.get("guided_filter")),
                                               face_gate=bool(info.get("face_colour_gate")),
                                               network=info.get("network", "auto"))
        self.device_changed.emit(self.device_description)

    # ---- sidecars and cache ----
    def sidecar(self, photo: Path) -> Sidecar:
        folder = photo.parent
        if folder not in self._sidecars:
            self._sidecars[folder] = Sidecar(folder)
        return self._sidecars[folder]

    def status(self, photo: Path) -> str:
        return self.sidecar(photo).status(photo, self.model.stamp if self.model else None)

    def cached(self, photo: Path) -> ProbabilityMap | None:
        """The photo's map from memory or its sidecar, if it is current; never runs the model."""
        prob = self._memory.get(photo)
        if prob is not None:
            self._memory.move_to_end(photo)
            return prob
        stamp = self.model.stamp if self.model else None
        sidecar = self.sidecar(photo)
        if not sidecar.is_current(photo, stamp):
            return None
        prob = sidecar.read_map(photo)
        if prob is not None:
            self._remember(photo, prob)
        return prob

    def _remember(self, photo: Path, prob: ProbabilityMap) -> None:
        self._memory[photo] = prob
        self._memory.move_to_end(photo)
        while len(self._memory) > MEMORY_CACHE_SIZE:
            self._memory.popitem(last=False)

    def schedule_save(self) -> None:
        self._save_timer.start()

    def save_sidecars(self) -> None:
        self._save_timer.stop()
        for sidecar in self._sidecars.values():
            if sidecar.records:
                try:
                    sidecar.save()
                except SkinSegError as exc:
                    log.warning("%s", exc)

    # ---- jobs ----
    @property
    def busy(self) -> bool:
        return bool(self._in_flight)

    def _check_model(self) -> ModelInfo:
        if self.model is None:
            raise CheckpointError(self.model_error or "No model is loaded.")
        return self.model

    def segment(self, photo: Path, priority: int = PRIORITY_OPEN_PHOTO) -> bool:
        """Queue one photo; a photo already queued at a lower priority moves up. Raises CheckpointError when there
        is no model. Returns False when it was already queued."""
        model = self._check_model()
        queued = self._in_flight.get(photo)
        if queued is not None:
            if priority > PRIORITY_BATCH and self.pool.try_take(queued):
                self.pool.start(queued, priority)  # not started yet: jump the queue
            return False
        worker = Worker(segment_photo, model.path, self.device, self.face_gate, self.network, photo,
                        self.sidecar(photo).map_path(photo))
        worker.model_stamp = model.stamp  # a map made by a model no longer in use is dropped on return
        worker.signals.returned.connect(self._on_returned)
        worker.signals.errored.connect(self._on_errored)
        worker.signals.finished.connect(self._on_finished)
        self._in_flight[photo] = worker
        self.pool.start(worker, priority)
        if len(self._in_flight) == 1:
            self.busy_changed.emit(True)
        return True

    def segment_all(self, photos: Sequence[Path]) -> int:
        """Queue every photo without a current map; returns how many were queued."""
        self._check_model()
        if self._batch is not None:
            self.cancel_batch()
        todo = [p for p in photos if self.cached(p) is None]
        batch = self._batch = Batch(total=len(todo))
        for photo in todo:
            self.segment(photo, PRIORITY_BATCH)
            batch.workers.append(self._in_flight[photo])
        self.batch_progress.emit(0, len(todo))
        if not todo:
            self._finish_batch()
        return len(todo)

    @property
    def batch_running(self) -> bool:
        return self._batch is not None

    def cancel_batch(self) -> None:
        """Stop a "Segment all": queued photos are dropped; the photo being segmented finishes and is kept."""
        batch = self._batch
        if batch is None:
            return
        batch.cancelled = True
        for worker in batch.workers:
            if self.pool.try_take(worker):
                photo = self._photo_of(worker.signals)
                if photo is not None:
                    del self._in_flight[photo]
        self._finish_batch()
        if not self._in_flight:
            self.busy_changed.emit(False)

    def _finish_batch(self) -> None:
        batch, self._batch = self._batch, None
        if batch is not None:
            self.batch_finished.emit(batch.done, batch.total, batch.cancelled, batch.failed)

    def _photo_of(self, signals: QObject | None) -> Path | None:
        for photo, worker in self._in_flight.items():
            if worker.signals is signals:
                return photo
        return None

    def _in_batch(self, signals: QObject | None) -> bool:
        return self._batch is not None and any(w.signals is signals for w in self._batch.workers)

    def _on_returned(self, result: tuple[Path, ProbabilityMap, str]) -> None:
        photo, prob, description = result
        worker = self._in_flight.get(photo)
        if self.model is None or getattr(worker, "model_stamp", self.model.stamp) != self.model.stamp:
            log.info("Dropping the map of %s made by a model no longer in use", photo.name)
            return
        if description != self.device_description:
            self.device_description = description
            self.device_changed.emit(description)
        if self.model is not None:
            self.sidecar(photo).mark_segmented(photo, self.model.stamp)
            self.schedule_save()
        self._remember(photo, prob)
        self.map_ready.emit(photo, prob)

    def _on_errored(self, error: BaseException) -> None:
        sender = self.sender()
        photo = self._photo_of(sender)
        in_batch = self._in_batch(sender)
        if in_batch and self._batch is not None and photo is not None:
            self._batch.failed.append((photo, error))
        self.failed.emit(photo, error, in_batch)
        if in_batch and isinstance(error, CheckpointError):
            self.cancel_batch()  # every other photo would fail the same way

    def _on_finished(self) -> None:
        sender = self.sender()
        in_batch = self._in_batch(sender)
        photo = self._photo_of(sender)
        if photo is not None:
            del self._in_flight[photo]
        if in_batch and self._batch is not None:
            self._batch.done += 1
            self.batch_progress.emit(self._batch.done, self._batch.total)
            if self._batch.done >= self._batch.total:
                self._finish_batch()
        if not self._in_flight:
            self.busy_changed.emit(False)

    def shutdown(self) -> None:
        if self._batch is not None:
            self._batch.cancelled = True
        self.pool.shutdown()
        self.save_sidecars()
