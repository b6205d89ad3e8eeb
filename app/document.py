"""One open photo: its display image, probability map and threshold, its corrected mask, and its own undo stack.

Commands (app/commands.py) change the document; the canvas and panels follow its *_changed signals.

The corrected mask is uint8 0/1 at the photo's full resolution (docs/adr/0005-corrected-masks.md); the overlay shows
it through `display_mask`, which samples it at the centre of each display pixel and is updated only where an edit
changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoCommand, QUndoStack

from skinseg_core.contours import Region
from skinseg_core.maskpatch import BBox, clip_bbox
from skinseg_core.probmap import THRESHOLD_STEPS, ProbabilityMap

from app.history import DEFAULT_PHOTO_LIMIT_MB, MB, trim


# The map comes from the network's 128-256 px output, bilinearly enlarged: above this many pixels on the long side an
# overlay shows no more detail, while redrawing it on every threshold change would cost more than a frame (see
# benchmarks/threshold_redraw.py).
OVERLAY_MAX_LONG_SIDE = 2560


def display_size(full_size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) of a photo shown with at most `long_side` pixels on its long side (never enlarged)."""
    width, height = full_size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(frozen=True, eq=False)
class Prediction:
    """prob: the model's map; display_map: uint8 [h, w] probabilities * 255 at display resolution."""

    prob: ProbabilityMap
    threshold: float
    display_map: np.ndarray

    def skin_area(self) -> tuple[int, int]:
        return self.prob.area(round(self.threshold * THRESHOLD_STEPS)), self.prob.pixels


class PhotoDocument(QObject):
    image_changed = Signal()
    map_changed = Signal()
    threshold_changed = Signal(int)  # step 0..THRESHOLD_STEPS
    mask_changed = Signal(object)  # BBox of the corrected mask that changed (live, also while a stroke is drawn)
    mask_committed = Signal(object)  # BBox changed by a command (do, undo, redo): what autosave journals
    splines_changed = Signal()
    editing_started = Signal()
    history_pushed = Signal(int)  # after a step was pushed: how many old steps were dropped to stay within the limit

    def __init__(self, path: Path, threshold_step: int, display_long_side: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.display_long_side = display_long_side
        self.undo_stack = QUndoStack(self)
        self.history_limit = DEFAULT_PHOTO_LIMIT_MB * MB  # bytes of undo history (app.history)
        self.mask_version = 0  # counts changes of the corrected mask: work started on an older one is stale
        self.started_from: tuple[tuple, int] | None = None  # (the model's mask it began as, mask_version then)
        self.mask: np.ndarray | None = None  # uint8 0/1 [H, W] corrected mask at full resolution
        self.display_mask: np.ndarray | None = None  # uint8 0/255 [h, w], mask sampled at display pixel centres
        self.mask_area = 0
        self.splines: tuple[Region, ...] | None = None  # the mask as spline regions (None: not made, or stale)
        self._rows: np.ndarray | None = None
        self._cols: np.ndarray | None = None
        self.rgb: np.ndarray | None = None  # uint8 [h, w, 3] display version of the photo
        self.image: QImage | None = None  # rgb as a QImage, when a worker made one
        self.full_size: tuple[int, int] | None = None
        self.full_resolution = False  # True once rgb holds every pixel of the photo
        self.prob: ProbabilityMap | None = None
        self.prediction: Prediction | None = None  # the model's mask a correction started from, once asked for
        self.display_map: np.ndarray | None = None  # uint8 [h, w] probabilities * 255 at display resolution
        self._threshold_step = int(threshold_step)

    def push(self, command: QUndoCommand) -> None:
        """Push an undo step, then drop the oldest steps if the history holds more than history_limit bytes."""
        self.undo_stack.push(command)
        self.history_pushed.emit(trim(self.undo_stack, self.history_limit))

    def set_history_limit(self, limit: int) -> None:
        self.history_limit = limit
        trim(self.undo_stack, limit)

    @property
    def threshold_step(self) -> int:
        return self._threshold_step

    @property
    def threshold(self) -> float:
        return self._threshold_step / THRESHOLD_STEPS

    def set_threshold_step(self, step: int) -> None:
        """Used by commands and by the live preview while a slider is dragged."""
        step = max(0, min(THRESHOLD_STEPS, int(step)))
        if step != self._threshold_step:
            self._threshold_step = step
            self.threshold_changed.emit(step)

    def set_image(self, rgb: np.ndarray, full_size: tuple[int, int], full_resolution: bool = False,
                  image: QImage | None = None) -> None:
        """image: the same pixels as a QImage when a worker already made one (else the canvas converts rgb)."""
        self.rgb = rgb
        self.image = image
        self.full_size = full_size
        self.full_resolution = full_resolution or (rgb.shape[1], rgb.shape[0]) == tuple(full_size)
        self.image_changed.emit()

    def set_map(self, prob: ProbabilityMap) -> None:
        self.prob = prob
        self.full_size = self.full_size or prob.full_size
        long_side = min(self.display_long_side, OVERLAY_MAX_LONG_SIDE)
        self.display_map = prob.display_u8(display_size(prob.full_size, long_side))
        self.map_changed.emit()

    def release_pixels(self) -> None:
        """Forget the large arrays when the photo is no longer shown (threshold and undo history stay; the corrected
        mask is in the sidecar and its journal, exactly as it is now, and is read back when the photo is shown)."""
        self.rgb = None
        self.image = None
        self.full_resolution = False
        self.prob = None
        self.display_map = None
        self.mask = None
        self.display_mask = None
        self.splines = None
        self.mask_version += 1
        self.prediction = None

    # ---- the model's own prediction (before / after) ----------------------------------------------------------

    def set_prediction(self, prob: ProbabilityMap, threshold: float) -> None:
        """The model's mask the correction started from: its map (kept in the sidecar) and threshold."""
        long_side = min(self.display_long_side, OVERLAY_MAX_LONG_SIDE)
        shape = (self.display_map.shape[1], self.display_map.shape[0]) if self.display_map is not None else \
            display_size(prob.full_size, long_side)
        self.prediction = Prediction(prob, threshold, prob.display_u8(shape))

    # ---- the corrected mask ---------------------------------------------------------------------------------

    @property
    def corrected(self) -> bool:
        return self.mask is not None

    def _display_shape(self, full_size: tuple[int, int]) -> tuple[int, int]:
        if self.display_map is not None:
            return self.display_map.shape[1], self.display_map.shape[0]
        return display_size(full_size, min(self.display_long_side, OVERLAY_MAX_LONG_SIDE))

    def set_mask(self, mask: np.ndarray) -> None:
        """Use this corrected mask (uint8 0/1 [H, W], taken as is) and redraw all of it."""
        height, width = mask.shape
        self.full_size = self.full_size or (width, height)
        self.mask = mask
        dw, dh = self._display_shape((width, height))
        self._cols = ((np.arange(dw) + 0.5) * (width / dw)).astype(np.intp)
        self._rows = ((np.arange(dh) + 0.5) * (height / dh)).astype(np.intp)
        self.display_mask = np.zeros((dh, dw), np.uint8)
        self.mask_area = int(np.count_nonzero(mask))
        self.splines = None
        self.mask_version += 1
        self._update_display((0, 0, width, height))
        self.mask_changed.emit((0, 0, width, height))

    def begin_editing(self) -> bool:
        """Start correcting from the model's mask at the current threshold. False when there is no map yet."""
        if self.mask is not None:
            return True
        if self.prob is None:
            return False
        origin = ("model", id(self.prob), self._threshold_step)
        self.set_mask(self.prob.mask(self.threshold).view(np.uint8))
        self.started_from = (origin, self.mask_version)  # what the mask is, until its first change
        self.editing_started.emit()
        self.mask_committed.emit((0, 0, self.mask.shape[1], self.mask.shape[0]))  # journalled as the first edit
        return True

    def _update_display(self, bbox: BBox) -> None:
        assert self.mask is not None and self._rows is not None and self._cols is not None
        x0, y0, x1, y1 = bbox
        c0, c1 = np.searchsorted(self._cols, x0), np.searchsorted(self._cols, x1)
        r0, r1 = np.searchsorted(self._rows, y0), np.searchsorted(self._rows, y1)
        if c0 < c1 and r0 < r1:
            block = self.mask[np.ix_(self._rows[r0:r1], self._cols[c0:c1])]
            self.display_mask[r0:r1, c0:c1] = block * np.uint8(255)

    def clip(self, bbox: BBox) -> BBox | None:
        assert self.mask is not None
        return clip_bbox(bbox, (self.mask.shape[1], self.mask.shape[0]))

    def write_region(self, bbox: BBox, values: np.ndarray, committed: bool = False) -> None:
        """mask[bbox] = values (uint8 0/1, the box's shape); redraws that box only."""
        assert self.mask is not None
        x0, y0, x1, y1 = bbox
        region = self.mask[y0:y1, x0:x1]
        self.mask_area += int(np.count_nonzero(values)) - int(np.count_nonzero(region))
        region[...] = values
        self.region_changed(bbox, committed)

    def region_changed(self, bbox: BBox, committed: bool = False) -> None:
        """Tell the views (and, if committed, autosave) that mask[bbox] changed in place."""
        self.mask_version += 1
        self._update_display(bbox)
        self.mask_changed.emit(bbox)
        if committed:
            self.mask_committed.emit(bbox)

    def recount(self, bbox: BBox, before: int) -> None:
        """After drawing into mask[bbox] directly: fix the area from the box's count before drawing."""
        x0, y0, x1, y1 = bbox
        assert self.mask is not None
        self.mask_area += int(np.count_nonzero(self.mask[y0:y1, x0:x1])) - before

    def set_splines(self, splines: tuple[Region, ...] | None) -> None:
        if splines is not self.splines:
            self.splines = splines
            self.splines_changed.emit()

    def skin_area(self) -> tuple[int, int] | None:
        """(skin pixels, all pixels) at full resolution for the current threshold, or None without a map."""
        if self.mask is not None:
            return self.mask_area, int(self.mask.size)
        if self.prob is None:
            return None
        return self.prob.area(self._threshold_step), self.prob.pixels
