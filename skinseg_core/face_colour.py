"""The face colour gate: a photo's skin map, damped where a pixel's colour is far from the skin in its faces.

Why: on web photos of people the network finds nearly all skin but also calls skin-coloured things skin (red or
orange clothing, auburn hair, sunlit walls; docs/adr/0009, 0013), and no threshold or retraining tried here fixed
that without costing close-ups. A face, where one is found (faces.py), shows what this photo's skin looks like under
this photo's light. So the gate fits a Gaussian to the a*b* colours (CIE Lab, lightness left out so that shade does
not count) of the skin the network found inside the faces, and multiplies the map by 1 within `distance` of it
(Mahalanobis) and by a Gaussian fall-off beyond. Photos without a face (close-ups, clinical photos, most hands and
legs) keep their map as it is.

Diseased skin is skin: a lesion is often far from the skin's colour. So what the gate takes is given back inside
each face's ellipse, inside the skin that remains (its holes: a lesion on an arm), and where a damped part's outline is
mostly remaining skin (a lesion at the skin's edge; a sweater below the neck is bordered by skin on one side only).

The same colour model also works the other way round: inside a face's ellipse, pixels within `distance` of it are
raised to at least `raise_to`. The network under-calls small faces (a group photo's, ADR 0013), and the detector
still finds them.

Last, hair of the face's hue, which the gate keeps, is taken away around each face (face_hair.py, docs/adr/0024).

Before all that, before the network even, a photo where the first face search finds a face and whose colour balance
lies far outside that of the training photos of people is re-balanced (colour_balance.py, docs/adr/0027): under a
warm lamp the network calls walls and clothing skin, and the gate's colour model, fitted to a face in the same light,
cannot take them away.
A photo lit by a lamp on one side and a window on the other is first levelled toward one light there
(docs/adr/0031).

Measured on the shipped model and its validation splits: 0.775 -> 0.800, the group pictures 0.566 -> 0.649; pasted
lesions near faces called skin 0.926 against 0.973 (benchmarks/lesions_on_faces.py, docs/adr/0023).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from skinseg_core.colour_balance import rebalance, rebalance_across
from skinseg_core.colour_model import gaussian_distance, lab
from skinseg_core.face_hair import hair_out
from skinseg_core.faces import (DETECT_LONG_SIDE, FIRST_PASS_MIN_FACE_PX, SMALL_FACE_LONG_SIDE, Box, detect_faces,
                                detect_small_faces)
from skinseg_core.postprocess import fill_holes

__all__ = ["FaceColourGate", "bordered_by", "gate_map"]

SKIN = 0.5  # the network's own decision, whatever threshold the user later shows
# A face narrower than this share of the map's long side is small (a crowd's): the network under-calls its neck as it
# does the face, so the zone where the faces' colour is raised to skin reaches below it, over NECK_ROWS of its
# height and its middle half (docs/adr/0025). Around larger faces the network finds the neck itself.
SMALL_FACE_SHARE = 0.07
NECK_ROWS = (0.8, 1.4)
# Each face's own colour (_raise_each_face): sampled where the map is at least this in the middle of its box ...
OWN_COLOUR_FLOOR = 0.3
# ... if at least this share of it, and at least this many pixels.
OWN_COLOUR_SHARE = 0.25
MIN_OWN_SAMPLES = 6


@dataclass(frozen=True)
class FaceColourGate:
    distance: float = 2.0  # Mahalanobis distance in a*b* within which the map is kept as it is
    softness: float = 1.0  # beyond it the map is multiplied by exp(-(d - distance)^2 / (2 softness^2))
    inner: float = 0.6  # the central share of each face box (width and height) whose skin is sampled
    min_pixels: int = 40  # fewer skin pixels than this in the faces: no gate
    regularisation: float = 4.0  # added to the covariance's diagonal (a*b* units squared): an evenly lit face is
    # not a single colour to the gate
    detect_long_side: int = DETECT_LONG_SIDE
    give_back_share: float = 0.6  # a damped part whose outline is at least this share skin is given back
    raise_to: float = 0.75  # inside a face's ellipse, pixels within `distance` are raised to at least this (0: off)
    hair_margin: float = 1.0  # face_hair.py: around a face, pixels nearer the hair's colour than the face's by this
    # margin are not skin (0: off)
    small_face_long_side: int = SMALL_FACE_LONG_SIDE  # faces.detect_small_faces: faces too small for the first
    # search are looked for on the photo at this size, around small parts of the map (0: off)
    # colour_balance.py: where a face is found, a photo whose colour balance lies beyond this Mahalanobis distance of
    # the training photos of people's is brought back toward it before the network (0: off). The range is fitted by
    # scripts/fit_colour_balance.py.
    balance_radius: float = 2.0
    balance_centre: tuple[float, float] = (0.0953, -0.0658)
    balance_inverse_covariance: tuple[tuple[float, float], tuple[float, float]] = ((114.25, 58.79), (58.79, 186.44))
    # ... and before that, a photo whose light's colour changes from its left edge to its right further than this
    # (Mahalanobis) from the training photos of people's is levelled toward them (a lamp on one side, a window on the
    # other; docs/adr/0031; 0: off). Fitted by the same script.
    slope_radius: float = 2.0
    slope_centre: tuple[float, float] = (0.0169, 0.0029)
    slope_inverse_covariance: tuple[tuple[float, float], tuple[float, float]] = ((41.9, 13.97), (13.97, 45.0))

    def __post_init__(self) -> None:
        if not (self.distance > 0 and self.softness > 0 and 0 < self.inner <= 1 and self.min_pixels >= 1
                and self.regularisation > 0 and self.detect_long_side >= 64 and 0 < self.give_back_share <= 1
                and 0 <= self.raise_to <= 1 and self.hair_margin >= 0
                and (self.small_face_long_side == 0 or self.small_face_long_side > self.detect_long_side)
                and all(radius >= 0 and len(centre) == 2 and _positive_definite(inverse)
                        for radius, centre, inverse in self._ranges())):
            raise ValueError(f"face colour gate settings out of range: {self}")

    def _ranges(self) -> tuple[tuple[float, tuple, tuple], ...]:
        return ((self.balance_radius, self.balance_centre, self.balance_inverse_covariance),
                (self.slope_radius, self.slope_centre, self.slope_inverse_covariance))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for kind in ("balance", "slope"):
            data[f"{kind}_centre"] = list(data[f"{kind}_centre"])
            data[f"{kind}_inverse_covariance"] = [list(row) for row in data[f"{kind}_inverse_covariance"]]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaceColourGate:
        return cls(distance=float(data["distance"]), softness=float(data["softness"]), inner=float(data["inner"]),
                   min_pixels=int(data["min_pixels"]), regularisation=float(data["regularisation"]),
                   detect_long_side=int(data["detect_long_side"]), give_back_share=float(data["give_back_share"]),
                   raise_to=float(data["raise_to"]),
                   # Model files written before face_hair.py or the small-face search lack them: they get the
                   # measured defaults.
                   hair_margin=float(data.get("hair_margin", cls.hair_margin)),
                   small_face_long_side=int(data.get("small_face_long_side", cls.small_face_long_side)),
                   # ... and those written before colour_balance.py (or its left-right slope) the ranges fitted then.
                   **{key: _range_value(key, data.get(key, getattr(cls, key)))
                      for kind in ("balance", "slope")
                      for key in (f"{kind}_radius", f"{kind}_centre", f"{kind}_inverse_covariance")})

    @property
    def read_long_side(self) -> int:
        """How many pixels on the long side the gate can use: a photo decoded larger gives it nothing more."""
        return max(self.detect_long_side, self.small_face_long_side)

    def first_faces(self, rgb: np.ndarray) -> list[Box]:
        """The faces the first search finds in `rgb`: it needs no map, so it can run before the network."""
        if not self.small_face_long_side:
            return detect_faces(rgb, self.detect_long_side)
        return detect_faces(rgb, self.detect_long_side, FIRST_PASS_MIN_FACE_PX)

    def faces(self, rgb: np.ndarray, prob: np.ndarray | None = None, first: list[Box] | None = None) -> list[Box]:
        """The faces in `rgb`; with `prob`, the network's map for it, also those too small for the first search.
        `first`: what `first_faces(rgb)` found, if it already ran."""
        if prob is None:
            return detect_faces(rgb, self.detect_long_side)
        found = self.first_faces(rgb) if first is None else first
        if not self.small_face_long_side:
            return found
        return found + detect_small_faces(rgb, prob, found, self.small_face_long_side, self.detect_long_side,
                                          FIRST_PASS_MIN_FACE_PX)

    def balanced(self, rgb: np.ndarray, faces: list[Box]) -> np.ndarray:
        """`rgb` with the change of its light's colour from left to right, then its colour balance, brought back
        toward the people photos' (colour_balance.py) when a face was found in it (`faces`: the first search's, or a
        large one seen from the side, docs/adr/0035); otherwise `rgb` itself. Only whether there is a face counts,
        not where."""
        if not faces:
            return rgb
        if self.slope_radius > 0:
            rgb = rebalance_across(rgb, np.asarray(self.slope_centre), np.asarray(self.slope_inverse_covariance),
                                   self.slope_radius)
        if self.balance_radius > 0:
            rgb = rebalance(rgb, np.asarray(self.balance_centre), np.asarray(self.balance_inverse_covariance),
                            self.balance_radius)
        return rgb


def _positive_definite(matrix: Any) -> bool:
    return np.shape(matrix) == (2, 2) and bool(np.all(np.linalg.eigvalsh(np.asarray(matrix, float)) > 0))


def _range_value(key: str, value: Any) -> Any:
    """A colour balance range's setting from a model file, as the dataclass holds it."""
    if key.endswith("_radius"):
        return float(value)
    if key.endswith("_centre"):
        return tuple(float(v) for v in value)
    return tuple(tuple(float(v) for v in row) for row in value)


def gate_map(rgb: np.ndarray, prob: np.ndarray, faces: list[Box], settings: FaceColourGate) -> np.ndarray:
    """float32 map: `prob` [h, w] gated by the skin colour inside `faces` (boxes in `rgb`'s pixels). `rgb` is the
    photo at any size; it is resized to the map's (the map keeps the photo's shape, or is the network's square)."""
    if not faces:
        return prob
    height, width = prob.shape
    sy, sx = height / rgb.shape[0], width / rgb.shape[1]
    if rgb.shape[:2] != prob.shape:
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    samples = np.zeros((height, width), bool)
    in_faces_u8 = np.zeros((height, width), np.uint8)
    margin = (1.0 - settings.inner) / 2
    boxes = [(x * sx, y * sy, w * sx, h * sy) for x, y, w, h in faces]  # in the map's pixels
    necks_u8 = np.zeros((height, width), np.uint8)
    small_below = SMALL_FACE_SHARE * max(height, width)
    for x, y, w, h in boxes:
        samples[int(y + h * margin):int(y + h * (1 - margin)), int(x + w * margin):int(x + w * (1 - margin))] = True
        _draw_face_zone(in_faces_u8, (x, y, w, h), small_below, neck=False)
        _draw_face_zone(necks_u8, (x, y, w, h), small_below, ellipse=False)
    in_faces, necks = in_faces_u8 > 0, necks_u8 > 0
    skin = prob >= SKIN
    samples &= skin
    if samples.sum() < settings.min_pixels:
        return prob
    photo_lab = lab(rgb)
    distance = gaussian_distance(photo_lab[..., 1:], samples, settings.regularisation)
    beyond = np.maximum(distance - settings.distance, 0.0)
    gated = prob * np.exp(-(beyond * beyond) / (2 * settings.softness ** 2))
    # The gate is for what lies around people; it takes nothing from the faces themselves, nor from inside the skin.
    kept_by_gate = gated >= SKIN
    holes = (fill_holes(kept_by_gate) > 0) & ~kept_by_gate
    given_back = (holes | in_faces) & skin
    kept = kept_by_gate | given_back
    given_back |= bordered_by(skin & ~kept, kept, settings.give_back_share)
    out = np.where(given_back, prob, gated)
    if settings.raise_to > 0:
        # The other way round: in a face, a pixel of the faces' skin colour is skin. The network under-calls small
        # faces (a group photo's), and the detector still finds them; and below a small face, its neck.
        raised = (in_faces | necks) & (distance <= settings.distance)
        out = np.where(raised, np.maximum(out, settings.raise_to), out)
        if len(boxes) > 1:
            _raise_each_face(photo_lab[..., 1:], prob, out, boxes, settings)
    out = out.astype(np.float32)
    if settings.hair_margin > 0:
        rounded = [(round(x), round(y), max(1, round(w)), max(1, round(h))) for x, y, w, h in boxes]
        out = hair_out(photo_lab, prob, out, rounded, settings.inner, settings.hair_margin)
    return out


def _draw_face_zone(zone: np.ndarray, box: tuple[float, float, float, float], small_below: float, ellipse: bool = True,
                    neck: bool = True, origin: tuple[int, int] = (0, 0)) -> None:
    """Set to 1 in uint8 `zone` (a window of the map whose [0, 0] is the map's pixel `origin`, row and column) the
    face's ellipse, the one inscribed in its box in map pixels (a face's own shape, which the box's corners, hair and
    background, are not), and, if the face is narrower than `small_below`, its neck zone."""
    x, y, w, h = box
    top, left = origin
    if ellipse:
        cv2.ellipse(zone, (round(x + w / 2) - left, round(y + h / 2) - top), (max(1, round(w / 2)), max(1, round(h / 2))),
                    0, 0, 360, 1, -1)
    if neck and w < small_below:
        rows = slice(max(0, int(y + h * NECK_ROWS[0]) - top), max(0, int(y + h * NECK_ROWS[1]) - top))
        zone[rows, max(0, int(x + w / 4) - left):max(0, int(x + w * 3 / 4) - left)] = 1


def _raise_each_face(ab: np.ndarray, prob: np.ndarray, out: np.ndarray, boxes: list[tuple[float, float, float, float]],
                     settings: FaceColourGate) -> None:
    """In place: in each face's own zone, pixels within `distance` of that face's own colour are raised too. With
    several faces of different skin tones the photo's one colour model lies between them, and a face far from it is
    found but not raised (a dark face in a light crowd; docs/adr/0025). The face's colour is sampled where the map is
    at least OWN_COLOUR_FLOOR in the middle of its box, and only if that is at least OWN_COLOUR_SHARE of it, so that a
    false face on a wall, which the network does not call skin, raises nothing."""
    height, width = prob.shape
    margin = (1.0 - settings.inner) / 2
    for x, y, w, h in boxes:
        top, left = max(0, int(y)), max(0, int(x))
        bottom, right = min(height, int(y + h * max(1.0, NECK_ROWS[1])) + 1), min(width, int(x + w) + 1)
        if bottom - top < 3 or right - left < 3:
            continue
        inner = np.zeros((bottom - top, right - left), bool)
        inner[int(y + h * margin) - top:int(y + h * (1 - margin)) - top,
              int(x + w * margin) - left:int(x + w * (1 - margin)) - left] = True
        window = (slice(top, bottom), slice(left, right))
        sampled = inner & (prob[window] >= OWN_COLOUR_FLOOR)
        if sampled.sum() < max(MIN_OWN_SAMPLES, OWN_COLOUR_SHARE * inner.sum()):
            continue
        near = gaussian_distance(ab[window], sampled, settings.regularisation) <= settings.distance
        zone_u8 = np.zeros(inner.shape, np.uint8)
        _draw_face_zone(zone_u8, (x, y, w, h), SMALL_FACE_SHARE * max(height, width), origin=(top, left))
        zone = zone_u8 > 0
        region = out[window]
        region[zone & near] = np.maximum(region[zone & near], settings.raise_to)


def bordered_by(removed: np.ndarray, kept: np.ndarray, share: float) -> np.ndarray:
    """The connected parts of boolean `removed` whose outline (the pixels just outside them, the photo's edge counting
    as not kept) is at least `share` `kept`: a lesion at the skin's edge, not a sweater below the neck."""
    removed_p = np.pad(removed, 1)
    kept_p = np.pad(kept, 1)
    count, labels = cv2.connectedComponents(removed_p.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(removed)
    # Each pixel next to a part takes that part's label (the largest label where two parts meet, which is rare).
    grown = cv2.dilate(labels.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int64)
    ring = (labels == 0) & (grown > 0)
    ring_all = np.bincount(grown[ring], minlength=count)
    ring_kept = np.bincount(grown[ring & kept_p], minlength=count)
    chosen = ring_kept >= share * np.maximum(ring_all, 1)
    chosen[0] = False
    return chosen[labels][1:-1, 1:-1]
