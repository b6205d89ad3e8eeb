"""The shipped model: loads by default, and beats both colour rules where the issue asks for it."""

from __future__ import annotations

import pytest

from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.paths import bundled_model_path, default_model_path
from skinseg_core.recipes import FACE_COLOUR_GATE, GUIDED_FILTER, PEOPLE_MIN_FACE_SHARE, dataset_splits
from skinseg_core.report import score_pairs
from skinseg_core.inference import Segmenter

pytestmark = pytest.mark.skipif(not bundled_model_path().exists(),
                                reason="models/skinseg-bundled.json is not committed yet")


def test_bundled_model_is_the_default_and_small(monkeypatch):
    monkeypatch.delenv("SKINSEG_MODEL", raising=False)
    assert default_model_path() == bundled_model_path()
    loaded = load_checkpoint(bundled_model_path())
    assert loaded.weights_path.stat().st_size <= 20 * 1024 * 1024
    assert loaded.info["training"]["recipe"] == "bundled"
    assert loaded.test_time_flip, "the bundled recipe ships a model that runs with the test-time flip (ADR 0008)"
    assert loaded.guided_filter == GUIDED_FILTER, "... and refines its map with the photo's colours (ADR 0014)"
    assert loaded.face_colour_gate == FACE_COLOUR_GATE, "... and damps colours unlike its faces' skin (ADR 0023)"
    # ... and has a network for photos of people of the same size, the two within the 20 MB (ADR 0028).
    assert loaded.people is not None and loaded.people_min_face_share == PEOPLE_MIN_FACE_SHARE
    assert loaded.weights_path.stat().st_size + loaded.people.weights_path.stat().st_size <= 20 * 1024 * 1024


@pytest.mark.needs_data
@pytest.mark.parametrize("set_name", ["clinical_fitz17k", "lfw_parts"])
def test_bundled_model_beats_both_colour_rules(shared_data, set_name):
    pairs = dataset_splits(shared_data)[set_name].test
    result = score_pairs(Segmenter(None, device="cpu"), pairs)
    model = result["methods"]["model"]["summary"]
    for rule in ("kovac-rgb", "chai-ngan-ycrcb"):
        baseline = result["methods"][rule]["summary"]
        for metric in ("jaccard", "background_jaccard"):
            assert model[metric]["mean"] > baseline[metric]["mean"], (set_name, rule, metric, model, baseline)
