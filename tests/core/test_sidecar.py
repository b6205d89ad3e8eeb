"""The sidecar folder: state and maps survive a reopen, stale maps are not used, photos are never touched."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from skinseg_core.probmap import ProbabilityMap
from skinseg_core.sidecar import NOT_SEGMENTED, SEGMENTED, ModelStamp, Sidecar


def test_round_trip_and_staleness(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"jpeg bytes")
    before = photo.read_bytes()
    model = ModelStamp("tiny", "abc")
    sidecar = Sidecar(tmp_path)
    assert sidecar.status(photo, model) == NOT_SEGMENTED
    prob = ProbabilityMap(small=np.full((4, 4), 0.7, np.float32), full_size=(8, 6))
    sidecar.write_map(photo, prob)
    sidecar.mark_segmented(photo, model, threshold=0.4)
    sidecar.save()

    reopened = Sidecar(tmp_path)
    assert reopened.status(photo, model) == SEGMENTED
    assert reopened.record(photo).threshold == 0.4
    assert reopened.read_map(photo).full_size == (8, 6)
    assert reopened.status(photo, ModelStamp("other", "def")) == NOT_SEGMENTED  # another model's map
    os.utime(photo, ns=(1, 1))
    assert reopened.status(photo, model) == NOT_SEGMENTED  # the photo changed since
    assert photo.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".skinseg", "a.jpg"]


def test_damaged_state_is_ignored(tmp_path: Path) -> None:
    (tmp_path / ".skinseg").mkdir()
    (tmp_path / ".skinseg" / "state.json").write_text("{broken", encoding="utf-8")
    assert Sidecar(tmp_path).records == {}


def test_a_map_made_before_the_model_file_gained_a_guided_filter_is_made_again(tmp_path: Path) -> None:
    photo = tmp_path / "a.jpg"
    photo.write_bytes(b"jpeg bytes")
    info = {"name": "bundled", "weights_sha256": "abc", "test_time_flip": True}
    before = ModelStamp.from_info(info)
    after = ModelStamp.from_info({**info, "guided_filter": {"scale": 0.15, "min_radius": 2.0, "max_radius": 16.0,
                                                            "eps": 0.001}})
    assert before.sha256 == after.sha256 and before.run != after.run  # same weights, run differently
    sidecar = Sidecar(tmp_path)
    sidecar.write_map(photo, ProbabilityMap(small=np.full((4, 4), 0.7, np.float32), full_size=(8, 6)))
    sidecar.mark_segmented(photo, before)
    sidecar.save()
    reopened = Sidecar(tmp_path)
    assert reopened.status(photo, before) == SEGMENTED
    assert reopened.status(photo, after) == NOT_SEGMENTED
    # A state file written before stamps had a `run` is stale for every model that states how it runs.
    reopened.record(photo).model.pop("run")
    assert reopened.status(photo, before) == NOT_SEGMENTED
