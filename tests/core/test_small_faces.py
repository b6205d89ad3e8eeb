"""The face search's second pass: faces too small for the first, looked for on a larger decode of the photo, only
around small parts of the network's skin (faces.detect_small_faces, docs/adr/0025)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from skinseg_core import faces
from skinseg_core.face_colour import FaceColourGate
from skinseg_core.faces import DETECT_LONG_SIDE, MIN_FACE_PX, SMALL_FACE_LONG_SIDE, detect_small_faces
from skinseg_core.group_pictures import tile_pairs
from skinseg_core.imageio import read_mask, read_photo
from skinseg_core.inference import Segmenter
from skinseg_core.metrics import confusion, jaccard
from skinseg_core.recipes import dataset_splits
from tests.model_files import gating_copy


class _RecordingCascade:
    """Stands in for the Haar cascade: records where and at which sizes it was asked to look, finds one face in the
    middle of each place."""

    def __init__(self) -> None:
        self.searches: list[tuple[tuple[int, int], tuple[int, int]]] = []

    def detectMultiScale(self, grey, scaleFactor, minNeighbors, minSize, maxSize=None):  # noqa: N802 (OpenCV's name)
        self.searches.append((grey.shape, maxSize))
        h, w = grey.shape
        return np.array([[w // 2 - 10, h // 2 - 10, 20, 20]])


@pytest.fixture
def cascade(monkeypatch) -> _RecordingCascade:
    recording = _RecordingCascade()
    monkeypatch.setattr(faces, "_cascade", lambda name=faces.CASCADE_FILE: recording)
    return recording


def _photo(height=600, width=800):
    return np.full((height, width, 3), 128, np.uint8)


def test_a_close_up_full_of_skin_is_not_searched_again(cascade):
    skin_map = np.full((336, 448), 0.9, np.float32)
    assert detect_small_faces(_photo(), skin_map, []) == []
    assert cascade.searches == []


def test_small_skin_parts_are_searched_at_the_sizes_the_first_pass_cannot_find(cascade):
    skin_map = np.zeros((300, 400), np.float32)
    skin_map[40:52, 50:60] = 0.9  # a small face's skin
    skin_map[200:214, 300:310] = 0.4  # an under-called one: still looked at
    skin_map[100:290, 100:250] = 0.9  # a large part (a body, a close-up): not
    skin_map[20:24, 300:304] = 0.9  # a speck shorter than the smallest face the search can find (10 map px): not
    found = detect_small_faces(_photo(), skin_map, [])
    assert len(cascade.searches) == 2
    largest = int(np.ceil(faces.FIRST_PASS_MIN_FACE_PX * SMALL_FACE_LONG_SIDE / DETECT_LONG_SIDE * faces.SCALE_STEP))
    for shape, max_size in cascade.searches:
        assert max_size == (largest, largest)
        assert max(shape) <= 3 * 14 * 2 + 4  # each part (at most 14 map px) grown by its own size, at 800 px
    # The faces come back in the photo's pixels (the photo is 800 px: searched at its own size), near their parts.
    centres = sorted((x + w / 2, y + h / 2) for x, y, w, h in found)
    assert len(centres) == 2
    assert abs(centres[0][0] - 55 * 2) < 12 and abs(centres[0][1] - 46 * 2) < 12
    assert abs(centres[1][0] - 305 * 2) < 12 and abs(centres[1][1] - 207 * 2) < 12


def test_parts_a_found_face_covers_and_photos_without_more_detail_are_not_searched(cascade):
    skin_map = np.zeros((300, 400), np.float32)
    skin_map[40:52, 50:60] = 0.9
    assert detect_small_faces(_photo(), skin_map, [(90, 70, 40, 40)]) == []  # the part lies in that face's box
    assert detect_small_faces(_photo(480, 500), skin_map, []) == []  # the first pass saw all the photo has
    assert cascade.searches == []


def test_the_setting_round_trips_old_files_get_it_and_it_must_exceed_the_first_search():
    gate = FaceColourGate()
    assert gate.small_face_long_side == SMALL_FACE_LONG_SIDE and gate.read_long_side == SMALL_FACE_LONG_SIDE
    old = {k: v for k, v in gate.to_dict().items() if k != "small_face_long_side"}
    assert FaceColourGate.from_dict(old) == gate
    assert FaceColourGate(small_face_long_side=0).read_long_side == DETECT_LONG_SIDE
    with pytest.raises(ValueError, match="out of range"):
        FaceColourGate(small_face_long_side=DETECT_LONG_SIDE)


def test_a_gating_model_decodes_photos_large_enough_for_the_second_pass(tmp_path, tiny_checkpoint):
    photo = tmp_path / "big.jpg"
    Image.fromarray(np.full((1500, 2000, 3), 150, np.uint8)).save(photo, quality=90)
    gating = Segmenter(gating_copy(tiny_checkpoint, tmp_path / "gating.json"), device="cpu")
    plain = Segmenter(tiny_checkpoint, device="cpu")
    assert max(gating.read(photo).rgb.shape) == SMALL_FACE_LONG_SIDE
    assert max(plain.read(photo).rgb.shape) == plain.refine_long_side < SMALL_FACE_LONG_SIDE
    gating.face_gate = replace(gating.face_gate, small_face_long_side=0)
    assert max(gating.read(photo).rgb.shape) == max(gating.refine_long_side, DETECT_LONG_SIDE)


@pytest.mark.needs_data
def test_a_crowd_of_small_faces_is_found_and_its_skin_called_as_in_a_single_portrait(shared_data, tmp_path, capsys):
    """256 LFW test photos in one 1280 px picture: faces about 30 px wide, as in a group photo. The first search
    finds almost none of them (measured 1); with the second the gate finds most (238) and the skin Jaccard rises
    (0.09 -> 0.60)."""
    from skinseg_core.cli import main

    pairs = tile_pairs(dataset_splits(shared_data)["lfw_parts"].test[:256], 16, tmp_path / "crowd", cell=80)
    picture, mask = pairs[0].image, pairs[0].mask
    segmenter = Segmenter(None, device="cpu")
    photo = segmenter.read(picture)
    prob = Segmenter(None, device="cpu", face_gate=False).compact_probabilities(photo.rgb)  # the map the gate is given
    first_only = segmenter.face_gate.first_faces(photo.rgb)
    both = segmenter.face_gate.faces(photo.rgb, prob)
    assert len(first_only) < 20 and len(both) > 150, (len(first_only), len(both))
    assert all(w < 2 * MIN_FACE_PX * 1280 / DETECT_LONG_SIDE for _, _, w, _ in both[len(first_only):])

    assert main(["predict", str(picture), "--out", str(tmp_path / "out"), "-q", "--device", "cpu"]) == 0
    capsys.readouterr()
    reference = read_mask(mask)
    called = np.array(Image.open(tmp_path / "out" / f"{picture.stem}.png")) > 0
    segmenter.face_gate = replace(segmenter.face_gate, small_face_long_side=0)
    without = segmenter.predict(picture).mask(0.5)
    with_pass, without_pass = jaccard(confusion(called, reference)), jaccard(confusion(without, reference))
    assert with_pass > without_pass + 0.2, (with_pass, without_pass)


@pytest.mark.needs_data
def test_clinical_close_ups_find_no_small_faces(shared_data):
    segmenter, ungated = Segmenter(None, device="cpu"), Segmenter(None, device="cpu", face_gate=False)
    for pair in dataset_splits(shared_data)["clinical_fitz17k"].test:
        photo = read_photo(pair.image, min_long_side=segmenter.read_long_side)
        prob = ungated.compact_probabilities(photo.rgb)
        assert segmenter.face_gate.faces(photo.rgb, prob) == [], pair.image.name


def _face_and_neck(face_w: int, size: int = 400):
    """A face of width face_w and its neck below, both of one skin colour on a blue wall; the network's map calls the
    face skin and the neck not (as it does in a crowd)."""
    rng = np.random.default_rng(1)
    rgb = np.empty((size, size, 3), np.uint8)
    rgb[:] = (70, 90, 140)
    prob = np.full((size, size), 0.1, np.float32)
    x, y, w, h = 100, 60, face_w, round(face_w * 1.25)
    rgb[y:y + h, x:x + w] = (205, 150, 125)
    prob[y:y + h, x:x + w] = 0.9
    neck = (slice(y + h, y + h + h // 3), slice(x + w * 3 // 8, x + w * 5 // 8))
    rgb[neck] = (200, 148, 122)
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, prob, (x, y, w, h), neck


def test_below_a_small_face_its_neck_of_the_faces_colour_is_raised_to_skin_and_below_a_large_one_not():
    from skinseg_core.face_colour import SMALL_FACE_SHARE, gate_map

    gate = FaceColourGate(hair_margin=0)
    small_w = int(SMALL_FACE_SHARE * 400) - 4
    rgb, prob, face, neck = _face_and_neck(small_w)
    assert (gate_map(rgb, prob, [face], gate)[neck] >= gate.raise_to).mean() > 0.9  # measured 0.97 (pixel noise)
    rgb, prob, face, neck = _face_and_neck(4 * small_w)
    assert (gate_map(rgb, prob, [face], gate)[neck] >= 0.5).mean() < 0.05  # measured 0.01: the ellipse's last row


def test_in_a_group_each_face_of_its_own_tone_is_raised_and_a_false_face_on_a_wall_is_not():
    """A light face the network calls skin, a dark one it under-calls (0.35) and a 'face' the detector finds on a wall:
    the photo's colour model is the light face's, so only each face's own colour raises the dark one."""
    from skinseg_core.face_colour import gate_map

    rng = np.random.default_rng(2)
    rgb = np.empty((200, 300, 3), np.uint8)
    rgb[:] = (70, 90, 140)
    prob = np.full((200, 300), 0.1, np.float32)
    light, dark, wall = (20, 40, 50, 60), (120, 40, 50, 60), (220, 40, 50, 60)
    for (x, y, w, h), colour, p in ((light, (225, 175, 150), 0.9), (dark, (95, 60, 45), 0.35),
                                    (wall, (150, 120, 60), 0.1)):
        rgb[y:y + h, x:x + w] = colour
        prob[y:y + h, x:x + w] = p
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    gated = gate_map(rgb, prob, [light, dark, wall], FaceColourGate(hair_margin=0))
    middle = lambda box: gated[box[1] + box[3] // 3:box[1] + 2 * box[3] // 3, box[0] + box[2] // 3:box[0] + 2 * box[2] // 3]  # noqa: E731
    assert middle(light).min() >= 0.75
    assert (middle(dark) >= 0.75).mean() > 0.9
    assert middle(wall).max() < 0.5
    # One face alone is the photo's own colour model: no second look (here it is too under-called to sample at all).
    assert np.array_equal(gate_map(rgb, prob, [dark], FaceColourGate(hair_margin=0)), prob)
