"""Clinical k-fold of the bundled recipe: every clinical photo is scored by a model that never trained on it."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from skinseg_core import recipes
from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.clinical_kfold import fitzpatrick_types
from skinseg_core.cli import main
from skinseg_core.training import TrainSettings


@pytest.mark.needs_data
def test_clinical_kfold_holds_each_photo_out_once_and_scores_it(shared_data, tiny_checkpoint, tmp_path,
                                                                 monkeypatch, capsys):
    # The real stage 2 takes many minutes; the same code with one step per fold and two sets shows the mechanics.
    quick = dataclasses.replace(
        recipes.FINETUNE, shares={"clinical_fitz17k": 0.5, "ecu_subset": 0.5}, val_per_set=2,
        settings=TrainSettings(epochs=1, patience=1, batch_size=2, learning_rate=1e-3, steps_per_epoch=1,
                               num_workers=0, augmentation="paper"))
    monkeypatch.setattr(recipes, "FINETUNE", quick)
    monkeypatch.setattr(recipes, "POLISH", dataclasses.replace(
        recipes.POLISH, settings=dataclasses.replace(quick.settings, batch_size=2, optimizer="sgd")))
    monkeypatch.setattr(recipes, "POLISH_BLEND", 0.5)
    monkeypatch.setattr(recipes, "POLISH_PUBLIC_COST", 1.0)  # the blend as set (its limit: test_recipes.py)
    out = tmp_path / "report"
    command = ["report", "--clinical-kfold", "3", "--pretrained", str(tiny_checkpoint), "--data-root",
               str(shared_data), "--work", str(tmp_path / "kfold"), "--device", "cpu", "--seed", "1"]
    # --fold trains one fold and stops (folds can then train at once in separate processes) ...
    assert main([*command, "--fold", "2"]) == 0
    assert "fold 2 of 3 trained" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "kfold").iterdir()) == ["fold2"]
    fold2_stage2 = (tmp_path / "kfold" / "fold2" / "finetune" / "best.safetensors").read_bytes()
    # ... and the whole command trains the others, finds fold 2 finished and scores all three.
    code = main([*command, "--out", str(out)])
    assert code == 0
    assert (tmp_path / "kfold" / "fold2" / "finetune" / "best.safetensors").read_bytes() == fold2_stage2
    report = json.loads((out / "report.json").read_text())
    held_out = [stem for fold in report["folds"] for stem in fold["held_out"]]
    clinical = [p.stem for p in recipes.dataset_splits(shared_data)["clinical_fitz17k"].test]
    assert sorted(held_out) == sorted(clinical) and len(set(held_out)) == len(held_out)
    for fold in report["folds"]:
        trained_on = load_checkpoint(tmp_path / "kfold" / f"fold{fold['fold']}" / "skinseg-bundled.json")
        assert trained_on.info["training"]["clinical_excluded"] == fold["held_out"]
        # Stage 2 widens the pretrained 6-channel net to RGB+HSV + absolute RGB (the recipe's close-up fix).
        assert trained_on.model.in_channels == 9 and "absolute rgb" in trained_on.info["normalisation"]
        assert "clinical polish" in trained_on.info["training"]["stages"]  # stage 3 ran after stage 2
        fold_dir = tmp_path / "kfold" / f"fold{fold['fold']}"
        # The shipped weights are the blend of stage 2's and stage 3's best, and run with the test-time flip.
        stage2 = load_checkpoint(fold_dir / "finetune" / "best.json").model.state_dict()
        stage3 = load_checkpoint(fold_dir / "polish" / "best.json").model.state_dict()
        changed = [k for k, v in stage3.items() if v.is_floating_point() and not torch.equal(v, stage2[k])]
        assert changed, "stage 3 trained"
        shipped = trained_on.model.state_dict()
        assert all(torch.allclose(shipped[k], (stage2[k] + stage3[k]) / 2, atol=1e-6) for k in changed)
        assert trained_on.test_time_flip and trained_on.info["training"]["stages"]["clinical polish"]["blend"] == 0.5
        assert fold["polish_blend"] == 0.5
        config = json.loads((tmp_path / "kfold" / f"fold{fold['fold']}" / "finetune" / "config.json").read_text())
        # --seed gives stages 2 and 3 the recipe seed's settings, as the model being measured had them.
        assert config["settings"]["seed"] == quick.settings.seed + recipes.STAGE_SEED_STRIDE
        assert not any(stem in path for stem in fold["held_out"] for path in config["train"] + config["val"])
    entry, *by_skin_type = report["sets"].values()
    assert entry["n"] == len(clinical)
    assert {"model", "kovac-rgb", "chai-ngan-ycrcb"} <= set(entry["methods"])
    # The same held-out photos again, split by Fitzpatrick skin type as the set's metadata.csv gives it.
    types = fitzpatrick_types(shared_data)
    assert list(report["sets"])[1:] == [f"clinical_fitz17k types {g} (3-fold, held out)" for g in ("I-III", "IV-VI")]
    dark = [stem for stem in clinical if types[stem] >= 4]
    assert [e["n"] for e in by_skin_type] == [len(clinical) - len(dark), len(dark)] and 0 < len(dark) < len(clinical)
    for group in by_skin_type:
        assert set(group["methods"]) == set(entry["methods"]) and "Fitzpatrick" in group["description"]
    # Pooled over all photos, the groups' per-photo Jaccards make up the whole's.
    means = [e["methods"]["model"]["summary"]["jaccard"]["mean"] for e in (entry, *by_skin_type)]
    assert means[0] == pytest.approx((means[1] * by_skin_type[0]["n"] + means[2] * by_skin_type[1]["n"]) / entry["n"])
    assert "3-fold, held out" in (out / "report.md").read_text()


def test_clinical_kfold_needs_the_pretrained_model(capsys):
    assert main(["report", "--clinical-kfold", "3"]) == 2
    assert "--pretrained" in capsys.readouterr().err


def test_fold_must_be_one_of_the_k_folds_of_a_clinical_kfold(tiny_checkpoint, tmp_path, capsys):
    assert main(["report", "--clinical-kfold", "3", "--pretrained", str(tiny_checkpoint), "--fold", "4",
                 "--work", str(tmp_path / "kfold")]) == 2
    assert "--fold must be between 1 and 3" in capsys.readouterr().err
    assert main(["report", "--fold", "1"]) == 2
    assert "--fold needs --clinical-kfold" in capsys.readouterr().err
    assert not (tmp_path / "kfold").exists()
