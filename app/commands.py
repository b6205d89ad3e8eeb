"""Undoable changes to a PhotoDocument (one command per user action: a slider drag pushes one on release).

Every command can `clone()` itself and be made `silent` (its redo and undo then do nothing): app.history rebuilds a
stack that way to drop its oldest steps without touching the mask.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand

from skinseg_core.contours import Region
from skinseg_core.maskpatch import BBox, Patch

from app.document import PhotoDocument


class SetThresholdCommand(QUndoCommand):
    nbytes = 0

    def __init__(self, document: PhotoDocument, old_step: int, new_step: int) -> None:
        super().__init__(f"Threshold {new_step / 100:.2f}")
        self.document = document
        self.old_step = old_step
        self.new_step = new_step
        self.silent = False

    def clone(self) -> SetThresholdCommand:
        return SetThresholdCommand(self.document, self.old_step, self.new_step)

    def redo(self) -> None:
        if not self.silent:
            self.document.set_threshold_step(self.new_step)

    def undo(self) -> None:
        if not self.silent:
            self.document.set_threshold_step(self.old_step)


class MaskEditCommand(QUndoCommand):
    """One change of the corrected mask (a stroke, a polygon, a spline edit, fill holes ...), kept as the XOR of the
    changed box, compressed: undo and redo apply the same XOR. `splines_before` / `splines_after` are the document's
    spline regions on either side (None: to be fitted again from the mask when needed).

    Tools draw their change live and push this command when the user lets go, so the first redo() only announces
    the change (applied=True).
    """

    def __init__(
        self,
        document: PhotoDocument,
        patch: Patch,
        text: str,
        pixels: int,
        splines_before: tuple[Region, ...] | None,
        splines_after: tuple[Region, ...] | None,
        applied: bool = True,
    ) -> None:
        super().__init__(text)
        self.document = document
        self.patch = patch
        self.pixels = pixels
        self.splines_before = splines_before
        self.splines_after = splines_after
        self._applied = applied
        self.silent = False

    def clone(self) -> MaskEditCommand:
        """The same step, to be pushed again (its first redo() is not an announcement)."""
        return MaskEditCommand(self.document, self.patch, self.text(), self.pixels, self.splines_before,
                               self.splines_after, applied=False)

    @property
    def nbytes(self) -> int:
        """Bytes of its mask difference (the spline regions are shared between steps: see app.history)."""
        return self.patch.nbytes

    def _apply(self, splines: tuple[Region, ...] | None) -> None:
        document = self.document
        if document.mask is None:
            return  # the photo's pixels were released; its mask is on disk as of this step (see release_pixels)
        self.document.set_splines(splines)
        x0, y0, x1, y1 = self.patch.bbox
        before = int(document.mask[y0:y1, x0:x1].sum(dtype=np.int64))
        self.patch.xor_into(document.mask)
        document.recount(self.patch.bbox, before)
        document.region_changed(self.patch.bbox, committed=True)

    def redo(self) -> None:
        if self.silent:
            return
        if self._applied:
            self._applied = False
            self.document.set_splines(self.splines_after)
            self.document.mask_committed.emit(self.patch.bbox)
            return
        self._apply(self.splines_after)

    def undo(self) -> None:
        if not self.silent:
            self._apply(self.splines_before)


def mask_edit(document: PhotoDocument, bbox: BBox, before: np.ndarray, text: str,
              splines_after: tuple[Region, ...] | None = None,
              splines_before: tuple[Region, ...] | None | bool = False) -> MaskEditCommand | None:
    """The command for a change already made to document.mask[bbox] (before: the box's pixels before it); None when
    nothing changed. splines_before False: the document's current splines."""
    x0, y0, x1, y1 = bbox
    assert document.mask is not None
    changed = before ^ document.mask[y0:y1, x0:x1]
    pixels = int(np.count_nonzero(changed))
    if pixels == 0 and splines_after is None:
        return None
    old = document.splines if splines_before is False else splines_before
    return MaskEditCommand(document, Patch.from_array(bbox, changed), text, pixels, old, splines_after)
