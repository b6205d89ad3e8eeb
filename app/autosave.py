"""Never lose a correction: every committed edit goes to the photo's journal at once (one fsync'd append), and the
whole corrected mask is saved to the sidecar at most SAVE_DELAY_MS later (PNG, atomic, in a worker), after which the
journal is emptied. A killed app therefore reopens with every committed edit (skinseg_core.journal).

Also keeps the effort per photo: time spent, edits and pixels changed (stored in the sidecar's state.json).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from skinseg_core.errors import SkinSegError
from skinseg_core.maskpatch import BBox, Patch
from skinseg_core.sidecar import Sidecar

from app.document import PhotoDocument
from app.workers import Worker, WorkerPool

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 1000  # the mask file is at most this much (plus the save itself) behind the journal
PAUSE_CAP_S = 60.0  # a pause between two edits counts as at most a minute of work


def save_mask(sidecar: Sidecar, photo: Path, mask: np.ndarray, seq: int) -> tuple[Path, int]:
    """Worker function: write the corrected mask PNG (only that photo's own file)."""
    sidecar.write_corrected_mask(photo, mask)
    return photo, seq


class Autosaver(QObject):
    saved = Signal(object)  # photo Path, after its mask file was written
    effort_changed = Signal(object, object)  # photo Path, effort dict
    failed = Signal(object)  # SkinSegError: saving is impossible (read-only folder, full disk)

    def __init__(self, sidecar_of, pool: WorkerPool, parent: QObject | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.sidecar_of = sidecar_of  # Path -> Sidecar
        self.pool = pool
        self._seq: dict[Path, int] = {}
        self._pending: dict[Path, PhotoDocument] = {}
        self._last_edit: dict[Path, float] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_pending)
        self._warned = False

    def watch(self, document: PhotoDocument) -> None:
        document.editing_started.connect(self._editing_started)
        document.mask_committed.connect(self._committed)

    def _editing_started(self) -> None:
        document = self.sender()
        if not isinstance(document, PhotoDocument):
            return
        sidecar = self.sidecar_of(document.path)
        sidecar.mark_corrected(document.path, document.threshold)
        try:
            if document.prob is not None:
                sidecar.write_prediction(document.path, document.prob)
            sidecar.save()  # the photo is "corrected" on disk before its first journal record
        except SkinSegError as exc:
            self._fail(exc)

    def _committed(self, bbox: BBox) -> None:
        document = self.sender()
        if not isinstance(document, PhotoDocument) or document.mask is None:
            return
        path = document.path
        seq = self._seq[path] = self._seq.get(path, 0) + 1
        x0, y0, x1, y1 = bbox
        patch = Patch.from_array(bbox, document.mask[y0:y1, x0:x1])
        try:
            self.sidecar_of(path).journal(path).append(seq, (document.mask.shape[1], document.mask.shape[0]), patch)
        except OSError as exc:
            self._fail(SkinSegError(f"Could not record the edit in {path.parent / '.skinseg'}: "
                                    f"{exc.strerror or exc}. Check that the folder can be written to; the edit stays "
                                    "in the window but will be lost if the app closes."))
        self._pending[path] = document
        if not self._timer.isActive():  # not restarted by later edits: saved within SAVE_DELAY_MS of the first
            self._timer.start()

    def record_effort(self, document: PhotoDocument, pixels: int) -> None:
        now = time.monotonic()
        last = self._last_edit.get(document.path)
        seconds = min(PAUSE_CAP_S, now - last) if last is not None else 0.0
        self._last_edit[document.path] = now
        effort = self.sidecar_of(document.path).add_effort(document.path, seconds, 1, pixels)
        self.effort_changed.emit(document.path, dict(effort))

    def save_pending(self) -> None:
        """Save every photo edited since the last save, in the background."""
        self._timer.stop()
        pending, self._pending = self._pending, {}
        for path, document in pending.items():
            sidecar = self.sidecar_of(path)
            try:
                sidecar.save()
            except SkinSegError as exc:
                self._fail(exc)
            if document.mask is None:
                continue  # not shown any more: its journal holds the edits and is replayed when it is read
            worker = Worker(save_mask, sidecar, path, document.mask.copy(), self._seq.get(path, 0))
            worker.signals.returned.connect(self._mask_saved)
            worker.signals.errored.connect(self._fail)
            self.pool.start(worker, priority=8)

    def _mask_saved(self, result: tuple[Path, int]) -> None:
        path, seq = result
        if self._seq.get(path, 0) == seq and path not in self._pending:
            self.sidecar_of(path).journal(path).clear()  # everything it held is in the mask file now
        self.saved.emit(path)

    def flush(self) -> None:
        """Save now and wait (on quit)."""
        self.save_pending()
        self.pool.wait()

    def _fail(self, error: BaseException) -> None:
        log.warning("Autosave failed: %s", error)
        if not self._warned:  # one dialog, not one per edit
            self._warned = True
            self.failed.emit(error)
