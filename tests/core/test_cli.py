"""The `skinseg` command end to end on real photos (shared data) and on bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skinseg_core.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from skinseg_core.cli import main
from tests.model_files import flipping_copy, people_copy, refining_copy

from .conftest import tiny_model

REPO = Path(__file__).resolve().parents[2]
TINY_ARGS = ["--widths", "4,8,12", "--fc-dim", "8", "--fc-grid", "2", "--input-size", "32"]


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a network connection fails the test: clinical photos must never leave the machine."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_models_json_lists_the_papers_presets(capsys):
    assert main(["models", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    for name, paper in {"unet": 7.5e6, "unet-large": 150e6, "dense-res-unet": 149.9e6}.items():
        row = rows[name]
        assert abs(row["params"] - paper) / paper < 0.10, (name, row["params"])
        assert 0 < row["gflops_128"] < row["gflops_256"]
        assert set(row) >= {"name", "params", "gflops_128", "gflops_256"}


@pytest.mark.needs_data
def test_predict_writes_a_mask_per_photo_at_its_size(real_clinical, tiny_checkpoint, tmp_path, capsys, no_network):
    before = {p: p.read_bytes() for p in (real_clinical / "images").iterdir()}
    out = tmp_path / "out"
    code = main(["predict", str(real_clinical / "images"), "--out", str(out), "--model", str(tiny_checkpoint),
                 "--probabilities", "--device", "cpu", "-q"])
    assert code == 0
    for photo in before:
        with Image.open(photo) as original:
            size = original.size
        mask = np.array(Image.open(out / f"{photo.stem}.png"))
        assert mask.shape == (size[1], size[0])
        assert set(np.unique(mask)) <= {0, 255}
        assert np.array(Image.open(out / f"{photo.stem}_prob.png")).shape == mask.shape
    assert {p: p.read_bytes() for p in before} == before  # originals untouched
    assert "6 of 6 photos segmented" in capsys.readouterr().err


def test_predict_follows_the_models_flip_unless_told_not_to(tmp_path, tiny_checkpoint):
    photo = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (40, 64, 3), dtype=np.uint8)).save(photo)
    flipping = flipping_copy(tiny_checkpoint, tmp_path / "flip.json")

    def probabilities(model, *flags):
        out = tmp_path / f"out-{model.stem}-{len(flags)}"
        assert main(["predict", str(photo), "--out", str(out), "--model", str(model), "--probabilities", "-q",
                     *flags]) == 0
        return np.array(Image.open(out / "p_prob.png"))

    by_default = probabilities(flipping)
    assert np.array_equal(by_default, probabilities(tiny_checkpoint, "--tta"))
    assert not np.array_equal(by_default, probabilities(flipping, "--no-tta"))
    assert np.array_equal(probabilities(flipping, "--no-tta"), probabilities(tiny_checkpoint))


def test_predict_follows_the_models_guided_filter_unless_told_not_to(tmp_path, capsys):
    photo = tmp_path / "p.png"
    rgb = np.full((60, 80, 3), (60, 70, 150), np.uint8)
    rgb[:, :40] = (205, 150, 125)  # skin beside blue cloth: an edge for the filter to follow
    Image.fromarray(rgb).save(photo)
    # A random tiny network maps every photo to about 0.5, which leaves the filter next to nothing to move; its last
    # layer made 20 x steeper, its map varies enough for the filter's effect to show whatever the draw.
    torch.manual_seed(0)
    network = tiny_model()
    with torch.no_grad():
        network.merge_residual.conv.weight.mul_(20.0)
    tiny_checkpoint = save_checkpoint(network, tmp_path / "models" / "tiny.json", CheckpointMeta(name="tiny"))
    refining = refining_copy(tiny_checkpoint, tmp_path / "refining.json")

    def probabilities(model, *flags):
        out = tmp_path / f"out-{model.stem}-{'-'.join(flags)}"
        assert main(["predict", str(photo), "--out", str(out), "--model", str(model), "--probabilities", *flags]) == 0
        return np.array(Image.open(out / "p_prob.png")).astype(int)

    by_default = probabilities(refining)
    assert "edges refined" in capsys.readouterr().err
    assert np.array_equal(by_default, probabilities(tiny_checkpoint, "--refine"))
    plain = probabilities(refining, "--no-refine")
    assert np.array_equal(plain, probabilities(tiny_checkpoint)) and np.abs(by_default - plain).max() > 2


def test_predict_runs_the_network_it_is_told_to(tmp_path, tiny_checkpoint, capsys):
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((60, 80, 3), (120, 110, 100), np.uint8)).save(photo)  # no face in it
    model = people_copy(tiny_checkpoint, tmp_path / "people" / "tiny.json")  # its network for people: all skin

    def probabilities(*flags):
        out = tmp_path / f"out{'-'.join(flags)}"
        assert main(["predict", str(photo), "--out", str(out), "--model", str(model), "--probabilities", *flags]) == 0
        return np.array(Image.open(out / "p_prob.png"))

    # No face: the first network runs (a random tiny one: about 0.5 everywhere).
    assert probabilities().min() < 250 and "network for people" not in capsys.readouterr().err
    assert probabilities("--network", "people").min() == 255
    assert "network for people" in capsys.readouterr().err  # the summary line says which ran
    assert np.array_equal(probabilities("--network", "clinical"), probabilities())
    with pytest.raises(SystemExit):
        main(["predict", str(photo), "--out", str(tmp_path / "x"), "--network", "faces"])
    assert "invalid choice: 'faces'" in capsys.readouterr().err


def test_predict_reports_bad_files_and_goes_on(tmp_path, tiny_checkpoint, capsys):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((20, 30, 3), 200, np.uint8)).save(good)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (tmp_path / "empty.png").write_bytes(b"")
    code = main(["predict", str(good), str(tmp_path / "broken.jpg"), str(tmp_path / "empty.png"),
                 "--out", str(tmp_path / "out"), "--model", str(tiny_checkpoint), "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert "broken.jpg" in err and "empty.png" in err and "Traceback" not in err
    assert (tmp_path / "out" / "good.png").exists()
    assert "1 of 3 photos segmented" in err


def test_missing_model_is_one_clear_line(tmp_path, capsys):
    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(photo)
    code = main(["predict", str(photo), "--out", str(tmp_path / "o"), "--model", str(tmp_path / "nope.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "nope.json is missing" in err


def test_console_script_prints_no_traceback(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"garbage")
    env = {**os.environ, "SKINSEG_MODEL": str(tmp_path / "absent.json")}
    done = subprocess.run([sys.executable, "-m", "skinseg_core", "predict", str(tmp_path / "bad.png"),
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "absent.json" in done.stderr


@pytest.mark.parametrize("command", ["predict", "evaluate", "train", "finetune", "experiment", "models", "benchmark"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: skinseg " + command in capsys.readouterr().out


@pytest.mark.needs_data
def test_train_evaluate_finetune_on_real_photos(real_faces, real_clinical, tmp_path, capsys, no_network):
    run = tmp_path / "run"
    assert main(["train", "--data", str(real_faces), "--out", str(run), "--model", "dense-res-unet", *TINY_ARGS,
                 "--epochs", "2", "--batch-size", "4", "--device", "cpu"]) == 0
    best = run / "best.json"
    assert load_checkpoint(best).info["training"]["epoch"] in (1, 2)
    capsys.readouterr()

    assert main(["evaluate", "--images", str(real_clinical / "images"), "--masks", str(real_clinical / "masks"),
                 "--model", str(best), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 6 and len(result["per_image"]) == 6
    assert 0.0 <= result["summary"]["jaccard"]["mean"] <= 1.0
    assert result["summary"]["dice"]["mean"] >= result["summary"]["jaccard"]["mean"]

    # Fine-tune a copy that runs with the test-time flip, as the bundled model does: the result must run with it too.
    flipping = flipping_copy(best, tmp_path / "flipping.json")
    tuned = tmp_path / "tuned.json"
    assert main(["finetune", "--images", str(real_clinical / "images"), "--masks", str(real_clinical / "masks"),
                 "--from", str(flipping), "--out", str(tuned), "--epochs", "2", "--batch-size", "2"]) == 0
    assert load_checkpoint(tuned).test_time_flip
    info = load_checkpoint(tuned).info
    assert info["parent"] == load_checkpoint(best).name
    assert info["training"]["settings"]["learning_rate"] == 0.001
    assert info["training"]["val_photos"] == 2


@pytest.mark.needs_data
def test_experiment_writes_table1(real_faces, real_clinical, tmp_path, capsys):
    out = tmp_path / "exp"
    assert main(["experiment", "--arch", "unet", "--arch", "dense-res-unet", "--pretrain", str(real_faces),
                 "--clinical", str(real_clinical), "--out", str(out), "--folds", "3", "--pretrain-epochs", "1",
                 "--clinical-epochs", "1", "--batch-size", "4", "--optimizer", "adamw", "--lr", "0.002",
                 "--lr-schedule", "cosine", "--bce-weight", "0.5", "--desktop-size", *TINY_ARGS,
                 "--device", "cpu"]) == 0
    table = json.loads((out / "table1.json").read_text())
    for scenario, rate in (("direct_training", 0.002), ("fine_tuning", 0.0002)):
        settings = load_checkpoint(out / "unet" / "fold0" / scenario / "best.json").info["training"]["settings"]
        assert settings["learning_rate"] == pytest.approx(rate)
        assert (settings["optimizer"], settings["lr_schedule"], settings["bce_weight"]) == ("adamw", "cosine", 0.5)
    markdown = (out / "table1.md").read_text()
    # --desktop-size gives both the bundled model's size; its Dense Residual U-Net extras reach only that one.
    drunet, unet = table["architectures"]["dense-res-unet"]["model"], table["architectures"]["unet"]["model"]
    assert (drunet["dense_layers"], drunet["residual_width"]) == (2, 8)
    assert "dense_layers" not in unet and unet["widths"] == drunet["widths"] == [4, 8, 12]
    for arch in ("unet", "dense-res-unet"):
        scenarios = table["architectures"][arch]["scenarios"]
        for scenario in ("direct_transfer", "direct_training", "fine_tuning"):
            summary = scenarios[scenario]["summary"]
            assert summary["n"] == 6  # every clinical photo tested once
            assert "std" in summary["jaccard"]
        assert f"| {arch} |" in markdown
    assert "Direct Transfer" in markdown and "±" in markdown


def test_finetune_with_too_few_photos_says_how_many(tmp_path, tiny_checkpoint, capsys):
    for folder in ("images", "masks"):
        (tmp_path / folder).mkdir()
    for i in range(2):
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "images" / f"{i}.png")
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "masks" / f"{i}.png")
    code = main(["finetune", "--images", str(tmp_path / "images"), "--masks", str(tmp_path / "masks"),
                 "--from", str(tiny_checkpoint), "--out", str(tmp_path / "t.json")])
    assert code == 2 and "at least 4 photos" in capsys.readouterr().err


def test_benchmark_json(tiny_checkpoint, capsys):
    assert main(["benchmark", "--model", str(tiny_checkpoint), "--json", "--repeats", "1", "--skip-50mp",
                 "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("forward_ms", "photo_1mp_ms", "photo_12mp_ms", "gflops", "achieved_gflops", "peak_gflops",
                "train_step_ms", "peak_memory_mb", "forward_onnx_ms", "forward_int8_ms", "int8_vs_onnx_time_ratio"):
        assert result[key] > 0, key


def test_benchmark_times_a_models_face_colour_gate_with_and_without_it(tiny_checkpoint, tmp_path, capsys):
    from skinseg_core.face_colour import FaceColourGate

    loaded = load_checkpoint(tiny_checkpoint)
    gating = save_checkpoint(loaded.model, tmp_path / "gating.json",
                             CheckpointMeta(name="tiny", face_colour_gate=FaceColourGate().to_dict()))
    assert main(["benchmark", "--model", str(gating), "--json", "--repeats", "1", "--skip-50mp", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "face colour" in result["device"] and result["face_colour_gate"] == FaceColourGate().to_dict()
    for key in ("face_gate_ms", "photo_12mp_without_face_gate_ms", "face_gate_time_ratio_12mp"):
        assert result[key] > 0, key


def test_the_command_line_offers_the_networks_inference_knows():
    from skinseg_core.cli import build_parser
    from skinseg_core.inference import NETWORKS

    for command in ("predict", "evaluate", "report"):
        action = next(a for a in build_parser()._subparsers._group_actions[0].choices[command]._actions
                      if a.dest == "network")
        assert tuple(action.choices) == NETWORKS and action.default == "auto"
