"""Frontal faces in a photo, found with OpenCV's Haar cascade (Lienhart's `alt2`, shipped inside OpenCV's wheel).

The face colour gate (face_colour.py) learns a photo's own skin colour from the skin inside its faces. Faces are
searched for on the photo scaled to DETECT_LONG_SIDE on the long side: that finds faces from the cascade's 20 px
window there (about 4 % of the photo's width, a face in a group photo) in about 50 ms on two CPU cores; a larger
search finds smaller faces but would put a 12 MP photo past 150 ms. It found no face in the 15 clinical photos, and a
false one in 4 of the abdomen set's 86 validation photos (docs/adr/0023).

Smaller faces, the 15-40 px faces of a group photo, are searched for in a second pass (`detect_small_faces`) on the
photo at SMALL_FACE_LONG_SIDE, but only around the small parts of what the network calls skin, and only at the sizes
the first pass did not look at: a whole-photo search at that size costs about 200 ms on a crowded picture. A
close-up's skin is one large part, so a clinical photo is not searched again. With the second pass the face colour
gate starts the first at FIRST_PASS_MIN_FACE_PX, not at the window's 20 px (docs/adr/0025).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from skinseg_core.errors import CheckpointError

__all__ = ["CASCADE_FILE", "DETECT_LONG_SIDE", "FIRST_PASS_MIN_FACE_PX", "PROFILE_CASCADE_FILE", "PROFILE_LONG_SIDE",
           "SMALL_FACE_LONG_SIDE", "Box", "cascade_path", "detect_faces", "detect_large_profiles", "detect_small_faces"]

CASCADE_FILE = "haarcascade_frontalface_alt2.xml"
# Faces seen from the side (OpenCV's profile cascade, also in its wheel; it finds faces turned to the left, so the
# photo is searched mirrored as well).
PROFILE_CASCADE_FILE = "haarcascade_profileface.xml"
# They are looked for only where the frontal search found none, and only as large as a face that sends a photo to the
# network for people: at least 24 px at 160 px on the long side. Searched so, coarsely, they cost 6-15 ms on a slow
# day here, about a third of a search at 240 px in steps of 1.1, and scored as well on validation (docs/adr/0035).
PROFILE_LONG_SIDE = 160
PROFILE_SCALE_STEP = 1.2
DETECT_LONG_SIDE = 480
MIN_FACE_PX = 20  # at DETECT_LONG_SIDE: the cascade's own window, the smallest face it can find
# Each search steps its window's size up 1.1 times at a time. 1.2 made the first search 38 % faster but lost faces
# (LFW 492 -> 480 of 500), and a photo of people whose face is lost loses the network for people and the gate: one of
# ECU's test photos fell from 0.77 to 0.38 (docs/adr/0033).
SCALE_STEP = 1.1
MIN_NEIGHBOURS = 3
# With the second pass, the first need not search the whole photo at its costliest, smallest sizes: from 28 px at 480
# it costs about a third less, and the second pass finds the 20-28 px faces near small skin parts (docs/adr/0025).
FIRST_PASS_MIN_FACE_PX = 28
SMALL_FACE_LONG_SIDE = 800
# The second pass looks around parts of the map at least this likely skin: the network under-calls small faces.
SMALL_FACE_SKIN = 0.3
# ... whose box is at most this share of the map's long side (a face, a face and neck, a hand), searching each part's
# box grown by its own size on every side.
SMALL_PART = 0.15

Box = tuple[int, int, int, int]  # x, y, width, height in the given photo's pixels

# A CascadeClassifier keeps scratch state per call: one per thread, so that workers can detect at once.
_local = threading.local()


def cascade_path(name: str = CASCADE_FILE) -> Path:
    return Path(cv2.data.haarcascades) / name


def _cascade(name: str = CASCADE_FILE) -> cv2.CascadeClassifier:
    if not hasattr(_local, "cascades"):
        _local.cascades = {}
    cascade = _local.cascades.get(name)
    if cascade is None:
        path = cascade_path(name)
        cascade = cv2.CascadeClassifier(str(path)) if path.is_file() else None
        if cascade is None or cascade.empty():
            raise CheckpointError(
                f"The face detector file {path} is missing or damaged, so the model's face colour gate cannot run. "
                "Reinstall SkinSeg, or turn the gate off (skinseg predict --no-face-gate)."
            )
        _local.cascades[name] = cascade
    return cascade


def _grey_at(rgb: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    """The histogram-equalised grey photo with at most `long_side` px on its long side, and its scale."""
    height, width = rgb.shape[:2]
    scale = min(1.0, long_side / max(height, width))
    small = rgb if scale == 1.0 else cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                                                 interpolation=cv2.INTER_AREA)
    return cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)), scale


def detect_faces(rgb: np.ndarray, long_side: int = DETECT_LONG_SIDE, min_face: int = MIN_FACE_PX,
                 scale_step: float = SCALE_STEP) -> list[Box]:
    """Frontal faces in uint8 RGB `rgb` [H, W, 3] from `min_face` px wide at `long_side`, the search window's size
    stepped up by `scale_step`, as boxes in its own pixels (largest first)."""
    grey, scale = _grey_at(rgb, long_side)
    found = _cascade().detectMultiScale(grey, scaleFactor=scale_step, minNeighbors=MIN_NEIGHBOURS,
                                        minSize=(min_face, min_face))
    boxes = [tuple(int(round(v / scale)) for v in box) for box in (found if len(found) else [])]
    return sorted(boxes, key=lambda b: -b[2] * b[3])


def detect_large_profiles(rgb: np.ndarray, min_share: float, long_side: int = PROFILE_LONG_SIDE) -> list[Box]:
    """Faces seen from the side, facing either way, at least `min_share` of uint8 RGB `rgb`'s width, searched for on
    `rgb` at `long_side`: boxes in its own pixels (largest first). Only large faces are looked for, so a small photo
    is enough and the search is cheap."""
    grey, scale = _grey_at(rgb, long_side)
    width = grey.shape[1]
    smallest = max(MIN_FACE_PX, int(np.ceil(min_share * width)))
    boxes: list[Box] = []
    for mirrored in (False, True):
        found = _cascade(PROFILE_CASCADE_FILE).detectMultiScale(
            cv2.flip(grey, 1) if mirrored else grey, scaleFactor=PROFILE_SCALE_STEP, minNeighbors=MIN_NEIGHBOURS,
            minSize=(smallest, smallest))
        for x, y, w, h in (found if len(found) else []):
            box = (width - x - w if mirrored else x, y, w, h)
            boxes.append(tuple(int(round(v / scale)) for v in box))
    return sorted(boxes, key=lambda b: -b[2] * b[3])


def _search_regions(skin_map: np.ndarray, found: list[Box], photo_shape: tuple[int, int], shortest: float
                    ) -> np.ndarray:
    """[n, 4] boxes (x, y, w, h) in `skin_map`'s pixels where a face too small for the first pass may be: the small
    parts of the map's likely skin, at least `shortest` map pixels long, that no found face covers, each grown by its
    own size, overlapping ones merged."""
    map_h, map_w = skin_map.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats((skin_map >= SMALL_FACE_SKIN).astype(np.uint8),
                                                               connectivity=8)
    covered = np.zeros((map_h, map_w), bool)
    fx, fy = map_w / photo_shape[1], map_h / photo_shape[0]
    for x, y, w, h in found:
        covered[int(y * fy):int((y + h) * fy) + 1, int(x * fx):int((x + w) * fx) + 1] = True
    covered_share = np.bincount(labels[covered], minlength=count) / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    region = np.zeros((map_h, map_w), np.uint8)
    limit = SMALL_PART * max(map_h, map_w)
    for part in range(1, count):
        x, y, w, h, _ = stats[part]
        # A part shorter than the smallest face this search can find is a speck, a finger, a lesion; a part mostly
        # inside a found face is that face (its neck and ears come with it).
        if not shortest <= max(w, h) <= limit or covered_share[part] > 0.3:
            continue
        grow = max(w, h)
        region[max(0, y - grow):y + h + grow + 1, max(0, x - grow):x + w + grow + 1] = 1
    merged, _, boxes, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
    return boxes[1:merged, :4]


def detect_small_faces(rgb: np.ndarray, skin_map: np.ndarray, found: list[Box],
                       long_side: int = SMALL_FACE_LONG_SIDE, first_long_side: int = DETECT_LONG_SIDE,
                       first_min_face: int = FIRST_PASS_MIN_FACE_PX) -> list[Box]:
    """Frontal faces too small for `detect_faces(rgb, first_long_side, first_min_face)`: searched for on `rgb` at
    `long_side`, only at sizes below the first pass's smallest, around the small parts of `skin_map` (the network's
    map for `rgb`, any size with its aspect ratio) that none of the first pass's faces `found` covers. Boxes in
    `rgb`'s pixels."""
    height, width = rgb.shape[:2]
    searched_side = min(long_side, max(height, width))
    if searched_side <= first_long_side * SCALE_STEP:
        return []  # the photo has no more detail than the first pass saw
    regions = _search_regions(skin_map, found, (height, width), MIN_FACE_PX * max(skin_map.shape) / searched_side)
    if not len(regions):
        return []
    grey, scale = _grey_at(rgb, long_side)
    sy, sx = grey.shape[0] / skin_map.shape[0], grey.shape[1] / skin_map.shape[1]
    # The first pass found faces from first_min_face at first_long_side: this one looks only below that.
    largest = int(np.ceil(first_min_face * max(grey.shape) / first_long_side * SCALE_STEP))
    boxes: list[Box] = []
    for x, y, w, h in regions:
        left, top = int(x * sx), int(y * sy)
        right, bottom = min(grey.shape[1], int((x + w) * sx) + 1), min(grey.shape[0], int((y + h) * sy) + 1)
        if right - left < MIN_FACE_PX or bottom - top < MIN_FACE_PX:
            continue
        found_here = _cascade().detectMultiScale(grey[top:bottom, left:right], scaleFactor=SCALE_STEP,
                                                 minNeighbors=MIN_NEIGHBOURS, minSize=(MIN_FACE_PX, MIN_FACE_PX),
                                                 maxSize=(largest, largest))
        boxes += [(bx + left, by + top, bw, bh) for bx, by, bw, bh in (found_here if len(found_here) else [])]
    # The merged regions' boxes may overlap: a face whose centre lies in one already kept is the same face.
    kept: list[Box] = []
    for box in sorted(boxes, key=lambda b: -b[2]):
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        if not any(k[0] <= cx <= k[0] + k[2] and k[1] <= cy <= k[1] + k[3] for k in kept):
            kept.append(box)
    return [tuple(int(round(v / scale)) for v in box) for box in kept]
