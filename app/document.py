"""One open photo: its display image, probability map and threshold, with its own undo stack.

Commands (app/commands.py) change the document; the canvas and panels follow its *_changed signals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage, QUndoStack

from skinseg_core.probmap import THRESHOLD_STEPS, ProbabilityMap


# The map comes from the network's 128-256 px output, bilinearly enlarged: above this many pixels on the long side an
# overlay shows no more detail, while redrawing it on every threshold change would cost more than a frame (see
# benchmarks/threshold_redraw.py).
OVERLAY_MAX_LONG_SIDE = 2560


def display_size(full_size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) of a photo shown with at most `long_side` pixels on its long side (never enlarged)."""
    width, height = full_size
    scale = min(1.0, long_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


class PhotoDocument(QObject):
    image_changed = Signal()
    map_changed = Signal()
    threshold_changed = Signal(int)  # step 0..THRESHOLD_STEPS

    def __init__(self, path: Path, threshold_step: int, display_long_side: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.display_long_side = display_long_side
        self.undo_stack = QUndoStack(self)
        self.rgb: np.ndarray | None = None  # uint8 [h, w, 3] display version of the photo
        self.image: QImage | None = None  # rgb as a QImage, when a worker made one
        self.full_size: tuple[int, int] | None = None
        self.full_resolution = False  # True once rgb holds every pixel of the photo
        self.prob: ProbabilityMap | None = None
        self.display_map: np.ndarray | None = None  # uint8 [h, w] probabilities * 255 at display resolution
        self._threshold_step = int(threshold_step)

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
        """Forget the large arrays when the photo is no longer shown (threshold and undo history stay)."""
        self.rgb = None
        self.image = None
        self.full_resolution = False
        self.prob = None
        self.display_map = None

    def skin_area(self) -> tuple[int, int] | None:
        """(skin pixels, all pixels) at full resolution for the current threshold, or None without a map."""
        if self.prob is None:
            return None
        return self.prob.area(self._threshold_step), self.prob.pixels
