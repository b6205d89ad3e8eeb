"""The report scores a model and both colour rules on the same photos; the model card is written from it."""

from __future__ import annotations

import pytest

from skinseg_core.data import folder_pairs
from skinseg_core.inference import Segmenter
from skinseg_core.model_card import carried_sections, carried_speed, render_card
from skinseg_core.refine import GuidedFilter
from skinseg_core.report import report_markdown, score_pairs
from tests.model_files import refining_copy


@pytest.mark.needs_data
def test_report_scores_model_and_rules_with_lesion_recall(real_clinical, tiny_checkpoint):
    result = score_pairs(Segmenter(tiny_checkpoint, device="cpu"), folder_pairs(real_clinical))
    assert result["n"] == 6
    assert set(result["methods"]) == {"model", "kovac-rgb", "chai-ngan-ycrcb"}
    # masks_lesion/ is not copied into the fixture folder, so no lesion figure is claimed.
    assert "lesion_pixels_called_skin" not in result["methods"]["model"]
    for entry in result["methods"].values():
        assert entry["summary"]["n"] == 6
    markdown = report_markdown({"sets": {"clinical": result}})
    assert markdown.count("| clinical |") == 3


@pytest.mark.needs_data
def test_lesion_pixels_are_counted_when_lesion_masks_exist(shared_data, tiny_checkpoint):
    pairs = folder_pairs(shared_data / "clinical_fitz17k")[:3]
    result = score_pairs(Segmenter(tiny_checkpoint, device="cpu"), pairs)
    for entry in result["methods"].values():
        assert 0.0 <= entry["lesion_pixels_called_skin"] <= 1.0


def test_model_card_holds_the_numbers_it_is_given(tiny_checkpoint):
    summary = {k: {"mean": 0.8, "std": 0.1, "median": 0.8, "min": 0.5, "max": 0.9, "pooled": 0.81}
               for k in ("jaccard", "dice", "background_jaccard")}
    report = {"sets": {"lfw_parts": {"n": 3, "methods": {m: {"summary": {**summary, "n": 3}} for m in
                                                          ("model", "kovac-rgb", "chai-ngan-ycrcb")}}}}
    report["markdown"] = report_markdown(report)
    card = render_card(tiny_checkpoint, report, {"forward_ms": 12.5, "photo_12mp_ms": 99.0, "backend": "onnx"})
    assert "For research use only" in card and "Fitzpatrick17k" not in card.split("## Results")[1]
    assert "0.800 ± 0.100" in card and "12.5 ms" in card and "99.0 ms" in card
    assert "Network for photos of people" not in card


def test_model_card_describes_the_network_for_photos_of_people(tmp_path):
    from tests.core.test_people_network import _with_people

    card = render_card(_with_people(tmp_path, share=0.2), _report("sfa", 2), {"forward_ms": 1.0})
    line = next(line for line in card.splitlines() if line.startswith("- Network for photos of people"))
    assert "`tiny-people.safetensors`" in line and "at least 20% of the photo's width" in line
    assert "a face seen from the side is as large" in line


def test_model_card_describes_the_colour_balance_steps_the_model_file_asks_for(tiny_checkpoint, tmp_path):
    from dataclasses import replace

    from skinseg_core.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
    from skinseg_core.face_colour import FaceColourGate

    network = load_checkpoint(tiny_checkpoint).model

    def described(gate: FaceColourGate) -> str:
        model = save_checkpoint(network, tmp_path / "gated.json", CheckpointMeta(name="tiny",
                                                                                 face_colour_gate=gate.to_dict()))
        card = render_card(model, _report("sfa", 2), {"forward_ms": 1.0})
        return next(line for line in card.splitlines() if line.startswith("- Input:"))

    both = described(replace(FaceColourGate(), slope_radius=2.5))
    assert "re-balanced before the network" in both and "beyond Mahalanobis distance 2.5" in both
    assert "levelled" in both and "docs/adr/0031" in both
    one_light = described(replace(FaceColourGate(), slope_radius=0.0))
    assert "re-balanced before the network" in one_light and "levelled" not in one_light


METHODS = ("model", "kovac-rgb", "chai-ngan-ycrcb")


def _set_result(n: int, mean: float = 0.7) -> dict:
    """One set's result with the same summary for the model and both rules."""
    summary = {k: {"mean": mean, "std": 0.2, "median": mean, "min": 0.3, "max": 0.9, "pooled": mean + 0.01}
               for k in ("jaccard", "dice", "background_jaccard")}
    return {"n": n, "methods": {m: {"summary": {**summary, "n": n}} for m in METHODS}}


def _report(set_name: str, n: int) -> dict:
    report = {"sets": {set_name: _set_result(n)}}
    report["markdown"] = report_markdown(report)
    return report


def test_model_card_shows_the_clinical_kfold(tiny_checkpoint):
    kfold = {"k": 3, "folds": [{"fold": i, "held_out": [], "model_jaccard": 0.6 + i / 100} for i in (1, 2, 3)],
             "sets": {"clinical_fitz17k (3-fold, held out)": _set_result(15)}}
    kfold["markdown"] = report_markdown(kfold)
    card = render_card(tiny_checkpoint, _report("lfw_parts", 15), {"forward_ms": 1.0}, kfold_report=kfold)
    assert "3-fold" in card and "fold 2: 0.620," in card and "polish blend" not in card
    # A fold whose polish blend stepped down says so.
    kfold["folds"][1]["polish_blend"] = 0.4
    card = render_card(tiny_checkpoint, _report("lfw_parts", 15), {"forward_ms": 1.0}, kfold_report=kfold)
    assert "fold 2: 0.620 (polish blend 0.4)," in card


def test_model_card_shows_the_finetuning_gain(tiny_checkpoint):
    # As benchmarks/finetune_gain.py writes it, background Jaccard ("bg_...") included.
    gain = {"model": "pre.json", "folds": [{"fold": 0, "in_use": 0.3, "w1": 0.8, "w1_s": 60.0, "w3": 0.9, "w3_s": 70.0,
                                            "bg_in_use": 0.2, "bg_w1": 0.3, "bg_w3": 0.4},
                                           {"fold": 1, "in_use": 0.5, "w1": 0.6, "w1_s": 50.0, "w3": 0.7, "w3_s": 40.0,
                                            "bg_in_use": 0.2, "bg_w1": 0.3, "bg_w3": 0.4}]}
    card = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0}, finetune_gain=gain)
    assert "changed pixels x3" in card and "| mean | 0.400 | 0.700 | 0.800 |" in card


def test_model_card_gives_the_int8_verdict_from_its_benchmark(tiny_checkpoint):
    # As benchmarks/int8_quantisation.py writes it (JSON keys of the batch sizes are text).
    int8 = {"calibration_photos": 135, "calibration_flip": True, "qualifies": False,
            "scores": {"sfa": {"fp32": [0.83, 0.92], "int8": [0.831, 0.92]},
                       "lfw_groups": {"fp32": [0.572, 0.861], "int8": [0.5605, 0.8603]}},
            "forward_ms": {"1": {"fp32": 14.0, "int8": 11.0}, "2": {"fp32": 28.0, "int8": 25.0}}}
    card = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0}, int8=int8)
    assert "calibrated on 135 training photos and their mirror images;" in card
    assert "largest change in test Jaccard -0.0115 (lfw_groups, skin; allowed 0.005), so inference stays fp32" in card
    assert "int8 / fp32 time 0.79 for one forward pass, 0.89 for two (the flip)" in card
    assert "int8 (ONNX Runtime" not in render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0})
    int8["qualifies"] = True
    assert "so inference runs int8" in render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0}, int8=int8)


def test_model_card_shows_table1_with_its_budget(tiny_checkpoint):
    report = _report("sfa", 2)
    without = render_card(tiny_checkpoint, report, {"forward_ms": 1.0})
    assert "Table I at this desktop size is not in this card yet" in without
    table1 = {"spec": {"pretrain_folders": ["/data/lfw_parts", "/data/sfa"], "folds": 3, "learning_rate": 0.002,
                       "model_overrides": {"widths": [8, 16]}, "max_pretrain_per_folder": 300,
                       "pretrain_settings": {"epochs": 10, "steps_per_epoch": 30, "batch_size": 16,
                                             "optimizer": "adamw", "augmentation": "strong"},
                       "clinical_settings": {"epochs": 12, "steps_per_epoch": 6}},
              "markdown": "| Model | # Param | Direct Transfer |\n|---|---:|---|\n| unet | 0.50M | 0.40 ± 0.20 |"}
    card = render_card(tiny_checkpoint, report, {"forward_ms": 1.0}, table1=table1)
    assert "### Paper Table I at desktop size" in card and "| unet | 0.50M | 0.40 ± 0.20 |" in card
    assert "lfw_parts, sfa" in card and "pretraining 10 epochs x 30 steps" in card and "adamw at 0.002" in card
    assert "not in this card yet" not in card and "background Jaccard (mean)" not in card
    low, high = (_set_result(6, mean=m)["methods"]["model"] for m in (0.21, 0.53))
    table1["architectures"] = {"unet": {"scenarios": {"direct_transfer": low, "fine_tuning": high}}}
    card = render_card(tiny_checkpoint, report, {"forward_ms": 1.0}, table1=table1)
    assert "unet: direct transfer 0.21, fine tuning 0.53." in card


def test_model_card_states_what_group_scale_costs(tiny_checkpoint):
    report = {"sets": {"lfw_parts": _set_result(927, mean=0.64), "lfw_groups": {**_set_result(37, mean=0.55),
                                                                                "description": "LFW tiled"}}}
    report["markdown"] = report_markdown(report)
    card = render_card(tiny_checkpoint, report, {"forward_ms": 1.0})
    assert "skin Jaccard 0.640 one by one, 0.550 tiled 5 x 5 as lfw_groups" in card
    assert "lfw_groups: LFW tiled." in card
    without = render_card(tiny_checkpoint, _report("lfw_parts", 927), {"forward_ms": 1.0})
    assert "one by one" not in without


def test_a_report_made_with_a_chosen_network_says_so():
    report = {"sets": {"sfa": _set_result(2)}}
    assert "--network" not in report_markdown(report) + report_markdown({**report, "network": "auto"})
    assert "model: run with `--network people` on every photo" in report_markdown({**report, "network": "people"})


def test_model_card_states_what_photos_without_a_face_in_view_cost(tiny_checkpoint):
    bodies = _set_result(18, mean=0.33)
    kovac = bodies["methods"]["kovac-rgb"]["summary"]
    kovac["background_jaccard"] = {**kovac["background_jaccard"], "mean": 0.79}  # the methods share the inner dicts
    report = {"sets": {"sfa": _set_result(2), "ecu_bodies": {**bodies, "description": "ECU cut below faces"}}}
    report["markdown"] = report_markdown(report)
    card = render_card(tiny_checkpoint, report, {"forward_ms": 1.0})
    limits = card.split("## Limits")[1]
    assert "(ecu_bodies: bodies, arms and hands)" in limits
    assert "test skin / background Jaccard 0.330 / 0.330, the Kovac rule 0.330 / 0.790" in limits
    assert "docs/adr/0036" in limits and "`--network people`" in limits
    assert "no face in view" not in render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0})


def test_a_new_card_can_carry_over_sections_a_change_did_not_touch(tiny_checkpoint):
    old = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0}, pretrained_report=_report("abdomen", 7),
                      finetune_gain={"model": "pre.json", "folds": [{"fold": 0, "in_use": 0.3, "w3": 0.9,
                                                                     "w3_s": 70.0}]})
    carried = carried_sections(old, ["The pretrained stage alone", "starting from `pre.json`"])
    new = render_card(tiny_checkpoint, _report("lfw_parts", 5), {"forward_ms": 2.0}, carried=carried)
    assert new.count("Carried over unchanged from the previous card") == 2
    pretrained = new.split("### The pretrained stage alone")[1]
    assert "| abdomen | 7 | model |" in pretrained and "| mean | 0.300 | 0.900 |" in new
    assert new.index("### Fine-tuning in the app") < new.index("### The pretrained stage alone")
    again = render_card(tiny_checkpoint, _report("lfw_parts", 5), {"forward_ms": 2.0},
                        carried=carried_sections(new, ["The pretrained stage alone::measured before the filter"]))
    assert again.count("Carried over unchanged") == 1 and "previous card: measured before the filter." in again
    # Carrying a carried section once more changes nothing (no blank line piles up between mark and body).
    thrice = render_card(tiny_checkpoint, _report("lfw_parts", 5), {"forward_ms": 2.0},
                         carried=carried_sections(again, ["The pretrained stage alone::measured before the filter"]))
    assert thrice == again
    kfold = {"k": 3, "folds": [{"fold": i, "held_out": [], "model_jaccard": 0.9} for i in (1, 2, 3)],
             "sets": {"clinical_fitz17k (3-fold, held out)": _set_result(15)}}
    kfold["markdown"] = report_markdown(kfold)
    with_kfold = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0}, kfold_report=kfold)
    moved = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0},
                        carried=carried_sections(with_kfold, ["### Clinical photos held out::its models were lost"]))
    assert moved.index("## Results") < moved.index("### Clinical photos held out") < moved.index("## Speed")
    assert "fold 2: 0.900" in moved
    with pytest.raises(ValueError, match="0 sections"):
        carried_sections(old, ["no such words"])
    with pytest.raises(ValueError, match="2 sections"):
        carried_sections(old, ["mean"])  # in the fine-tuning table and in the pretrained stage


def test_the_card_describes_the_guided_filter_when_the_model_uses_it(tmp_path, tiny_checkpoint):
    plain = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0})
    assert "colour guided filter" not in plain and "and the guided filter" not in plain
    refining = refining_copy(tiny_checkpoint, tmp_path / "refining.json", GuidedFilter(scale=0.2, max_radius=12.0))
    card = render_card(refining, _report("sfa", 2), {"forward_ms": 1.0, "photo_12mp_ms": 90.0, "test_time_flip": True,
                                                      "guided_filter": GuidedFilter().to_dict()})
    assert "colour guided filter" in card and "0.2 x the typical size of the skin regions" in card
    assert "within 2-12 network pixels" in card and "with the test-time flip and the guided filter" in card


def test_the_card_describes_the_face_colour_gate_when_the_model_uses_it(tmp_path, tiny_checkpoint):
    from skinseg_core.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
    from skinseg_core.face_colour import FaceColourGate

    plain = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 1.0})
    assert "face colour gate: a Gaussian" not in plain and "--no-face-gate" not in plain
    loaded = load_checkpoint(tiny_checkpoint)
    gate = FaceColourGate(distance=2.5, give_back_share=0.7)
    gating = save_checkpoint(loaded.model, tmp_path / "gating.json",
                             CheckpointMeta(name=loaded.name, face_colour_gate=gate.to_dict()))
    card = render_card(gating, _report("sfa", 2), {"forward_ms": 1.0, "photo_12mp_ms": 90.0, "test_time_flip": True,
                                                    "face_colour_gate": gate.to_dict(), "face_gate_ms": 50.0})
    assert "face colour gate: a Gaussian" in card and "Mahalanobis distance 2.5" in card and "at least 70%" in card
    assert "with the test-time flip and the face colour gate (both face searches and the gate on a 4:3 photo 50.0 ms)" in card


def test_a_new_card_can_carry_over_the_timings_of_a_day_the_machine_was_quiet(tiny_checkpoint):
    old = render_card(tiny_checkpoint, _report("sfa", 2), {"forward_ms": 14.5, "photo_12mp_ms": 124.2},
                      int8=None)
    slow_day = {"forward_ms": 38.8, "photo_12mp_ms": 317.5}
    speed = carried_speed(old, "this machine ran 2.3 times slower today")
    new = render_card(tiny_checkpoint, _report("sfa", 2), slow_day, carried_speed=speed)
    timings = new.split("## Speed on the machine that made this card")[1].split("## Limits")[0]
    assert "forward pass 14.5 ms" in timings and "124.2 ms" in timings and "38.8" not in timings
    assert "Carried over unchanged from the previous card: this machine ran 2.3 times slower today." in timings
    # Carried again, the mark is not repeated.
    again = render_card(tiny_checkpoint, _report("sfa", 2), slow_day,
                        carried_speed=carried_speed(new, "this machine ran 2.3 times slower today"))
    assert again == new
    with pytest.raises(ValueError, match="no speed section"):
        carried_speed("# a card without timings", "why")


@pytest.mark.needs_data
def test_the_validation_report_scores_validation_photos_only_and_ranks_runs(shared_data, tiny_checkpoint, tmp_path,
                                                                            monkeypatch):
    # Choosing between training runs looks at the validation splits, never the test sets (docs/adr/0015).
    import json
    import subprocess
    import sys

    from skinseg_core import report as report_module
    from skinseg_core.cli import main
    from skinseg_core.paths import repo_root
    from skinseg_core.recipes import dataset_splits

    monkeypatch.setattr(report_module, "VAL_SETS", ("ecu_subset",))  # keep the run short
    out = tmp_path / "val"
    assert main(["report", "--split", "val", "--model", str(tiny_checkpoint), "--data-root", str(shared_data),
                 "--out", str(out), "--device", "cpu"]) == 0
    report = json.loads((out / "report.json").read_text())
    splits = dataset_splits(shared_data)
    # ECU's validation photos under coloured light as well; the clinical photos have no validation split.
    assert report["split"] == "val" and list(report["sets"]) == ["ecu_subset", "lfw_groups", "lfw_crowds",
                                                                 "ecu_coloured_light", "ecu_bodies"]
    assert report["sets"]["ecu_subset"]["n"] == len(splits["ecu_subset"].val) == 12
    assert report["sets"]["ecu_coloured_light"]["n"] == 12 * 4
    assert report["sets"]["lfw_groups"]["n"] == len(splits["lfw_parts"].val) // 25 == 20
    assert report["sets"]["lfw_crowds"]["n"] == len(splits["lfw_parts"].val) // 256 == 1
    assert "LFW's validation photos tiled 5 x 5" in (out / "report.md").read_text()
    assert "LFW's validation photos tiled 16 x 16 into 1280 px pictures" in (out / "report.md").read_text()
    assert "ecu_subset's validation photos, each under four lights" in (out / "report.md").read_text()
    # ECU's validation photos cut below their faces: all but one have enough rows below the face (measured 11).
    assert 9 <= report["sets"]["ecu_bodies"]["n"] <= 12
    assert "ecu_subset's validation photos cut a third of a face's height below" in (out / "report.md").read_text()

    # Two runs: the copy whose ECU scores are raised ranks first, whatever order they are given in.
    better = json.loads(json.dumps(report))
    summary = better["sets"]["ecu_subset"]["methods"]["model"]["summary"]
    summary["jaccard"]["mean"] += 0.1
    (tmp_path / "better").mkdir()
    (tmp_path / "better" / "report.json").write_text(json.dumps(better))
    script = str(repo_root() / "scripts" / "rank_runs.py")
    paths = [str(out / "report.json"), str(tmp_path / "better" / "report.json")]
    table = subprocess.run([sys.executable, script, *paths], capture_output=True, text=True, check=True).stdout
    rows = [line for line in table.splitlines() if "report.json" in line]
    assert "better" in rows[0] and "ecu_subset skin / bg J" in table
    # Left out of the score, so that it compares with earlier runs'.
    assert "lfw_crowds" not in table and "coloured_light" not in table
    best = subprocess.run([sys.executable, script, "--best", *paths], capture_output=True, text=True, check=True)
    assert best.stdout.strip() == paths[1]


@pytest.mark.needs_data
def test_the_test_report_refuses_an_unknown_split(shared_data, tiny_checkpoint):
    from skinseg_core.report import bundled_report

    with pytest.raises(ValueError, match="split"):
        bundled_report(tiny_checkpoint, shared_data, device="cpu", split="train")

