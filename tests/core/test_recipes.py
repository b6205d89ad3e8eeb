"""The bundled recipe's splits: held-out test photos never reach training or validation."""

from __future__ import annotations

import pytest
import torch

from skinseg_core.recipes import FINETUNE, PRETRAIN, _weighted, dataset_splits


@pytest.mark.needs_data
def test_test_photos_are_never_trained_on(shared_data):
    splits = dataset_splits(shared_data)
    assert len(splits["lfw_parts"].test) == 927  # LFW's official test split
    for name, split in splits.items():
        train, val, test = ({p.image for p in part} for part in (split.train, split.val, split.test))
        assert not train & val, name
        if name != "clinical_fitz17k":  # clinical photos are scored by k-fold / direct transfer instead
            assert not (train | val) & test, name
    for stage in (PRETRAIN, FINETUNE):
        train, weights, val = _weighted(splits, stage)
        tests = {p.image for name, s in splits.items() if name != "clinical_fitz17k" for p in s.test}
        assert not {p.image for p in train} & tests
        assert len(weights) == len(train) and abs(sum(weights) - sum(stage.shares.values())) < 1e-9


@pytest.mark.needs_data
def test_splits_are_stable(shared_data):
    first, second = dataset_splits(shared_data), dataset_splits(shared_data)
    for name in first:
        assert [p.image for p in first[name].test] == [p.image for p in second[name].test]


def test_mistake_weights_mark_where_the_model_is_wrong(synthetic_folder, tiny_checkpoint):
    import numpy as np

    from skinseg_core.data import folder_pairs
    from skinseg_core.imageio import read_mask, read_photo
    from skinseg_core.inference import Segmenter
    from skinseg_core.recipes import mistake_weights

    pairs = folder_pairs(synthetic_folder)[:3]
    maps = mistake_weights(tiny_checkpoint, pairs, 3.0, long_side=1000)
    segmenter = Segmenter(tiny_checkpoint, device="cpu")
    for pair, weight in zip(pairs, maps):
        photo = read_photo(pair.image)
        wrong = segmenter.predict_photo(photo).mask(segmenter.loaded.threshold) != read_mask(pair.mask,
                                                                                           size=photo.full_size)
        assert weight.shape == wrong.shape and set(np.unique(weight)) <= {1.0, 3.0}
        assert np.array_equal(weight == 3.0, wrong)
    small = mistake_weights(tiny_checkpoint, pairs[:1], 3.0, long_side=32)
    assert max(small[0].shape) == 32


@pytest.mark.needs_data
@pytest.mark.parametrize("absolute_from", [1, 2])
def test_bundled_recipe_runs_all_three_stages_from_the_command_line(shared_data, tmp_path, monkeypatch, capsys,
                                                                    absolute_from):
    # The real recipe takes over an hour; the same code with one tiny step per stage shows the mechanics.
    import dataclasses
    import json

    from skinseg_core import recipes
    from skinseg_core.checkpoint import load_checkpoint
    from skinseg_core.cli import main
    from skinseg_core.models import blended
    from skinseg_core.training import TrainSettings

    quick = TrainSettings(epochs=1, patience=1, batch_size=2, learning_rate=1e-3, steps_per_epoch=1, num_workers=0,
                          augmentation="paper")
    for name in ("PRETRAIN", "FINETUNE", "POLISH", "PEOPLE"):
        stage = getattr(recipes, name)
        # The recipe's own colour settings (colour dropout needs the absolute colour channels in that stage).
        colour_dropout = stage.settings.colour_dropout if name != "PRETRAIN" or absolute_from == 1 else 0.0
        monkeypatch.setattr(recipes, name, dataclasses.replace(stage, val_per_set=1, settings=dataclasses.replace(
            quick, optimizer=stage.settings.optimizer, colour_dropout=colour_dropout,
            skin_tone=stage.settings.skin_tone, weight_average=stage.settings.weight_average)))
    monkeypatch.setattr(recipes, "BUNDLED_ARCHITECTURE", {
        "name": "dense-res-unet", "widths": (4, 8), "dense_layers": 1, "residual_width": 4, "fc_dim": 8,
        "fc_grid": 2, "input_size": 48})
    monkeypatch.setattr(recipes, "ABSOLUTE_COLOUR_FROM_STAGE", absolute_from)
    out = tmp_path / "bundled"
    assert main(["train", "--recipe", "bundled", "--data-root", str(shared_data), "--out", str(out),
                 "--device", "cpu"]) == 0
    assert f"bundled model written to {out / 'skinseg-bundled.json'}" in capsys.readouterr().out
    stage1 = load_checkpoint(out / "pretrain" / "best.json")
    assert stage1.model.in_channels == (9 if absolute_from == 1 else 6)
    shipped = load_checkpoint(out / "skinseg-bundled.json")
    assert shipped.model.in_channels == 9 and shipped.input_size == 48 and shipped.test_time_flip
    assert shipped.guided_filter == recipes.GUIDED_FILTER
    assert shipped.face_colour_gate == recipes.FACE_COLOUR_GATE
    training = shipped.info["training"]
    assert training["absolute_colour_from_stage"] == absolute_from
    assert set(training["stages"]) == {"pretraining", "fine-tuning", "clinical polish", "people"}
    # The shipped weights are stage 2 and 3 blended as recorded: the recipe's blend unless it cost the public
    # validation photos too much (docs/adr/0017).
    polish = training["stages"]["clinical polish"]
    assert polish["blend_ceiling"] == recipes.POLISH_BLEND and polish["public_cost_limit"] == recipes.POLISH_PUBLIC_COST
    scores = polish["blend_public_scores"]
    floor = scores["0.0"] - recipes.POLISH_PUBLIC_COST
    tried = {float(blend): score for blend, score in scores.items() if blend != "0.0"}
    assert max(tried) == recipes.POLISH_BLEND and (polish["blend"] == 0.0 or tried[polish["blend"]] >= floor)
    assert all(score < floor for blend, score in tried.items() if blend > polish["blend"])
    expected = blended(load_checkpoint(out / "finetune" / "best.json").model,
                       load_checkpoint(out / "polish" / "best.json").model, polish["blend"])
    for key, value in expected.state_dict().items():
        assert torch.allclose(value, shipped.model.state_dict()[key]), key
    # Stage 4, the network for photos of people: the shipped network tuned on the public sets, blended with it, in
    # its own model file beside the model's, which names it (docs/adr/0028).
    assert shipped.people is not None and shipped.people_min_face_share == recipes.PEOPLE_MIN_FACE_SHARE
    assert shipped.people.config_path == out / "skinseg-bundled-people.json"
    people_expected = blended(shipped.model, load_checkpoint(out / "people" / "best.json").model, recipes.PEOPLE_BLEND)
    for key, value in people_expected.state_dict().items():
        assert torch.allclose(value, shipped.people.model.state_dict()[key]), key
    assert training["stages"]["people"]["blend"] == recipes.PEOPLE_BLEND
    # Stage 3's validation scores are not a blend's: a blended model file files them as stage 3's.
    assert ("stage 3 before blending" in shipped.info["metrics"]) == (polish["blend"] < 1.0)
    stage1_settings = json.loads((out / "pretrain" / "config.json").read_text())["settings"]
    assert stage1_settings["epochs"] == 1
    assert stage1_settings.get("skin_tone", 0.0) == recipes.PRETRAIN.settings.skin_tone
    # Stage 2 keeps an average of its weights (docs/adr/0016), saved with its resume state.
    stage2_settings = json.loads((out / "finetune" / "config.json").read_text())["settings"]
    assert stage2_settings["weight_average"] == recipes.FINETUNE.settings.weight_average > 0
    assert training["stages"]["fine-tuning"]["settings"]["weight_average"] == recipes.FINETUNE.settings.weight_average
    assert json.loads((out / "finetune" / "state.json").read_text())["average_updates"] == 1
    if absolute_from == 1:
        # The same command again builds the same model: the recipe's network starts from its seed, not from whatever
        # torch's generator holds (two runs of the real recipe once landed far apart, docs/adr/0014).
        again = tmp_path / "again"
        assert main(["train", "--recipe", "bundled", "--data-root", str(shared_data), "--out", str(again),
                     "--device", "cpu"]) == 0
        repeated = load_checkpoint(again / "skinseg-bundled.json").model.state_dict()
        for key, value in shipped.model.state_dict().items():
            assert torch.equal(value, repeated[key]), key
        assert training["seed"] == recipes.RECIPE_SEED and f"--seed {recipes.RECIPE_SEED} " in training["command"]
        # Another recipe seed is another model: every stage and the first weights move by it.
        other = tmp_path / "seed1"
        assert main(["train", "--recipe", "bundled", "--data-root", str(shared_data), "--out", str(other),
                     "--seed", "1", "--device", "cpu"]) == 0
        moved = load_checkpoint(other / "skinseg-bundled.json")
        assert moved.info["training"]["seed"] == 1
        assert [moved.info["training"]["stages"][s]["settings"]["seed"] for s in ("pretraining", "fine-tuning",
                "clinical polish", "people")] == [getattr(recipes, n).settings.seed + recipes.STAGE_SEED_STRIDE
                                                  for n in ("PRETRAIN", "FINETUNE", "POLISH", "PEOPLE")]
        assert any(not torch.equal(v, moved.model.state_dict()[k]) for k, v in shipped.model.state_dict().items())


def _with_score_bias(model, bias: float):
    # The score layer's bias alone decides the mask when it is far from 0: +50 calls every pixel skin, -50 none.
    with torch.no_grad():
        model.merge_residual.conv.bias.fill_(bias)
    return model


def test_the_polish_blend_steps_down_until_the_public_photos_keep_their_score(synthetic_folder):
    from skinseg_core.data import folder_pairs
    from skinseg_core.models import blended
    from skinseg_core.recipes import CLINICAL_SET, capped_blend

    from .conftest import tiny_model

    pairs = folder_pairs(synthetic_folder)[:6]
    groups = ["lfw_parts", "lfw_parts", "sfa", "sfa", CLINICAL_SET, CLINICAL_SET]
    cpu = torch.device("cpu")
    # Stage 2 calls nothing skin; a collapsed stage 3 calls everything skin, which costs the public photos their
    # background. The blend's bias is -50 + 100 x blend: 0.8 and 0.6 still call everything skin, 0.4 nothing.
    stage2 = _with_score_bias(tiny_model(), -50.0)
    collapsed = _with_score_bias(blended(stage2, stage2, 1.0), 50.0)
    before = {k: v.clone() for k, v in collapsed.state_dict().items()}
    blend, scores = capped_blend(stage2, collapsed, pairs, groups, cpu, 0.8, 0.05, step=0.2)
    # The two models are left as they were: scoring works on blended copies.
    assert stage2.training and collapsed.training
    assert all(torch.equal(v, collapsed.state_dict()[k]) for k, v in before.items())
    assert blend == pytest.approx(0.4)
    assert list(scores) == ["0.0", "0.8", "0.6", "0.4"]
    assert scores["0.8"] == scores["0.6"] < scores["0.0"] - 0.05 and scores["0.4"] == scores["0.0"]
    # A polish that costs the public photos nothing keeps the recipe's blend; so does any polish under a loose limit.
    assert capped_blend(stage2, blended(stage2, stage2, 1.0), pairs, groups, cpu, 0.8, 0.05)[0] == 0.8
    assert capped_blend(stage2, collapsed, pairs, groups, cpu, 0.8, 1.0)[0] == 0.8
    # Any step: biases +40, +15, -10.
    blend, finer = capped_blend(stage2, collapsed, pairs, groups, cpu, 0.9, 0.05, step=0.25)
    assert blend == pytest.approx(0.4) and list(finer) == ["0.0", "0.9", "0.65", "0.4"]
    # The clinical photos do not count (there the polish is meant to call more skin): the scores are the public
    # photos' alone.
    public = [(p, g) for p, g in zip(pairs, groups) if g != CLINICAL_SET]
    alone = capped_blend(stage2, collapsed, [p for p, _ in public], [g for _, g in public], cpu, 0.8, 0.05)
    assert alone == (blend, scores)
