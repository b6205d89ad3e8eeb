"""Driving the real main window as a user would: open, segment, threshold, switch photos, reopen, errors."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QApplication

import skinseg_core
from skinseg_core.devices import resolve_device
from skinseg_core.inference import describe_run
from skinseg_core.sidecar import NOT_SEGMENTED, SEGMENTED, Sidecar
from tests.app.conftest import message_boxes, write_generated_photos
from tests.model_files import refining_copy

WAIT_MS = 20_000


def wait_for_map(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.document is not None and window.document.display_map is not None
                    and window.document.rgb is not None, timeout=WAIT_MS)


def overlay_bytes(window) -> bytes:
    image = window.scene.overlay_item.pixmap().toImage()
    return bytes(image.constBits()) if not image.isNull() else b""


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_open_folder_segments_the_open_photo(qtbot, window, photo_folder: Path) -> None:
    before = digest(photo_folder)
    assert window.open_paths([photo_folder])
    wait_for_map(qtbot, window)
    assert window.photo_list.count() == 4
    first = window.photo_list.photos()[0]
    assert window.document.path == first
    qtbot.waitUntil(lambda: window.photo_list.status(first) == SEGMENTED, timeout=WAIT_MS)
    assert "% of the photo" in window.panel.area_label.text()
    assert not window.scene.overlay_item.pixmap().isNull()
    assert window.device_label.text().startswith("CPU")
    assert window.model_label.text() == "Model: tiny"
    assert digest(photo_folder) == before  # photos are never modified
    assert (photo_folder / ".skinseg" / "maps" / f"{first.name}.npz").exists()
    # thumbnails come from a worker
    qtbot.waitUntil(lambda: all(window.photo_list.item(i).icon().availableSizes()
                                for i in range(window.photo_list.count())), timeout=WAIT_MS)


def test_threshold_redraws_overlay_and_area_without_the_model(qtbot, window, photo_folder: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    window.open_paths([photo_folder])
    wait_for_map(qtbot, window)
    import app.segmentation

    monkeypatch.setattr(app.segmentation, "segment_photo", lambda *a: pytest.fail("the model ran again"))
    window.panel.threshold_spin.setValue(0.0)
    full_area, full_overlay = window.panel.area_label.text(), overlay_bytes(window)
    assert full_area.startswith("100.0 %")
    # A real drag on the slider's handle: press, moves with the button held, release.
    slider = window.panel.threshold_slider
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center().__class__(6, slider.height() // 2))
    assert slider.isSliderDown()
    from PySide6.QtGui import QMouseEvent

    for x in range(10, slider.width() - 2, 20):
        move = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(x, slider.height() / 2), QPointF(x, slider.height() / 2),
                           Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(slider, move)
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=slider.rect().center().__class__(slider.width() - 2,
                                                                                               slider.height() // 2))
    assert window.document.threshold_step > 80
    assert window.panel.threshold_spin.value() == pytest.approx(window.document.threshold)
    assert window.panel.area_label.text() != full_area
    assert overlay_bytes(window) != full_overlay
    skin, total = window.document.skin_area()
    assert skin == int(np.count_nonzero(window.document.prob.full() >= window.document.threshold))
    # one drag = one undo step
    assert window.document.undo_stack.count() == 2
    window.undo_action.trigger()
    assert window.panel.threshold_spin.value() == 0.0
    assert window.panel.area_label.text() == full_area


def test_overlay_modes_and_keys(qtbot, window, photo_folder: Path) -> None:
    window.open_paths([photo_folder])
    wait_for_map(qtbot, window)
    window.panel.threshold_spin.setValue(0.3)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_H)
    assert not window.panel.overlay_style.visible and not window.scene.overlay_item.isVisible()
    qtbot.keyClick(window.view, Qt.Key.Key_H)
    assert window.scene.overlay_item.isVisible()
    qtbot.keyClick(window.view, Qt.Key.Key_C)
    assert window.panel.mode_combo.currentText() == "Contour"
    assert window.scene.contour_item.isVisible() and not window.scene.overlay_item.isVisible()
    qtbot.keyClick(window.view, Qt.Key.Key_U)
    assert window.panel.overlay_style.uncertainty and window.scene.overlay_item.isVisible()


def test_keys_switch_photos(qtbot, window, photo_folder: Path) -> None:
    window.open_paths([photo_folder])
    photos = window.photo_list.photos()
    window.view.setFocus()
    for key, index in ((Qt.Key.Key_D, 1), (Qt.Key.Key_Right, 2), (Qt.Key.Key_Right, 3), (Qt.Key.Key_Right, 3),
                       (Qt.Key.Key_A, 2), (Qt.Key.Key_Left, 1)):
        qtbot.keyClick(window.view, key)
        assert window.document.path == photos[index]
    wait_for_map(qtbot, window)
    assert window.windowTitle().startswith(f"{photos[1].name} (2 of 4)")


def test_segment_all_keeps_the_gui_responsive(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    write_generated_photos(folder, count=16, size=(480, 360))
    window.settings.auto_segment = False
    window.open_paths([folder])
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    with qtbot.waitSignal(window.service.batch_finished, timeout=60_000) as finished:
        window.segment_all()
        assert window.progress_bar.isVisible()
    timer.stop()
    done, total, cancelled, failed = finished.args
    assert (done, total, cancelled, failed) == (16, 16, False, [])
    assert len(ticks) >= 5  # the GUI thread kept processing timers while the model ran on a worker
    assert all(window.photo_list.status(p) == SEGMENTED for p in window.photo_list.photos())
    assert not window.progress_bar.isVisible()


def test_cancel_segment_all(qtbot, window, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    write_generated_photos(folder, count=24)
    window.settings.auto_segment = False
    window.open_paths([folder])
    with qtbot.waitSignal(window.service.batch_finished, timeout=WAIT_MS) as finished:
        window.segment_all()
        window.cancel_button.click()
    done, total, cancelled, _ = finished.args
    assert cancelled and total == 24 and done < 24
    qtbot.waitUntil(lambda: not window.service.busy, timeout=WAIT_MS)
    assert any(window.photo_list.status(p) == NOT_SEGMENTED for p in window.photo_list.photos())


def test_reopening_the_folder_restores_everything(qtbot, make_window, photo_folder: Path) -> None:
    first = make_window()
    first.open_paths([photo_folder])
    with qtbot.waitSignal(first.service.batch_finished, timeout=WAIT_MS):
        first.segment_all()
    wait_for_map(qtbot, first)
    first.panel.threshold_spin.setValue(0.27)
    first.close()

    second = make_window()
    import app.segmentation

    calls = []
    original = app.segmentation.segment_photo
    app.segmentation.segment_photo = lambda *a: calls.append(a) or original(*a)
    try:
        second.open_paths([photo_folder])
        assert all(second.photo_list.status(p) == SEGMENTED for p in second.photo_list.photos())
        assert second.document.display_map is not None  # from the sidecar cache, at once
        assert second.panel.threshold_spin.value() == pytest.approx(0.27)
        wait_for_map(qtbot, second)
    finally:
        app.segmentation.segment_photo = original
    assert calls == []
    assert second.settings.recent_folders()[0] == photo_folder.absolute()
    assert second.recent_menu.actions()[0].text() == str(photo_folder.absolute())


def test_closing_the_window_leaves_no_work_behind(qtbot, window, photo_folder: Path) -> None:
    """Results already on their way to the GUI thread when the window closes are still delivered; what their slots
    ask for (the neighbours' prefetch, say) must not start a thread that outlives the window."""
    window.open_paths([photo_folder])  # the first photo's decode and segmentation are in flight
    window.close()
    for _ in range(5):
        QApplication.processEvents()
    assert window.io_pool.pending == 0 and not window.io_pool.busy
    assert window.service.pool.pending == 0 and not window.service.pool.busy


def test_corrupt_photo_shows_an_error_dialog(qtbot, window, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    window.open_paths([broken])
    qtbot.waitUntil(lambda: bool(message_boxes()), timeout=WAIT_MS)
    box = message_boxes()[0]
    assert box.windowTitle() == "Could not open the photo"
    assert "broken.jpg" in box.text() and "damaged" in box.text()
    qtbot.waitUntil(lambda: window.photo_list.status(broken) == "unreadable", timeout=WAIT_MS)
    box.close()


def test_empty_folder_says_so(qtbot, window, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert not window.open_paths([tmp_path / "empty"])
    assert "no photos" in message_boxes()[0].text()


def test_without_a_model_photos_can_still_be_viewed(qtbot, make_window, photo_folder: Path, tmp_path: Path) -> None:
    window = make_window(model_path=tmp_path / "missing" / "model.json")
    assert window.model_label.text() == "No model — viewing only"
    window.open_paths([photo_folder])
    qtbot.waitUntil(lambda: window.document.rgb is not None, timeout=WAIT_MS)
    assert not window.scene.photo_item.pixmap().isNull()
    assert window.document.display_map is None
    window.segment_action.trigger()
    box = message_boxes()[0]
    assert "missing" in box.text() and "Could not segment" in box.windowTitle()


def test_drop_a_folder(qtbot, window, photo_folder: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_folder))])
    enter = QDragEnterEvent(QPoint(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert window.photo_list.count() == 4


def test_unexpected_errors_are_logged_and_shown(qtbot, window, caplog: pytest.LogCaptureFixture) -> None:
    from app.errors import excepthook

    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        excepthook(RuntimeError, exc, exc.__traceback__)
    box = message_boxes()[0]
    assert box.windowTitle() == "Unexpected error" and "boom" in box.text() and "keeps running" in box.text()
    assert "Traceback" in caplog.text and "boom" in caplog.text


def test_layout_theme_and_about(qtbot, make_window) -> None:
    window = make_window()
    window.set_theme("dark")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() < 80
    window.resize(700, 520)  # the offscreen screen is 800 x 600; restoreGeometry keeps windows on screen
    window.close()
    again = make_window()
    assert again.settings.theme == "dark"
    assert (again.width(), again.height()) == (700, 520)
    again.set_theme("light")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 180
    about = again.show_about()
    assert "research use" in " ".join(label.text() for label in about.findChildren(type(again.zoom_label)))
    assert skinseg_core.__version__ in about.findChildren(type(again.zoom_label))[0].text()
    about.close()
    # every action with a shortcut names it in its tooltip
    for action in (again.next_action, again.segment_all_action, again.overlay_action, again.open_folder_action):
        assert "(" in action.toolTip() and action.shortcut().toString() in action.toolTip()


def test_a_model_that_refines_edges_says_so_and_remakes_older_maps(qtbot, make_window, photo_folder: Path,
                                                                   tiny_model: Path, tmp_path: Path) -> None:
    first = make_window()
    first.open_paths([photo_folder])
    with qtbot.waitSignal(first.service.batch_finished, timeout=WAIT_MS):
        first.segment_all()
    assert "edges refined" not in first.device_label.text()
    first.close()
    photos = sorted(p for p in photo_folder.iterdir() if p.is_file())
    plain_maps = {p.name: Sidecar(photo_folder).read_map(p) for p in photos}
    assert all(m.small.shape == (32, 32) for m in plain_maps.values())  # the network's own square map

    # The same weights and name, now asking for the guided filter: every map made before is out of date.
    refining = refining_copy(tiny_model, tmp_path / "refining" / "tiny.json")
    second = make_window(model_path=refining)
    # The status bar says how maps are made as soon as the model is chosen, before any photo is segmented.
    assert "edges refined" in second.device_label.text() and "flip" not in second.device_label.text()
    second.open_paths([photo_folder])
    assert all(second.photo_list.status(p) == NOT_SEGMENTED for p in second.photo_list.photos()[1:])
    wait_for_map(qtbot, second)
    qtbot.waitUntil(lambda: "edges refined" in second.device_label.text(), timeout=WAIT_MS)
    with qtbot.waitSignal(second.service.batch_finished, timeout=WAIT_MS):
        second.segment_all()
    assert all(second.photo_list.status(p) == SEGMENTED for p in second.photo_list.photos())
    for photo in photos:
        refined = Sidecar(photo_folder).read_map(photo)
        assert refined.small.shape == (48, 64)  # the photo's 4:3 aspect at twice the network's input
        assert np.abs(refined.full() - plain_maps[photo.name].full()).max() > 0.01
    second.close()
    # Every map now comes from the cache, so no photo is segmented again: the status bar still says how they were made.
    third = make_window(model_path=refining)
    third.open_paths([photo_folder])
    assert all(third.photo_list.status(p) == SEGMENTED for p in third.photo_list.photos())
    assert third.device_label.text() == describe_run(resolve_device(third.service.device), flip=False, refined=True)
