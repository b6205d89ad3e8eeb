"""Correcting the open photo's mask: starting an edit, pushing one command per edit, whole-mask operations, and the
settings the tools share (brush size, cut-out mode).

Tools (app/canvas/tools) draw live into the document's mask and hand their change to `MaskEditor.commit`, which
turns it into one undo step.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from skinseg_core.contours import Region, fit_regions
from skinseg_core.maskpatch import BBox, bbox_of
from skinseg_core.postprocess import fill_holes, remove_small_islands

from app.commands import mask_edit
from app.document import PhotoDocument

MIN_BRUSH, MAX_BRUSH = 1, 2000
BRUSH_STEP = 1.25


class MaskEditor(QObject):
    message = Signal(str)
    brush_size_changed = Signal(int)
    subtract_changed = Signal(bool)
    edited = Signal(object, int)  # document, pixels changed: one per pushed edit (effort counting)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document: PhotoDocument | None = None
        self._brush_size = 40
        self._subtract = False

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
        document.undo_stack.push(command)
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

    def splines(self, document: PhotoDocument) -> tuple[Region, ...]:
        """The document's spline regions, fitted from its mask when missing (the mask itself does not change)."""
        if document.splines is None:
            assert document.mask is not None
            document.set_splines(fit_regions(document.mask))
        return document.splines
