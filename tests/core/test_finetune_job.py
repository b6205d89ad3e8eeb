"""Fine-tuning jobs: the corrected photos, the held-out split, progress lines, the atomic result, stop and kill."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from skinseg_core import finetune_job
from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.errors import DataError
from skinseg_core.imageio import read_mask
from skinseg_core.inference import Segmenter
from skinseg_core.metrics import confusion, jaccard
from skinseg_core.finetune_job import FinetuneProcess, JobSpec, check_enough, corrected_photos, run_job
from skinseg_core.refine import GuidedFilter
from skinseg_core.training import TrainSettings
from tests.model_files import refining_copy
from tests.corrected import write_corrected_folder

QUICK = TrainSettings(learning_rate=0.001, epochs=2, patience=5, batch_size=2).to_dict()


def _events(job_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (job_dir / "progress.jsonl").read_text().splitlines()]


def test_too_few_corrected_photos_says_how_many_are_needed(tmp_path: Path) -> None:
    photos = write_corrected_folder(tmp_path / "photos", corrected=2, uncorrected=3)
    found = corrected_photos([tmp_path / "photos"])
    assert found == photos[:2]
    with pytest.raises(DataError, match=r"at least 4 corrected photos.*there are 2.*Correct 2 more photos"):
        check_enough(len(found))
    check_enough(4)


def test_a_job_trains_holds_out_and_compares(tmp_path: Path, tiny_checkpoint: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    photos = write_corrected_folder(tmp_path / "photos", corrected=5)
    job = tmp_path / "job"
    # A parent that runs with the test-time flip and the guided filter (as the bundled model does): the fine-tuned
    # model must too.
    parent = refining_copy(tiny_checkpoint, tmp_path / "tiny.json", test_time_flip=True)
    JobSpec([str(p) for p in photos], str(parent), QUICK, device="cpu", changed_weight=3.0,
            threads=1).write(job)
    # The tiny untrained networks call no pixel skin on these photos, so the scores alone cannot show how the new
    # model was run in the comparison: record it.
    made: list[Segmenter] = []
    monkeypatch.setattr(Segmenter, "__init__", lambda self, *a, _init=Segmenter.__init__, **k: (
        _init(self, *a, **k), made.append(self))[0])
    assert run_job(job) == 0
    assert [(s.tta, s.guided_filter) for s in made] == [(True, GuidedFilter())] * 2  # active, new: as they run

    events = _events(job)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "preparing" and kinds[-1] == "done"
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(0.0 <= e["val_jaccard"] <= 1.0 and e["remaining_s"] >= 0 for e in epochs)
    assert epochs[-1]["remaining_s"] == 0

    result = job / "result"
    comparison = json.loads((result / "comparison.json").read_text())
    assert len(comparison["held_out"]) == 2 and len(comparison["train_photos"]) == 3  # >= 20 % and >= 2
    assert not set(comparison["held_out"]) & set(comparison["train_photos"])
    assert comparison["changed_weight"] == 3.0 and comparison["settings"]["learning_rate"] == 0.001
    for key in ("active", "new"):
        assert set(comparison["summary"][key]) == {"jaccard", "dice"}
    for row in comparison["photos"]:
        for thumb in row["thumbs"].values():
            assert (result / thumb).is_file()
    model = load_checkpoint(result / "model.json")
    assert model.info["parent"] == "tiny" and model.test_time_flip and model.guided_filter == GuidedFilter()
    # The "new" column scores the model as it is saved and will run (with its parent's flip and filter), not the bare
    # run.
    saved = Segmenter(result / "model.json", device="cpu", backend="torch")
    for row in comparison["photos"]:
        (mask,) = (job / "data" / "masks").glob(f"*-{Path(row['photo']).stem}.png")
        prediction = saved.predict(row["photo"])
        counts = confusion(prediction.mask(model.threshold), read_mask(mask, size=prediction.photo.full_size))
        assert row["new"]["jaccard"] == pytest.approx(jaccard(counts), abs=1e-9)
    assert not list(job.glob(".result-*"))


def test_a_stop_request_ends_the_job_without_a_result(tmp_path: Path, tiny_checkpoint: Path) -> None:
    photos = write_corrected_folder(tmp_path / "photos", corrected=4)
    job = tmp_path / "job"
    JobSpec([str(p) for p in photos], str(tiny_checkpoint), QUICK, device="cpu", threads=1).write(job)
    (job / "stop").touch()
    assert run_job(job) == finetune_job.EXIT_CANCELLED
    assert _events(job)[-1]["event"] == "cancelled"
    assert not (job / "result").exists()


def test_a_job_with_too_few_photos_reports_an_error(tmp_path: Path, tiny_checkpoint: Path) -> None:
    photos = write_corrected_folder(tmp_path / "photos", corrected=3)
    job = tmp_path / "job"
    JobSpec([str(p) for p in photos], str(tiny_checkpoint), QUICK, device="cpu", threads=1).write(job)
    assert run_job(job) == finetune_job.EXIT_ERROR
    assert "at least 4 corrected photos" in _events(job)[-1]["message"]


def test_a_killed_child_process_leaves_no_model(tmp_path: Path, tiny_checkpoint: Path) -> None:
    photos = write_corrected_folder(tmp_path / "photos", corrected=4)
    job = tmp_path / "job"
    many = dict(QUICK, epochs=10_000, patience=10_000)
    process = FinetuneProcess(job)
    process.start(JobSpec([str(p) for p in photos], str(tiny_checkpoint), many, device="cpu", threads=1))
    seen: list[dict] = []
    while not any(e["event"] in ("step", "epoch") for e in seen):  # wait until it trains
        assert process.wait(0.05) is None, (job / "child.log").read_text()
        seen += process.read_events()
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(30) == -signal.SIGKILL
    assert process.result_dir() is None
    assert not (job / "result").exists()
    assert load_checkpoint(tiny_checkpoint).name == "tiny"  # the source is untouched


def test_the_command_line_runs_the_same_job_and_can_adopt(tmp_path: Path, tiny_checkpoint: Path, capsys,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from skinseg_core import paths, versions
    from skinseg_core.cli import main

    monkeypatch.setenv("SKINSEG_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setattr(paths, "bundled_model_path", lambda: tiny_checkpoint)
    write_corrected_folder(tmp_path / "photos", corrected=4, uncorrected=1)
    out = tmp_path / "out" / "clinic.json"
    code = main(["finetune", "--corrected", str(tmp_path / "photos"), "--from", str(tiny_checkpoint), "--out",
                 str(out), "--epochs", "1", "--batch-size", "2", "--device", "cpu", "--changed-weight", "2",
                 "--adopt"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "held-out Jaccard: in use" in printed and "adopted as v001-" in printed
    assert load_checkpoint(out).name == "clinic"
    active = versions.active_version()
    assert active is not None and active.id.startswith("v001-") and paths.default_model_path() == active.path
    assert len(active.card["held_out"]) == 2


def test_the_command_line_says_how_many_corrected_photos_are_needed(tmp_path: Path, tiny_checkpoint: Path,
                                                                    capsys) -> None:
    from skinseg_core.cli import main

    write_corrected_folder(tmp_path / "photos", corrected=1, uncorrected=1)
    code = main(["finetune", "--corrected", str(tmp_path / "photos"), "--from", str(tiny_checkpoint), "--out",
                 str(tmp_path / "new.json")])
    assert code == 2
    assert "Correct 3 more photos" in capsys.readouterr().err


def test_pixels_the_user_changed_weigh_more(tmp_path: Path, tiny_checkpoint: Path) -> None:
    import numpy as np

    from skinseg_core.imageio import read_mask

    photos = write_corrected_folder(tmp_path / "photos", corrected=4)
    job = tmp_path / "job"
    spec = JobSpec([str(p) for p in photos], str(tiny_checkpoint), QUICK, changed_weight=3.0)
    pairs, weights = finetune_job._prepare(spec, job)
    for pair, weight in zip(pairs, weights):
        mask = read_mask(pair.mask).astype(bool)
        assert weight is not None and weight.shape == mask.shape
        assert set(np.unique(weight)) == {1.0, 3.0}
        # The kept prediction was a smaller disc: the ring the user added is exactly what weighs more.
        assert np.all(weight[~mask] == 1.0) and (weight == 3.0).sum() < mask.sum()
    spec.changed_weight = 1.0
    assert finetune_job._prepare(spec, tmp_path / "job2")[1] == [None] * 4
