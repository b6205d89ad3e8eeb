"""Correcting the open photo's mask: starting an edit, pushing one command per edit, whole-mask operations, the
settings the tools share (brush size, cut-out mode), and fitting spline regions in a worker.

Tools (app/canvas/tools) draw live into the document's mask and hand their change to `MaskEditor.commit`, which
turns it into one undo step.

Spline regions (skinseg_core.contours) take 0.1-2 s to fit on a 12 MP mask, so `splines()` never fits them on the
GUI thread: it starts a worker and returns None, and `splines_ready` says when to ask again. A result is used only
if the mask it was fitted to is still the document's (its `mask_version`, or the model's map and threshold for a
photo not corrected yet); a stale one is dropped and the current mask fitted instead.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
from PySide6.QtCore import QObject, Signal

from skinseg_core.contours import Region, iter_fit_regions
from skinseg_core.maskpatch import BBox, bbox_of
from skinseg_core.postprocess import fill_holes, remove_small_islands
from skinseg_core.probmap import ProbabilityMap

from app.commands import mask_edit
from app.document import PhotoDocument
from app.workers import Worker, WorkerPool

MIN_BRUSH, MAX_BRUSH = 1, 2000
BRUSH_STEP = 1.25


def fit_splines(source: np.ndarray | tuple[ProbabilityMap, float]) -> Generator[int, None, tuple[Region, ...]]:
    """Worker function: spline regions of a mask (uint8 0/1 [H, W], a copy the GUI thread no longer writes to), or
    of the model's mask (map, threshold), made here too since a 12 MP threshold takes a while. Yields the regions
    done, so a cancelled fit stops between regions."""
    if isinstance(source, tuple):
        prob, threshold = source
        source = prob.mask(threshold).view(np.uint8)
    return (yield from iter_fit_regions(source))


class MaskEditor(QObject):
    message = Signal(str)
    brush_size_changed = Signal(int)
    subtract_changed = Signal(bool)
    edited = Signal(object, int)  # document, pixels changed: one per pushed edit (effort counting)
    splines_ready = Signal(object)  # document whose spline regions were fitted: ask splines() again

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: PhotoDocument | None = None
        self._brush_size = 40
        self._subtract = False
        self.pool = WorkerPool("splines", 1, self)
        self._fit: tuple[PhotoDocument, tuple, Worker] | None = None  # the fit running: for what, and its worker
        self._preview: tuple[PhotoDocument, tuple, tuple[Region, ...]] | None = None  # fitted to the model's mask

    # ---- shared tool settings ----
    @property
    def brush_size(self) -> int:
        return self._brush_size

    def set_brush_size(self, size: float) -> None:
        size = int(round(min(MAX_BRUSH, max(MIN_BRUSH, size))))
        if size != self._brush_size:
            self._brush_size = size
            self.brush_size_changed.emit(size)

    def grow_brush(self, steps: float = 1.0) -> None:
        new = self._brush_size * BRUSH_STEP**steps
        if round(new) == self._brush_size:  # small brushes still change by at least a pixel
            new = self._brush_size + (1 if steps > 0 else -1)
        self.set_brush_size(new)

    @property
    def subtract(self) -> bool:
        return self._subtract

    def set_subtract(self, on: bool) -> None:
        if on != self._subtract:
            self._subtract = on
            self.subtract_changed.emit(on)

    # ---- editing ----
    def editable_document(self) -> PhotoDocument | None:
        """The open document with a mask to edit (made from the model's at the current threshold on the first edit),
        or None, after saying why."""
        document = self.document
        if document is None or document.full_size is None:
            return None
        if not document.begin_editing():
            self.message.emit("Segment the photo first (Segmentation › Segment Photo): corrections start from the "
                              "model's mask.")
            return None
        return document

    def commit(self, document: PhotoDocument, bbox: BBox | None, before: np.ndarray | None, text: str,
               splines_after: tuple[Region, ...] | None = None,
               splines_before: tuple[Region, ...] | None | bool = False) -> bool:
        """Push the change already made to document.mask[bbox] (before: its old pixels) as one undo step."""
        if bbox is None or before is None:
            return False
        command = mask_edit(document, bbox, before, text, splines_after, splines_before)
        if command is None:
            return False
        if splines_after is None:
            document.set_splines(None)
        document.push(command)
        self.edited.emit(document, command.pixels)
        return True

    def replace_mask(self, document: PhotoDocument, new: np.ndarray, text: str) -> bool:
        """Whole-mask operations: write only the box where `new` differs, as one step."""
        assert document.mask is not None
        bbox = bbox_of(new != document.mask)
        if bbox is None:
            self.message.emit(f"{text}: nothing to change.")
            return False
        x0, y0, x1, y1 = bbox
        before = document.mask[y0:y1, x0:x1].copy()
        document.write_region(bbox, new[y0:y1, x0:x1])
        return self.commit(document, bbox, before, text)

    def fill_holes(self) -> bool:
        document = self.editable_document()
        if document is None:
            return False
        return self.replace_mask(document, fill_holes(document.mask), "Fill holes")

    def remove_islands(self, min_area: int) -> bool:
        document = self.editable_document()
        if document is None:
            return False
        return self.replace_mask(document, remove_small_islands(document.mask, min_area),
                                 f"Remove islands under {min_area} px")

    # ---- spline regions, fitted in a worker ----
    @staticmethod
    def _key(document: PhotoDocument) -> tuple:
        """What a fit for the document's current mask is fitted to."""
        if document.mask is not None:
            return ("mask", document.mask_version)
        return ("model", id(document.prob), document.threshold_step)

    @property
    def fitting(self) -> bool:
        return self._fit is not None

    def splines(self, document: PhotoDocument) -> tuple[Region, ...] | None:
        """The spline regions of the document's mask (or, before its first edit, of the model's mask at its
        threshold); None while they are being fitted in the background: `splines_ready` follows."""
        key = self._key(document)
        if self._preview is not None and self._preview[0] is not document:
            self._preview = None  # another photo's: its pixels need not stay in memory
        if document.mask is not None and document.splines is not None:
            return document.splines
        if (document.mask is not None and self._preview is not None and self._preview[0] is document
                and document.started_from == (self._preview[1], document.mask_version)):
            document.splines = self._preview[2]  # the mask editing began with is the one they were fitted to
            return document.splines
        if document.mask is None and self._preview is not None and self._preview[:2] == (document, key):
            return self._preview[2]
        if document.mask is None and document.prob is None:
            return ()
        if self._fit is not None:
            if self._fit[:2] == (document, key):
                return None
            self._fit[2].cancel()  # stale: its result would be dropped anyway
            self.pool.try_take(self._fit[2])
        source = document.mask.copy() if document.mask is not None else (document.prob, document.threshold)
        worker = Worker(fit_splines, source)
        worker.signals.returned.connect(self._fitted)
        worker.signals.errored.connect(self._fit_failed)
        self._fit = (document, key, worker)
        self.pool.start(worker)
        return None

    def _finished(self) -> tuple[PhotoDocument, tuple] | None:
        sender = self.sender()
        if self._fit is None or self._fit[2].signals is not sender:
            return None  # a fit that was superseded
        document, key, _ = self._fit
        self._fit = None
        return document, key

    def _fitted(self, regions: tuple[Region, ...]) -> None:
        done = self._finished()
        if done is None:
            return
        document, key = done
        if self._key(document) == key:
            if key[0] == "mask":
                document.set_splines(regions)
            else:
                self._preview = (document, key, regions)
        # else: the mask changed while it was fitted; whoever asks again gets a fit of the current one
        self.splines_ready.emit(document)

    def _fit_failed(self, error: BaseException) -> None:
        if self._finished() is not None:
            self.message.emit(f"The mask could not be turned into curves: {error}")

    def shutdown(self) -> None:
        self.pool.shutdown()
