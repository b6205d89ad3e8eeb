"""Fine-tuning from the app: a real (tiny) fine-tune in a separate process from the button to adopt and roll back;
Cancel in the middle; the process killed; too few corrected photos."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QToolBar

from skinseg_core import paths, versions
from skinseg_core.sidecar import CORRECTED, SEGMENTED
from skinseg_core.training import TrainSettings
from tests.app.conftest import message_boxes
from tests.corrected import write_corrected_folder

WAIT_MS = 120_000
QUICK = TrainSettings(learning_rate=0.001, epochs=2, patience=5, batch_size=2)
ENDLESS = TrainSettings(learning_rate=0.001, epochs=100_000, patience=100_000, batch_size=2)


@pytest.fixture
def bundled(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The tiny model plays the bundled one, so the tests can roll back to it."""
    monkeypatch.setattr(paths, "bundled_model_path", lambda: tiny_model)
    return tiny_model


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_corrected_folder(tmp_path / "photos", corrected=5, uncorrected=1)
    return tmp_path / "photos"


@pytest.fixture
def ready(make_window, bundled: Path, folder: Path, qtbot):
    window = make_window(model_path=None)
    assert window.open_paths([folder])
    qtbot.waitUntil(lambda: len(window.corrected_photos()) == 5, timeout=WAIT_MS)
    _wait_for_io(qtbot, window)
    return window


def _wait_for_io(qtbot, window) -> None:
    # Thumbnails and the first photo load on the io pool; a window closed while they land starts more loads.
    qtbot.waitUntil(lambda: window.document is not None and window.io_pool.pending == 0, timeout=WAIT_MS)


def _click_toolbar(qtbot, window, action) -> None:
    toolbar = window.findChild(QToolBar, "main_toolbar")
    button = toolbar.widgetForAction(action)
    assert button is not None and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _record_events(window) -> list[dict]:
    events: list[dict] = []
    window.finetune.progress.connect(events.append)
    return events


def _start_endless_job(window, qtbot):
    """Start a job that would train for ever and wait until it is training; returns its process."""
    window.finetune_settings = ENDLESS
    events = _record_events(window)
    assert window.start_finetune()
    qtbot.waitUntil(lambda: any(e["event"] in ("step", "epoch") for e in events), timeout=WAIT_MS)
    return window.finetune.process


def test_fine_tune_compare_adopt_and_roll_back(ready, qtbot, folder: Path, bundled: Path) -> None:
    window = ready
    window.finetune_settings = QUICK
    assert window.model_label.text() == "Model: tiny (bundled)"
    events = _record_events(window)

    with qtbot.waitSignal(window.finetune.succeeded, timeout=WAIT_MS):
        _click_toolbar(qtbot, window, window.finetune_action)
        assert window.finetune_dock.isVisible()
        assert not window.finetune_action.isEnabled()  # one job at a time
    panel = window.finetune_panel
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert [epoch for epoch, _ in panel.plot.jaccards] == [1, 2]  # plotted live, one point per epoch
    assert panel.epoch_label.text() == "Epoch 2 of at most 2"
    assert panel.jaccard_label.text().startswith("Held-out Jaccard ")
    assert panel.remaining_label.text().startswith("Time remaining")

    # The comparison: both models on the 2 held-out photos, with thumbnails of both masks.
    assert panel.stack.currentWidget() is panel.compare_page
    assert "Jaccard" in panel.summary_label.text() and "Dice" in panel.summary_label.text()
    for row in range(2):
        for key in ("photo", "active", "new"):
            thumb = panel.findChild(QLabel, f"thumb_{row}_{key}")
            assert thumb is not None and not thumb.pixmap().isNull()
    assert window.model_label.text() == "Model: tiny (bundled)"  # nothing changes before Adopt

    uncorrected = folder / "photo05.png"
    with qtbot.waitSignal(window.service.batch_finished, timeout=WAIT_MS) as finished:
        qtbot.mouseClick(panel.adopt_button, Qt.MouseButton.LeftButton)
    assert finished.args[:3] == [1, 1, False]  # only the photo that is not corrected is segmented again
    active = versions.active_version()
    assert active is not None and active.id.startswith("v001-")
    assert window.model_label.text() == f"Model: {active.id} (fine-tuned)"
    assert window.service.model.path == active.path
    assert active.card["parent"] == "tiny" and len(active.card["photos"]) == 5
    assert set(active.card["metrics"]) == {"active", "new"}
    qtbot.waitUntil(lambda: window.photo_list.status(uncorrected) == SEGMENTED, timeout=WAIT_MS)
    record = window.service.sidecar(uncorrected).record(uncorrected)
    assert record.model["sha256"] == window.service.model.stamp.sha256
    assert all(window.photo_list.status(folder / f"photo{i:02d}.png") == CORRECTED for i in range(5))
    assert not window.finetune_dock.isVisible()

    # Roll back to the bundled model from the Model Versions dialog.
    dialog = window.show_versions()
    assert dialog.ids() == [versions.BUNDLED, active.id]
    dialog.select(versions.BUNDLED)
    with qtbot.waitSignal(window.service.batch_finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert window.model_label.text() == "Model: tiny (bundled)"
    assert versions.active_version().bundled
    assert window.service.model.path == bundled


def test_cancel_in_the_middle_keeps_the_model(ready, qtbot) -> None:
    window = ready
    process = _start_endless_job(window, qtbot)
    with qtbot.waitSignal(window.finetune.cancelled, timeout=30_000):
        qtbot.mouseClick(window.finetune_panel.cancel_button, Qt.MouseButton.LeftButton)
    assert process.poll() is not None
    assert not process.job_dir.exists()
    assert not window.finetune_dock.isVisible()
    assert window.model_label.text() == "Model: tiny (bundled)"
    assert [v.id for v in versions.list_versions()[0]] == [versions.BUNDLED]
    assert window.finetune_action.isEnabled()
    assert not message_boxes()


def test_a_killed_process_is_reported_and_the_app_recovers(ready, qtbot, folder: Path, bundled: Path) -> None:
    window = ready
    process = _start_endless_job(window, qtbot)
    with qtbot.waitSignal(window.finetune.failed, timeout=30_000) as failed:
        os.kill(process.pid, signal.SIGKILL)
    assert "stopped unexpectedly" in failed.args[0] and "unchanged" in failed.args[0]
    qtbot.waitUntil(lambda: bool(message_boxes()), timeout=WAIT_MS)
    assert "stopped unexpectedly" in message_boxes()[0].text()
    assert not (process.job_dir / "result").exists()
    assert window.service.model.path == bundled and window.model_label.text() == "Model: tiny (bundled)"
    assert [v.id for v in versions.list_versions()[0]] == [versions.BUNDLED]
    # The app goes on working: it can fine-tune again and segment with the model it had.
    assert window.finetune_action.isEnabled()
    with qtbot.waitSignal(window.service.batch_finished, timeout=WAIT_MS) as finished:
        window.segment_all()
    assert finished.args[2] is False and not finished.args[3]
    assert window.photo_list.status(folder / "photo05.png") == SEGMENTED


def test_closing_the_window_stops_the_process(make_window, bundled: Path, folder: Path, qtbot) -> None:
    window = make_window(model_path=None)
    window.open_paths([folder])
    qtbot.waitUntil(lambda: len(window.corrected_photos()) == 5, timeout=WAIT_MS)
    _wait_for_io(qtbot, window)
    window.finetune_settings = ENDLESS
    assert window.start_finetune()
    process = window.finetune.process
    window.close()
    assert process.poll() is not None


def test_too_few_corrected_photos_says_how_many_are_needed(make_window, bundled: Path, tmp_path: Path,
                                                         qtbot) -> None:
    write_corrected_folder(tmp_path / "few", corrected=2, uncorrected=2)
    window = make_window(model_path=None)
    window.open_paths([tmp_path / "few"])
    qtbot.waitUntil(lambda: len(window.corrected_photos()) == 2, timeout=WAIT_MS)
    assert not window.start_finetune()
    qtbot.waitUntil(lambda: bool(message_boxes()), timeout=WAIT_MS)
    assert "at least 4 corrected photos" in message_boxes()[0].text()
    assert "Correct 2 more photos" in message_boxes()[0].text()
    assert window.finetune.process is None
