"""Training: the loss falls on real photos, progress is reported, a run stops between steps and resumes."""

from __future__ import annotations

import json

import pytest
import torch

from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.data import folder_pairs, split_pairs
from skinseg_core.errors import SkinSegError
from skinseg_core.training import (Progress, TrainSettings, WeightAverage, blank_absolute_colour, fit,
                                   run_fit)

from .conftest import tiny_model

FAST = TrainSettings(epochs=2, patience=5, batch_size=4, learning_rate=0.01, augmentation="paper")


@pytest.mark.needs_data
@pytest.mark.parametrize("seed", [0, 1])
def test_two_epochs_on_real_photos_lower_the_loss(real_faces, tmp_path, seed):
    pairs = folder_pairs(real_faces)
    train, val = split_pairs(pairs, 0.25, seed=0)
    reports: list[Progress] = []
    settings = TrainSettings(epochs=2, patience=5, batch_size=2, learning_rate=0.003, optimizer="adamw",
                             augmentation="paper", steps_per_epoch=12)
    torch.manual_seed(seed)  # the initial weights must not depend on which tests ran before
    result = run_fit(fit(tmp_path / "run", tiny_model(input_size=64), train, val, settings), reports.append)
    epochs = [r for r in reports if r.event == "epoch"]
    assert [r.epoch for r in epochs] == [1, 2]
    assert reports[-1].event == "finished"
    assert epochs[1].loss < epochs[0].loss, [e.loss for e in epochs]
    assert all(0.0 <= r.val_jaccard <= 1.0 for r in epochs)
    # The run folder holds its config, one metrics line per epoch and a loadable best model.
    run = tmp_path / "run"
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["batch_size"] == 2 and len(config["train"]) == len(train)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    best = load_checkpoint(result.best_checkpoint)
    assert best.info["training"]["epoch"] == result.best_epoch
    assert best.info["metrics"]["val"]["n"] == len(val)


def test_stop_between_steps_and_resume(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    settings = TrainSettings(epochs=3, patience=10, batch_size=2, augmentation="paper", steps_per_epoch=3)
    run = tmp_path / "run"

    progress = fit(run, tiny_model(), train, val, settings)
    seen = []
    for report in progress:
        seen.append((report.event, report.epoch, report.step))
        if report.event == "step" and report.epoch == 2 and report.step == 2:
            progress.close()  # the user pressed Stop in the middle of epoch 2
            break
    assert ("epoch", 1, 3) in seen
    state = json.loads((run / "state.json").read_text())
    assert state["epochs_done"] == 1 and not state["finished"]

    resumed: list[Progress] = []
    result = run_fit(fit(run, tiny_model(), train, val, settings), resumed.append)
    assert resumed[0].event == "step" and resumed[0].epoch == 2 and resumed[0].step == 1
    assert [r.epoch for r in resumed if r.event == "epoch"] == [2, 3]
    assert result.epochs_run == 3
    lines = (run / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]

    # A finished run called again reports at once that it is finished.
    again = list(fit(run, tiny_model(), train, val, settings))
    assert [r.event for r in again] == ["finished"]


def test_resume_refuses_a_different_run(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    settings = TrainSettings(epochs=1, batch_size=2, augmentation="paper", steps_per_epoch=1)
    run_fit(fit(tmp_path / "run", tiny_model(), train, val, settings))
    other = TrainSettings(epochs=1, batch_size=2, augmentation="paper", steps_per_epoch=1, learning_rate=0.5)
    with pytest.raises(SkinSegError, match="holds a different training run"):
        run_fit(fit(tmp_path / "run", tiny_model(), train, val, other))


def test_a_run_from_before_the_later_settings_existed_still_resumes(synthetic_folder, tmp_path):
    import hashlib

    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    settings = TrainSettings(epochs=2, batch_size=2, augmentation="paper", steps_per_epoch=1)
    run = tmp_path / "run"
    progress = fit(run, tiny_model(absolute_colour=True), train, val, settings)
    for report in progress:
        if report.event == "epoch":
            progress.close()  # stopped after epoch 1
            break
    # Rewrite the folder as the version before the settings existed wrote it: none of them in the settings, and the fingerprint over that.
    config = json.loads((run / "config.json").read_text())
    for later in ("colour_dropout", "skin_tone", "decoys", "weight_average", "background_jaccard", "mixed_light",
                  "lesion_spots"):
        del config["settings"][later]
    payload = {k: v for k, v in config.items() if k not in ("meta", "fingerprint")}
    old = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
    config["fingerprint"] = old
    (run / "config.json").write_text(json.dumps(config))
    state = json.loads((run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps({**state, "fingerprint": old}))

    resumed: list[Progress] = []
    result = run_fit(fit(run, tiny_model(absolute_colour=True), train, val, settings), resumed.append)
    assert [r.epoch for r in resumed if r.event == "epoch"] == [2] and result.epochs_run == 2
    # With either setting in use it is a different run.
    for later in ({"colour_dropout": 0.5}, {"skin_tone": 0.5}, {"decoys": 0.5}, {"weight_average": 0.9},
                  {"background_jaccard": 1.0}, {"mixed_light": 0.5}, {"lesion_spots": 0.5}):
        with pytest.raises(SkinSegError, match="holds a different training run"):
            run_fit(fit(run, tiny_model(absolute_colour=True), train, val, TrainSettings(
                epochs=2, batch_size=2, augmentation="paper", steps_per_epoch=1, **later)))


def test_early_stopping(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    # A zero learning rate never improves after the first epoch, so patience 2 stops at epoch 3.
    settings = TrainSettings(epochs=20, patience=2, batch_size=2, learning_rate=0.0, augmentation="paper",
                             steps_per_epoch=1)
    reports: list[Progress] = []
    result = run_fit(fit(tmp_path / "run", tiny_model(), train, val, settings), reports.append)
    assert result.epochs_run == 3 and result.best_epoch == 1
    assert reports[-1].stopped_early


def test_settings_reject_unknown_keys():
    with pytest.raises(ValueError, match="Unknown training settings"):
        TrainSettings.from_dict({"epochs": 3, "learnig_rate": 0.1})


def test_cross_entropy_term_keeps_gradients_where_the_tanh_saturates():
    from skinseg_core.training import training_loss

    masks = torch.zeros(1, 1, 4, 4)
    masks[..., :2] = 1.0
    scores = torch.full((1, 1, 4, 4), 30.0, requires_grad=True)  # "everything is skin", saturated
    training_loss(scores, masks).backward()
    assert float(scores.grad.abs().max()) < 1e-12  # the Jaccard loss alone is stuck here
    scores.grad = None
    training_loss(scores, masks, bce_weight=0.5).backward()
    assert float(scores.grad[..., 2:].min()) > 0.01  # wrong background pixels are pushed down


def test_background_jaccard_makes_a_close_ups_few_background_pixels_count():
    from skinseg_core.training import training_loss

    masks = torch.ones(1, 1, 10, 10)
    masks[..., 0, :] = 0.0  # a close-up: 90 % skin, one row of background
    scores = torch.full((1, 1, 10, 10), 1.0, requires_grad=True)  # calls everything skin (p = 0.88)
    skin_only = training_loss(scores, masks)
    skin_only.backward()
    push_skin_only = float(scores.grad[..., 0, :].mean())
    scores.grad = None
    both = training_loss(scores, masks, background_jaccard=1.0)
    both.backward()
    push_both = float(scores.grad[..., 0, :].mean())
    # Eq. (1) barely notices ten false skin pixels among ninety; the background class's loss is near its worst.
    assert float(skin_only.detach()) < 0.25 < float(both.detach())
    # ... and the background row is pushed towards "not skin" several times harder.
    assert push_both > 3 * push_skin_only > 0
    perfect = torch.where(masks > 0, 30.0, -30.0)
    assert float(training_loss(perfect, masks, background_jaccard=1.0)) < 1e-6


def test_background_jaccard_setting_reaches_the_loss_and_the_run_record(synthetic_folder, tmp_path, monkeypatch):
    import skinseg_core.training as training

    seen: list[float] = []
    plain = training.training_loss
    monkeypatch.setattr(training, "training_loss",
                        lambda *args: seen.append(args[4]) or plain(*args))
    train, val = split_pairs(folder_pairs(synthetic_folder), 0.25, seed=0)
    settings = TrainSettings(epochs=1, patience=2, batch_size=2, learning_rate=0.01, augmentation="paper",
                             steps_per_epoch=2, background_jaccard=1.0, num_workers=0)
    run_fit(fit(tmp_path / "run", tiny_model(), train, val, settings))
    assert seen == [1.0, 1.0]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["settings"]["background_jaccard"] == 1.0


def test_background_jaccard_must_not_be_negative():
    with pytest.raises(ValueError, match="background_jaccard"):
        TrainSettings(background_jaccard=-0.5)


def test_validation_groups_weigh_every_set_alike_and_are_logged(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    groups = ["big"] * (len(val) - 1) + ["small"]
    settings = TrainSettings(epochs=1, patience=2, batch_size=2, learning_rate=0.01, augmentation="paper",
                             steps_per_epoch=1)
    result = run_fit(fit(tmp_path / "run", tiny_model(), train, val, settings, val_groups=groups))
    record = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert set(record["val_groups"]) == {"big", "small"}
    expected = sum((g["jaccard"] + g["background_jaccard"]) / 2 for g in record["val_groups"].values()) / 2
    assert record["val_jaccard"] == pytest.approx(expected)
    assert result.best_val_jaccard == pytest.approx(expected)
    with pytest.raises(ValueError, match="group labels"):
        next(fit(tmp_path / "other", tiny_model(), train, val, settings, val_groups=groups[:-1]))


def test_backgrounds_make_collages_during_training(synthetic_folder, tmp_path):
    import numpy as np
    from PIL import Image

    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    (tmp_path / "bg").mkdir()
    Image.fromarray(np.full((80, 120, 3), (0, 200, 0), np.uint8)).save(tmp_path / "bg" / "green.png")
    settings = TrainSettings(epochs=1, patience=2, batch_size=2, learning_rate=0.01, augmentation="paper",
                             steps_per_epoch=2, num_workers=0)
    run_fit(fit(tmp_path / "run", tiny_model(), train, val, settings, backgrounds=[tmp_path / "bg" / "green.png"]))
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["backgrounds"] == [str(tmp_path / "bg" / "green.png")]


def test_closeups_setting_trains_on_closeups(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    settings = TrainSettings(epochs=1, patience=2, batch_size=2, learning_rate=0.01, augmentation="strong",
                             steps_per_epoch=2, closeups=0.5, num_workers=0)
    result = run_fit(fit(tmp_path / "run", tiny_model(), train, val, settings))
    assert result.epochs_run == 1
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["settings"]["closeups"] == 0.5


def test_blank_absolute_colour_zeroes_only_the_colour_channels_of_the_drawn_photos():
    inputs = torch.randn(400, 9, 4, 4) + 3.0
    generator = torch.Generator().manual_seed(7)
    blanked = blank_absolute_colour(inputs, 0.5, generator)
    blank = (blanked[:, 6:] == 0).flatten(1).all(1)
    assert 150 < int(blank.sum()) < 250
    assert torch.equal(blanked[:, :6], inputs[:, :6])
    assert torch.equal(blanked[~blank], inputs[~blank])
    again = blank_absolute_colour(inputs, 0.5, torch.Generator().manual_seed(7))
    assert torch.equal(again, blanked)
    assert torch.equal(blank_absolute_colour(inputs, 0.0), inputs)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_colour_dropout_setting_blanks_what_the_network_sees_in_training(synthetic_folder, tmp_path, share):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    model = tiny_model(absolute_colour=True)
    seen: list[torch.Tensor] = []
    model.register_forward_pre_hook(lambda module, args: seen.append(args[0][:, 6:].detach().clone())
                                    if module.training else None)
    settings = TrainSettings(epochs=1, patience=2, batch_size=2, learning_rate=0.01, augmentation="paper",
                             steps_per_epoch=3, colour_dropout=share, num_workers=0)
    run_fit(fit(tmp_path / "run", model, train, val, settings))
    assert len(seen) == 3
    blanked = [bool((colour == 0).all()) for colour in seen]
    assert blanked == [share == 1.0] * 3
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["settings"]["colour_dropout"] == share


def test_colour_dropout_on_a_network_without_colour_channels_is_refused(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    settings = TrainSettings(epochs=1, batch_size=2, augmentation="paper", steps_per_epoch=1, colour_dropout=0.5)
    with pytest.raises(ValueError, match="does not read"):
        run_fit(fit(tmp_path / "run", tiny_model(), train, val, settings))
    assert not (tmp_path / "run" / "state.json").exists()


def test_weight_average_moves_a_share_of_the_way_to_the_current_weights():
    model = tiny_model()
    average = WeightAverage(model, decay=0.75, updates=100)  # past the warm-up
    before = {k: v.clone() for k, v in average.model.state_dict().items()}
    with torch.no_grad():
        for param in model.parameters():
            param.add_(1.0)
    average.update(model)
    for name, param in model.named_parameters():
        assert torch.allclose(average.model.state_dict()[name], 0.75 * before[name] + 0.25 * param)
    assert not any(p.requires_grad for p in average.model.parameters())


def test_weight_average_warms_up_from_the_first_steps():
    average = WeightAverage(tiny_model(), decay=0.99)
    factors = []
    for _ in range(1000):
        factors.append(average.factor())
        average.updates += 1
    assert factors[0] == pytest.approx(0.1)  # the first update takes 90 % of the trained weights
    assert all(a <= b for a, b in zip(factors, factors[1:])) and factors[-1] == 0.99


def test_a_run_with_weight_average_keeps_the_average_and_resumes_it(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)
    train, val = split_pairs(pairs, 0.25, seed=0)
    settings = TrainSettings(epochs=2, patience=10, batch_size=2, learning_rate=0.05, augmentation="paper",
                             steps_per_epoch=3, weight_average=0.5)
    torch.manual_seed(0)
    start = tiny_model()
    whole = run_fit(fit(tmp_path / "whole", _copy(start), train, val, settings))
    assert whole.epochs_run == 2
    averaged = _state_part(tmp_path / "whole", "average")

    # Stopped after epoch 1 (always the best so far): the kept model is the average, not the last step's weights.
    progress = fit(tmp_path / "resumed", _copy(start), train, val, settings)
    for report in progress:
        if report.event == "epoch":
            progress.close()
            break
    after_one = _state_part(tmp_path / "resumed", "average")
    trained = _state_part(tmp_path / "resumed", "model")
    kept = load_checkpoint(tmp_path / "resumed" / "best.json").model.state_dict()
    assert kept.keys() == after_one.keys() == trained.keys()
    assert all(torch.allclose(kept[k], after_one[k]) for k in kept)
    assert any(not torch.allclose(kept[k], trained[k]) for k in kept)
    # Resumed: the same average as the run that never stopped.
    run_fit(fit(tmp_path / "resumed", _copy(start), train, val, settings))
    resumed = _state_part(tmp_path / "resumed", "average")
    assert all(torch.allclose(resumed[k], v) for k, v in averaged.items())


def test_weight_average_must_be_below_one():
    with pytest.raises(ValueError, match="weight_average"):
        TrainSettings(weight_average=1.0)


def _copy(model):
    import copy

    return copy.deepcopy(model)


def _state_part(run, prefix):
    from safetensors.torch import load_file

    tensors = load_file(str(run / "state.safetensors"))
    return {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
