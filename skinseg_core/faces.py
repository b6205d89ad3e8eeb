"""Frontal faces in a photo, found with OpenCV's Haar cascade (Lienhart's `alt2`, shipped inside OpenCV's wheel).

The face colour gate (face_colour.py) learns a photo's own skin colour from the skin inside its faces. Faces are
searched for on the photo scaled to DETECT_LONG_SIDE on the long side: that finds faces from the cascade's 20 px
window there (about 4 % of the photo's width, a face in a group photo) in about 50 ms on two CPU cores; a larger
search finds smaller faces but would put a 12 MP photo past 150 ms. It found no face in the 15 clinical photos, and a
false one in 4 of the abdomen set's 86 validation photos (docs/adr/0023).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from skinseg_core.errors import CheckpointError

__all__ = ["CASCADE_FILE", "DETECT_LONG_SIDE", "Box", "cascade_path", "detect_faces"]

CASCADE_FILE = "haarcascade_frontalface_alt2.xml"
DETECT_LONG_SIDE = 480
MIN_FACE_PX = 20  # at DETECT_LONG_SIDE: the cascade's own window, the smallest face it can find
SCALE_STEP = 1.1
MIN_NEIGHBOURS = 3

Box = tuple[int, int, int, int]  # x, y, width, height in the given photo's pixels

# A CascadeClassifier keeps scratch state per call: one per thread, so that workers can detect at once.
_local = threading.local()


def cascade_path() -> Path:
    return Path(cv2.data.haarcascades) / CASCADE_FILE


def _cascade() -> cv2.CascadeClassifier:
    cascade = getattr(_local, "cascade", None)
    if cascade is None:
        path = cascade_path()
        cascade = cv2.CascadeClassifier(str(path)) if path.is_file() else None
        if cascade is None or cascade.empty():
            raise CheckpointError(
                f"The face detector file {path} is missing or damaged, so the model's face colour gate cannot run. "
                "Reinstall SkinSeg, or turn the gate off (skinseg predict --no-face-gate)."
            )
        _local.cascade = cascade
    return cascade


def detect_faces(rgb: np.ndarray, long_side: int = DETECT_LONG_SIDE) -> list[Box]:
    """Frontal faces in uint8 RGB `rgb` [H, W, 3], as boxes in its own pixels (largest first)."""
    height, width = rgb.shape[:2]
    scale = min(1.0, long_side / max(height, width))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                                                 interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    found = _cascade().detectMultiScale(grey, scaleFactor=SCALE_STEP, minNeighbors=MIN_NEIGHBOURS,
                                        minSize=(MIN_FACE_PX, MIN_FACE_PX))
    boxes = [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: -b[2] * b[3])
