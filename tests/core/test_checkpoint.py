"""Model files: round trip, and a clear message naming the file for every kind of damage. No pickle anywhere."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from skinseg_core.checkpoint import CheckpointMeta, load_checkpoint, read_checkpoint_info, save_checkpoint
from skinseg_core.errors import CheckpointError
from skinseg_core.preprocess import network_input

from .conftest import tiny_model


@pytest.mark.parametrize("arch", ["unet", "dense-res-unet"])
def test_round_trip_gives_identical_outputs(tmp_path, arch):
    model = tiny_model(arch).eval()
    path = save_checkpoint(model, tmp_path / "m.json", CheckpointMeta(name="m", metrics={"val": {"jaccard": 0.5}}))
    loaded = load_checkpoint(path)
    x = network_input(torch.rand(2, 3, 40, 36))
    with torch.inference_mode():
        assert torch.equal(model(x), loaded.model(x))
    info = loaded.info
    assert info["model"]["arch"] == arch
    assert info["input_size"] == 32
    assert info["normalisation"].startswith("rgb+hsv")
    assert len(info["weights_sha256"]) == 64
    assert info["metrics"]["val"]["jaccard"] == 0.5
    assert (tmp_path / "m.safetensors").exists()
    # Either file's path, or the stem, names the same model.
    assert load_checkpoint(tmp_path / "m.safetensors").info == info
    assert load_checkpoint(tmp_path / "m").info == info


def test_loading_never_unpickles(tmp_path, monkeypatch, tiny_checkpoint):
    def refuse(*args, **kwargs):
        raise AssertionError("a model file must never be unpickled")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    assert load_checkpoint(tiny_checkpoint).model is not None


def test_missing_config_names_the_file(tmp_path):
    with pytest.raises(CheckpointError, match=r"nothere\.json is missing"):
        load_checkpoint(tmp_path / "nothere.json")


def test_missing_weights(tiny_checkpoint):
    tiny_checkpoint.with_suffix(".safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"tiny\.safetensors are missing"):
        load_checkpoint(tiny_checkpoint)


def test_damaged_json(tiny_checkpoint):
    tiny_checkpoint.write_text("{ not json")
    with pytest.raises(CheckpointError, match=r"tiny\.json is damaged"):
        load_checkpoint(tiny_checkpoint)


def test_foreign_json(tiny_checkpoint):
    tiny_checkpoint.write_text(json.dumps({"hello": 1}))
    with pytest.raises(CheckpointError, match="not a SkinSeg model config"):
        read_checkpoint_info(tiny_checkpoint)


def test_truncated_weights_fail_the_checksum(tiny_checkpoint):
    weights = tiny_checkpoint.with_suffix(".safetensors")
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"tiny\.safetensors do not match the checksum"):
        load_checkpoint(tiny_checkpoint)


def test_truncated_weights_without_checksum_are_reported_damaged(tiny_checkpoint):
    weights = tiny_checkpoint.with_suffix(".safetensors")
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"tiny\.safetensors are damaged or truncated"):
        load_checkpoint(tiny_checkpoint, verify_checksum=False)


def test_empty_weights(tiny_checkpoint):
    tiny_checkpoint.with_suffix(".safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tiny_checkpoint)


def test_weights_of_another_architecture(tmp_path, tiny_checkpoint):
    other = save_checkpoint(tiny_model("unet"), tmp_path / "other.json")
    info = json.loads(tiny_checkpoint.read_text())
    info["weights_file"] = "../other.safetensors"
    info["weights_sha256"] = json.loads(other.read_text())["weights_sha256"]
    tiny_checkpoint.write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match="do not match the architecture"):
        load_checkpoint(tiny_checkpoint)


def test_config_with_an_impossible_network(tiny_checkpoint):
    info = json.loads(tiny_checkpoint.read_text())
    info["model"]["arch"] = "no-such-net"
    tiny_checkpoint.write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match="cannot build"):
        load_checkpoint(tiny_checkpoint)


@pytest.mark.parametrize("key", ["guided_filter", "face_colour_gate"])
def test_a_damaged_run_setting_says_what_to_do(tmp_path, key):
    """The settings a model file gives for running it (the guided filter, the face colour gate) are checked on load."""
    from skinseg_core.inference import Segmenter

    path = save_checkpoint(tiny_model(), tmp_path / "m.json", CheckpointMeta(name="m"))
    info = json.loads(path.read_text())
    info[key] = {"radius": "wide"}
    path.write_text(json.dumps(info))
    with pytest.raises(CheckpointError, match=f"damaged {key} entry.*Set it to null .* or to {{"):
        Segmenter(path, device="cpu")
