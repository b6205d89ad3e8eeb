"""The canvas: zoom around the cursor, fit and 100 %, pan with middle-drag and space-drag (real mouse events)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.app.conftest import write_generated_photos


@pytest.fixture
def big_photo_window(qtbot, make_window, tmp_path: Path):
    folder = tmp_path / "big"
    write_generated_photos(folder, count=1, size=(2400, 1800))
    window = make_window(long_side=1200)
    window.settings.auto_segment = False
    window.open_paths([folder])
    qtbot.waitUntil(lambda: window.document.rgb is not None, timeout=20_000)
    return window


def _mouse(view, kind, pos: QPoint, button, buttons) -> None:
    event = QMouseEvent(kind, QPointF(pos), QPointF(view.viewport().mapToGlobal(pos)), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), event)


def drag(view, start: QPoint, end: QPoint, button: Qt.MouseButton) -> None:
    _mouse(view, QMouseEvent.Type.MouseButtonPress, start, button, button)
    for i in range(1, 6):
        point = start + (end - start) * (i / 5)
        _mouse(view, QMouseEvent.Type.MouseMove, point, Qt.MouseButton.NoButton, button)
    _mouse(view, QMouseEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton)


def test_scene_is_in_full_resolution_pixels(big_photo_window) -> None:
    window = big_photo_window
    assert window.document.rgb.shape[:2] == (900, 1200)  # decoded for display
    assert window.scene.sceneRect().width() == 2400  # but placed in full-resolution coordinates
    assert window.scene.photo_item.sceneBoundingRect().width() == pytest.approx(2400)


def test_fit_and_actual_size(big_photo_window) -> None:
    view = big_photo_window.view
    view.fit()
    assert view.zoom_percent() < 100
    assert big_photo_window.zoom_label.text().endswith("%")
    big_photo_window.actual_size_action.trigger()
    assert view.zoom_percent() == pytest.approx(100.0)
    assert view.transform().m11() == pytest.approx(1.0 / view.devicePixelRatioF())


def test_wheel_zooms_around_the_cursor(big_photo_window) -> None:
    view = big_photo_window.view
    view.fit()
    anchor = QPoint(view.viewport().width() // 3, view.viewport().height() // 3)
    before = view.mapToScene(anchor)
    zoom = view.zoom_percent()
    wheel = QWheelEvent(QPointF(anchor), QPointF(view.viewport().mapToGlobal(anchor)), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom_percent() == pytest.approx(zoom * 1.25**2, rel=1e-3)
    after = view.mapToScene(anchor)
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2
    assert not view.fit_mode


@pytest.mark.parametrize("how", ["middle", "space"])
def test_pan(qtbot, big_photo_window, how: str) -> None:
    view = big_photo_window.view
    view.actual_size()
    view.setFocus()
    centre = view.viewport().rect().center()
    before = view.mapToScene(centre)
    if how == "middle":
        drag(view, centre, centre + QPoint(-80, -50), Qt.MouseButton.MiddleButton)
    else:
        qtbot.keyPress(view, Qt.Key.Key_Space)
        drag(view, centre, centre + QPoint(-80, -50), Qt.MouseButton.LeftButton)
        qtbot.keyRelease(view, Qt.Key.Key_Space)
    after = view.mapToScene(centre)
    # dragging the photo up-left shows what was down-right of the centre
    scale = view.transform().m11()
    assert after.x() - before.x() == pytest.approx(80 / scale, abs=2 / scale)
    assert after.y() - before.y() == pytest.approx(50 / scale, abs=2 / scale)


def test_left_drag_without_space_does_not_pan(big_photo_window) -> None:
    view = big_photo_window.view
    view.actual_size()
    centre = view.viewport().rect().center()
    before = view.mapToScene(centre)
    drag(view, centre, centre + QPoint(-80, -50), Qt.MouseButton.LeftButton)
    assert view.mapToScene(centre) == before


def test_zooming_in_loads_the_full_resolution(qtbot, big_photo_window) -> None:
    window = big_photo_window
    view = window.view
    assert not window.document.full_resolution
    view.actual_size()  # 100 %: one photo pixel per screen pixel, more than the 1200 px display version has
    qtbot.waitUntil(lambda: window.document.full_resolution, timeout=20_000)
    assert window.document.rgb.shape[:2] == (1800, 2400)
    assert window.scene.photo_item.pixmap().width() == 2400
    assert window.scene.photo_item.sceneBoundingRect().width() == pytest.approx(2400)
    assert view.zoom_percent() == pytest.approx(100.0)  # swapped in place, the zoom stays


def test_wheel_zoom_keeps_the_cursor_point_when_the_photo_starts_to_overflow(big_photo_window) -> None:
    """Zooming from "fits vertically, overflows sideways" to "overflows both ways" (at 200 % screen scaling this is
    the 100 % view of a 12 MP photo) used to shift the photo by half a scroll bar."""
    view = big_photo_window.view
    vp = view.viewport()
    big_photo_window.resize(1000, 800)
    QApplication.processEvents()
    low, high = vp.width() / 2400, vp.height() / 1800  # overflows sideways above low, fits vertically below high
    assert low < high, (vp.width(), vp.height())
    scale = (low + high) / 2
    from PySide6.QtGui import QTransform

    view.setTransform(QTransform.fromScale(scale, scale))
    anchor = QPoint(vp.width() // 2 + 40, vp.height() // 2 + 25)
    before = view.mapToScene(anchor)
    wheel = QWheelEvent(QPointF(anchor), QPointF(vp.mapToGlobal(anchor)), QPoint(0, 0), QPoint(0, 360),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, wheel)
    QApplication.processEvents()
    after = view.mapToScene(anchor)
    assert abs(after.x() - before.x()) < 2 and abs(after.y() - before.y()) < 2
    assert not view.horizontalScrollBar().isVisible() and not view.verticalScrollBar().isVisible()
