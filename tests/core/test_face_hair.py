"""Hair of the skin's hue beside a found face is not skin; a bald head, a shaded jaw and a lesion are (face_hair.py)."""

from __future__ import annotations

import numpy as np
import pytest

from skinseg_core.face_colour import FaceColourGate, gate_map
from skinseg_core.face_hair import NOT_SKIN
from skinseg_core.sidecar import ModelStamp

SKIN = (205, 150, 125)
BROWN = (95, 60, 35)  # hair of nearly the face's a*b* (a touch less red), far darker: the gate alone keeps it
SHADED = (140, 100, 82)  # the same skin in shade
LESION = (200, 60, 70)  # a red plaque at the hairline
WALL = (70, 90, 140)
FACE = (40, 40, 60, 70)  # x, y, w, h
HAIR_TOP = (slice(14, 40), slice(44, 96))  # above the face box, where the hair is sampled
HAIR_SIDE = (slice(30, 80), slice(32, 44))  # beside the face, joined to the top
JAW = (slice(112, 124), slice(50, 90))  # shaded skin below the face, not joined to the hair
PLAQUE = (slice(30, 38), slice(62, 72))


def _head(top=BROWN):
    """A face with hair on top and at one side, a shaded jaw and a red plaque at the hairline, all of which the
    network calls skin; a wall around."""
    rng = np.random.default_rng(1)
    rgb = np.empty((140, 140, 3), np.uint8)
    rgb[:] = WALL
    prob = np.full((140, 140), 0.1, np.float32)
    x, y, w, h = FACE
    for where, colour in (((slice(y, y + h), slice(x, x + w)), SKIN), (HAIR_TOP, top), (HAIR_SIDE, top),
                          (JAW, SHADED), (PLAQUE, LESION)):
        rgb[where] = colour
        prob[where] = 0.9
    return np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8), prob


def test_hair_of_the_faces_hue_is_not_skin_and_the_face_a_shaded_jaw_and_a_red_plaque_are():
    rgb, prob = _head()
    gated = gate_map(rgb, prob, [FACE], FaceColourGate())
    kept = gate_map(rgb, prob, [FACE], FaceColourGate(hair_margin=0))
    hair = np.zeros(prob.shape, bool)
    hair[HAIR_TOP] = hair[HAIR_SIDE] = True
    hair[PLAQUE] = False
    assert (kept[hair] >= 0.5).all(), "the gate alone keeps hair of the face's hue"
    beside = hair.copy()  # hair that touches the face's ellipse (grown 1.1) stays skin: a face's shaded side does
    beside[:35] = beside[:, :37] = False
    assert (gated[hair & ~beside] <= NOT_SKIN).mean() > 0.97
    # What the hair step leaves as the gate made it: a red plaque at the hairline (redder than the face), shaded skin
    # below the face (not joined to the hair above it) and the face.
    assert np.array_equal(gated[PLAQUE], kept[PLAQUE]) and (gated[PLAQUE] >= 0.5).all()
    assert np.array_equal(gated[JAW], kept[JAW])
    x, y, w, h = FACE
    assert (gated[y + 5:y + h - 5, x + 5:x + w - 5] >= 0.5).all()


def test_a_bald_head_gives_no_hair_model_and_stays_skin():
    rgb, prob = _head(top=SKIN)
    gated = gate_map(rgb, prob, [FACE], FaceColourGate())
    assert (gated[HAIR_TOP] >= 0.5).all() and (gated[HAIR_SIDE] >= 0.5).all()


def test_model_files_written_before_the_hair_step_get_the_measured_default():
    old = FaceColourGate().to_dict()
    del old["hair_margin"]
    assert FaceColourGate.from_dict(old) == FaceColourGate() and FaceColourGate().hair_margin == 1.0
    # Their cached maps carry the stamp of the settings the file runs with, the hair step included.
    stamp = ModelStamp.from_info({"name": "m", "face_colour_gate": old}).run
    assert stamp == ModelStamp.from_info({"name": "m", "face_colour_gate": FaceColourGate().to_dict()}).run
    assert stamp != ModelStamp.from_info({"name": "m", "face_colour_gate": {**old, "hair_margin": 0.0}}).run
    with pytest.raises(ValueError, match="out of range"):
        FaceColourGate(hair_margin=-1)


@pytest.mark.needs_data
def test_on_face_photos_the_hair_step_takes_far_more_hair_and_background_than_skin(shared_data):
    from dataclasses import replace

    from skinseg_core.imageio import read_mask, read_photo
    from skinseg_core.inference import Segmenter
    from skinseg_core.recipes import dataset_splits

    with_hair = Segmenter(None, device="cpu")
    assert with_hair.face_gate.hair_margin > 0, "the bundled model file turns the hair step on"
    without = Segmenter(None, device="cpu", face_gate=replace(with_hair.face_gate, hair_margin=0))
    skin_taken = other_taken = 0
    for pair in dataset_splits(shared_data)["lfw_parts"].test[:40]:
        photo = read_photo(pair.image)
        reference = read_mask(pair.mask, size=photo.full_size)
        taken = without.predict_photo(photo).mask(0.5) & ~with_hair.predict_photo(photo).mask(0.5)
        skin_taken += int((taken & reference).sum())
        other_taken += int((taken & ~reference).sum())
    assert other_taken > 5 * skin_taken and other_taken > 1000, (other_taken, skin_taken)
