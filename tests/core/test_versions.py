"""Model versions in the user data folder: add, activate, roll back, damaged folders, the default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skinseg_core import paths, versions
from skinseg_core.errors import CheckpointError
from skinseg_core.inference import resolve_model_path


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_checkpoint: Path) -> Path:
    monkeypatch.setenv("SKINSEG_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.delenv("SKINSEG_MODEL", raising=False)
    monkeypatch.setattr(paths, "bundled_model_path", lambda: tiny_checkpoint)
    return tmp_path / "user-data"


def test_no_versions_means_the_bundled_model(data_dir: Path, tiny_checkpoint: Path) -> None:
    found, problems = versions.list_versions()
    assert [v.id for v in found] == [versions.BUNDLED] and problems == []
    assert versions.active_version().bundled
    assert paths.default_model_path() == tiny_checkpoint


def test_add_activate_and_roll_back(data_dir: Path, tiny_checkpoint: Path) -> None:
    first = versions.add_version(tiny_checkpoint, {"parent": "tiny", "photos": ["a.jpg"], "metrics": {"j": 0.5}})
    second = versions.add_version(first.path, {"parent": first.id, "photos": ["a.jpg", "b.jpg"]})
    assert first.id.startswith("v001-") and second.id.startswith("v002-")
    card = json.loads((first.path.parent / "card.json").read_text())
    assert card["parent"] == "tiny" and card["photos"] == ["a.jpg"] and card["metrics"] == {"j": 0.5}
    assert card["created"]
    assert versions.active_version().bundled  # adding does not activate

    versions.activate(second.id)
    assert versions.active_version().id == second.id
    assert paths.default_model_path() == second.path
    assert resolve_model_path(None) == second.path
    versions.activate(first.id)
    assert paths.default_model_path() == first.path
    versions.restore_bundled()
    assert versions.active_version().bundled
    assert paths.default_model_path() == tiny_checkpoint
    assert [v.id for v in versions.list_versions()[0]] == [versions.BUNDLED, first.id, second.id]
    assert not list((data_dir / "models").glob(".*tmp*"))


def test_a_damaged_version_is_reported_and_skipped(data_dir: Path, tiny_checkpoint: Path) -> None:
    good = versions.add_version(tiny_checkpoint, {"parent": "tiny"})
    bad = versions.add_version(tiny_checkpoint, {"parent": "tiny"})
    versions.activate(bad.id)
    weights = bad.path.parent / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])  # truncated
    found, problems = versions.list_versions()
    assert [v.id for v in found] == [versions.BUNDLED, good.id]
    assert len(problems) == 1 and bad.id in problems[0].message and "damaged" in problems[0].message
    # The pointer names the damaged version: the bundled model is used instead, and activating it says why not.
    assert versions.active_version().bundled
    with pytest.raises(CheckpointError, match="damaged"):
        versions.activate(bad.id)
    with pytest.raises(CheckpointError, match="no model version"):
        versions.activate("v999-nothing")


def test_a_damaged_pointer_falls_back_to_the_bundled_model(data_dir: Path, tiny_checkpoint: Path) -> None:
    (data_dir / "models").mkdir(parents=True)
    (data_dir / "models" / "active.json").write_text("{not json")
    assert versions.active_version().bundled
    assert paths.default_model_path() == tiny_checkpoint
