"""The face colour gate: colours far from the skin in a photo's faces are damped, the rest is kept (face_colour.py)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from skinseg_core import faces
from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.errors import CheckpointError
from skinseg_core.face_colour import FaceColourGate, bordered_by, gate_map
from skinseg_core.faces import detect_faces
from skinseg_core.imageio import read_mask, read_photo
from skinseg_core.inference import Segmenter
from skinseg_core.metrics import confusion, jaccard
from skinseg_core.recipes import FACE_COLOUR_GATE, dataset_splits
from skinseg_core.sidecar import ModelStamp
from tests.model_files import gating_copy

SKIN = (205, 150, 125)
JACKET = (200, 60, 40)  # red-orange cloth: the colour rules and the network call such things skin
LESION = (110, 40, 90)  # a dark purple tumour
WALL = (70, 90, 140)
FACE = (20, 20, 40, 50)  # x, y, w, h


def _scene(height=120, width=160):
    """A face and a hand of the same skin, a red jacket, a purple lesion on the hand, and the network's map, which
    calls all four skin."""
    rng = np.random.default_rng(0)
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:] = WALL
    prob = np.full((height, width), 0.1, np.float32)
    x, y, w, h = FACE
    regions = {"face": (slice(y, y + h), slice(x, x + w)), "hand": (slice(30, 90), slice(90, 140)),
               "jacket": (slice(80, 115), slice(10, 70)), "lesion": (slice(50, 65), slice(105, 120))}
    for name, colour in (("face", SKIN), ("hand", SKIN), ("jacket", JACKET), ("lesion", LESION)):
        rgb[regions[name]] = colour
        prob[regions[name]] = 0.9
    rgb = np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)
    return rgb, prob, regions


def test_the_gate_damps_clothing_unlike_the_face_and_keeps_skin_and_an_enclosed_lesion():
    rgb, prob, regions = _scene()
    gated = gate_map(rgb, prob, [FACE], FaceColourGate())
    assert gated.shape == prob.shape and gated.dtype == np.float32
    assert (gated[regions["face"]] >= 0.5).all() and (gated[regions["hand"]] >= 0.5).all()
    assert (gated[regions["jacket"]] < 0.05).all(), "red cloth is far from the face's colour"
    assert np.array_equal(gated[regions["lesion"]], prob[regions["lesion"]]), "diseased skin inside skin stays skin"
    outside_face = np.ones(prob.shape, bool)
    outside_face[regions["face"]] = False
    assert (gated[outside_face] <= prob[outside_face] + 1e-6).all(), "outside faces the gate only takes skin away"


def test_a_lesion_at_the_skins_edge_is_given_back_and_a_scarf_beside_the_skin_is_not():
    rgb, prob, regions = _scene()
    rgb[80:90, 105:120] = LESION  # a notch in the hand's lower edge: skin on three sides
    prob[80:90, 105:120] = 0.9
    rgb[30:90, 140:155] = JACKET  # a red scarf along the hand's other side: skin on one side only
    prob[30:90, 140:155] = 0.9
    gated = gate_map(rgb, prob, [FACE], FaceColourGate())
    assert (gated[80:90, 105:120] >= 0.5).all()
    assert (gated[30:90, 142:155] < 0.05).all()


def test_bordered_by_counts_the_photos_edge_as_not_kept():
    kept = np.zeros((10, 10), bool)
    kept[:, :6] = True
    removed = np.zeros((10, 10), bool)
    removed[4:6, 6:8] = True  # outline: 2 kept pixels of 12 (plus corners)
    assert not bordered_by(removed, kept, 0.6).any()
    removed[:] = False
    removed[4:6, 3:5] = True  # inside the kept part: enclosed by it
    kept[4:6, 3:5] = False
    assert np.array_equal(bordered_by(removed, kept, 0.6), removed)
    edge = np.zeros((10, 10), bool)
    edge[0:2, 0:2] = True  # a corner part: 7 of the 12 pixels around it are off the photo, 5 kept
    kept2 = ~edge
    assert not bordered_by(edge, kept2, 0.6).any() and np.array_equal(bordered_by(edge, kept2, 0.4), edge)


def test_skin_coloured_pixels_a_face_the_network_under_calls_are_raised_to_skin_but_not_outside_faces():
    rgb, prob, regions = _scene()
    x, y, w, h = FACE
    prob[y + h // 2:y + h, x:x + w] = 0.3  # the network missed the face's lower half (as it does small faces)
    prob[regions["hand"]] = 0.3  # ... and the hand, outside any face
    gated = gate_map(rgb, prob, [FACE], FaceColourGate())
    lower = gated[y + h // 2:y + h - 6, x + 12:x + w - 12]  # inside the face's ellipse
    assert (lower >= 0.75).mean() > 0.95  # all but the Gaussian's tail of the noise
    assert (gated[regions["hand"]] <= prob[regions["hand"]] + 1e-6).all()  # not raised: no face there
    off = gate_map(rgb, prob, [FACE], FaceColourGate(raise_to=0.0))
    assert (off[y + h // 2:y + h, x:x + w] < 0.5).all()


def test_without_a_face_or_enough_skin_in_it_the_map_is_kept():
    rgb, prob, _ = _scene()
    assert gate_map(rgb, prob, [], FaceColourGate()) is prob
    assert gate_map(rgb, prob, [(0, 0, 8, 8)], FaceColourGate()) is prob  # a face box on the wall: no skin there


def test_a_square_network_map_of_an_oblong_photo_is_gated_in_its_own_geometry():
    rgb, prob, regions = _scene()
    square = np.array(Image.fromarray(prob).resize((56, 56), Image.NEAREST))
    gated = gate_map(rgb, square, [FACE], FaceColourGate())
    assert gated.shape == (56, 56)
    assert gated[int(100 / 120 * 56), int(40 / 160 * 56)] < 0.05  # the jacket
    assert gated[int(45 / 120 * 56), int(40 / 160 * 56)] >= 0.5  # the face


def test_settings_round_trip_and_must_make_sense():
    assert FaceColourGate.from_dict(FACE_COLOUR_GATE.to_dict()) == FACE_COLOUR_GATE
    with pytest.raises(ValueError, match="out of range"):
        FaceColourGate(distance=0)
    with pytest.raises(ValueError, match="out of range"):
        FaceColourGate(inner=1.5)
    with pytest.raises(ValueError, match="out of range"):
        FaceColourGate(raise_to=1.5)


def test_a_model_file_that_asks_for_the_gate_gets_it_and_says_so(tmp_path, tiny_checkpoint):
    gating = gating_copy(tiny_checkpoint, tmp_path / "gating.json")
    assert load_checkpoint(gating).face_colour_gate == FaceColourGate()
    assert load_checkpoint(tiny_checkpoint).face_colour_gate is None
    assert "face colour" in Segmenter(gating, device="cpu").device_description
    assert Segmenter(gating, device="cpu", face_gate=False).face_gate is None
    assert "face colour" not in Segmenter(tiny_checkpoint, device="cpu").device_description
    assert Segmenter(tiny_checkpoint, device="cpu", face_gate=True).face_gate == FaceColourGate()


def test_a_model_file_gaining_the_gate_makes_its_cached_maps_again(tmp_path, tiny_checkpoint):
    before = load_checkpoint(tiny_checkpoint).info
    after = load_checkpoint(gating_copy(tiny_checkpoint, tmp_path / "gating.json")).info
    assert ModelStamp.from_info({**before, "face_colour_gate": None}).run == \
        ModelStamp.from_info({k: v for k, v in before.items() if k != "face_colour_gate"}).run
    assert ModelStamp.from_info(after).run != ModelStamp.from_info(before).run


def test_a_missing_face_detector_file_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(faces, "cascade_path", lambda name=faces.CASCADE_FILE: tmp_path / "gone.xml")
    monkeypatch.setattr(faces, "_local", threading.local())  # no detector loaded yet in this thread
    with pytest.raises(CheckpointError, match="face detector file .*gone.xml.*Reinstall.*--no-face-gate"):
        detect_faces(np.zeros((40, 40, 3), np.uint8))


def test_no_face_is_found_in_a_plain_picture():
    rgb, _, _ = _scene()
    assert detect_faces(rgb) == []


@pytest.mark.needs_data
def test_faces_are_found_in_face_photos_and_not_in_clinical_close_ups(shared_data):
    splits = dataset_splits(shared_data)
    lfw = splits["lfw_parts"].test[:20]
    found = 0
    for pair in lfw:
        photo = read_photo(pair.image)
        boxes = detect_faces(photo.rgb)
        if boxes:
            x, y, w, h = boxes[0]
            skin = read_mask(pair.mask, size=photo.full_size)
            found += skin[y + h // 4:y + 3 * h // 4, x + w // 4:x + 3 * w // 4].mean() > 0.5  # on the face's skin
    assert found >= 18
    for pair in splits["clinical_fitz17k"].test:
        assert detect_faces(read_photo(pair.image).rgb) == [], pair.image.name


@pytest.mark.needs_data
def test_predict_on_a_web_photo_uses_the_gate_unless_told_not_to(shared_data, tmp_path, capsys):
    from skinseg_core.cli import main

    pairs = dataset_splits(shared_data)["ecu_subset"].test
    masks = {}
    for flags in ([], ["--no-face-gate"]):
        out = tmp_path / ("default" if not flags else "off")
        assert main(["predict", *(str(p.image) for p in pairs), "--out", str(out), "-q", "--device", "cpu",
                     *flags]) == 0
        said = capsys.readouterr().err
        assert ("face colour" in said) == (not flags), said
        masks[out.name] = [np.array(Image.open(out / f"{p.image.stem}.png")) > 0 for p in pairs]
    scores = {name: np.mean([jaccard(confusion(m, read_mask(p.mask, size=(m.shape[1], m.shape[0]))))
                             for m, p in zip(found, pairs)]) for name, found in masks.items()}
    assert scores["default"] > scores["off"] + 0.05, scores


@pytest.mark.needs_data
def test_the_lesion_benchmark_scores_gate_settings_it_is_given(shared_data, tmp_path, monkeypatch, capsys):
    import json
    import runpy
    from pathlib import Path

    script = runpy.run_path(str(Path(__file__).parents[2] / "benchmarks" / "lesions_on_faces.py"))
    out = tmp_path / "lesions.json"
    monkeypatch.setattr("sys.argv", ["lesions_on_faces.py", "--data-root", str(shared_data), "--photos", "3",
                                     "--gate", "give_back_share=1", "--gate", "raise_to=0", "--out", str(out)])
    assert script["main"]() == 0
    result = json.loads(out.read_text())
    assert set(result) == {"gate", "no gate"} and all(row["photos"] == 3 for row in result.values())
    assert all(0 <= row["lesion_px_called_skin_mean"] <= 1 for row in result.values())
    assert "| gate |" in capsys.readouterr().out
    monkeypatch.setattr("sys.argv", ["lesions_on_faces.py", "--data-root", str(shared_data), "--gate", "hair=1"])
    with pytest.raises(SystemExit):
        script["main"]()
    assert "no setting 'hair'; it has distance, softness" in capsys.readouterr().err
