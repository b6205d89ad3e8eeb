"""Correcting masks with real mouse events on the canvas: brush, eraser, polygon, splines, fill holes, islands;
undo and redo; autosave and the journal (including a killed app); effort; shortcuts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QLabel

from app.autosave import SAVE_DELAY_MS
from skinseg_core.imageio import read_mask
from skinseg_core.probmap import ProbabilityMap
from skinseg_core.sidecar import CORRECTED

REPO = Path(__file__).resolve().parents[2]
WAIT_MS = 20_000


def disc_map(full_size: tuple[int, int]) -> ProbabilityMap:
    """A map whose mask at 0.5 is an ellipse filling the middle of the photo, with a hole in it."""
    yy, xx = np.mgrid[0:64, 0:64]
    r = np.hypot(xx - 31.5, yy - 31.5)
    small = (1 / (1 + np.exp(-(22 - r) * 2)) / (1 + np.exp(-(r - 5) * 2))).astype(np.float32)  # a smooth ring
    return ProbabilityMap(small=small, full_size=full_size)


@pytest.fixture
def editing(qtbot, make_window, photo_folder: Path):
    window = make_window()
    window.settings.auto_segment = False
    window.open_paths([photo_folder])
    qtbot.waitUntil(lambda: window.document.rgb is not None, timeout=WAIT_MS)
    window.document.set_map(disc_map(window.document.full_size))
    window.view.fit()
    window.view.setFocus()
    return window


def model_mask(window) -> np.ndarray:
    return window.document.prob.mask(window.document.threshold).astype(np.uint8)


def at(window, x: float, y: float) -> QPoint:
    return window.view.mapFromScene(QPointF(x, y))


def move(window, x: float, y: float, buttons=Qt.MouseButton.LeftButton) -> None:
    vp = window.view.viewport()
    pos = QPointF(at(window, x, y))
    event = QMouseEvent(QMouseEvent.Type.MouseMove, pos, QPointF(vp.mapToGlobal(pos)), Qt.MouseButton.NoButton,
                        buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, event)


def drag(qtbot, window, points: list[tuple[float, float]], modifier=Qt.KeyboardModifier.NoModifier) -> None:
    vp = window.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, modifier, at(window, *points[0]))
    for x, y in points[1:]:
        move(window, x, y)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, modifier, at(window, *points[-1]))


def click(qtbot, window, x: float, y: float, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifier, at(window, x, y))


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.view, k, modifier)


def test_shortcuts_switch_tools(qtbot, editing) -> None:
    window = editing
    for k, name in ((Qt.Key.Key_B, "brush"), (Qt.Key.Key_E, "eraser"), (Qt.Key.Key_P, "polygon"),
                    (Qt.Key.Key_N, "spline"), (Qt.Key.Key_V, None)):
        key(qtbot, window, k)
        assert window.view.tool is (window.tools[name] if name else None)
    assert window.tool_actions["navigate"].isChecked()
    key(qtbot, window, Qt.Key.Key_X)
    assert window.editor.subtract
    key(qtbot, window, Qt.Key.Key_X)
    assert not window.editor.subtract


def test_brush_size_keys_and_ctrl_wheel(qtbot, editing) -> None:
    window = editing
    key(qtbot, window, Qt.Key.Key_B)
    size = window.editor.brush_size
    key(qtbot, window, Qt.Key.Key_BracketRight)
    assert window.editor.brush_size > size and window.correct_panel.brush_spin.value() == window.editor.brush_size
    key(qtbot, window, Qt.Key.Key_BracketLeft)
    key(qtbot, window, Qt.Key.Key_BracketLeft)
    assert window.editor.brush_size < size
    from PySide6.QtGui import QWheelEvent

    zoom = window.view.zoom_percent()
    before = window.editor.brush_size
    vp = window.view.viewport()
    wheel = QWheelEvent(QPointF(50, 50), QPointF(vp.mapToGlobal(QPoint(50, 50))), QPoint(0, 0), QPoint(0, 240),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase,
                        False)
    QApplication.sendEvent(vp, wheel)
    assert window.editor.brush_size > before and window.view.zoom_percent() == zoom  # resized, did not zoom


def test_brush_stroke_is_one_undo_step_and_undo_restores_exactly(qtbot, editing) -> None:
    window = editing
    key(qtbot, window, Qt.Key.Key_B)
    window.editor.set_brush_size(12)
    start = model_mask(window)
    assert start[120, 20] == 0 and start[120, 230] == 1 and start[120, 160] == 0
    drag(qtbot, window, [(10, 120), (30, 120), (50, 120), (70, 120)])
    mask = window.document.mask
    assert mask[120, 10:71].all() and mask[120 - 5 : 120 + 6, 40].all()  # painted along the path, 12 px wide
    assert mask[100, 40] == 0  # and nowhere else
    assert window.document.undo_stack.count() == 1 and window.document.undo_stack.text(0) == "Brush"
    assert window.photo_list.status(window.document.path) == CORRECTED
    painted = mask.copy()
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(window.document.mask, start)
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert np.array_equal(window.document.mask, painted)
    # the eraser
    key(qtbot, window, Qt.Key.Key_E)
    drag(qtbot, window, [(225, 120), (235, 120)])
    assert window.document.mask[120, 225:236].sum() == 0
    assert window.document.undo_stack.text(1) == "Eraser"
    # the overlay shows the corrected mask and the area counts it
    skin, total = window.document.skin_area()
    assert skin == int(window.document.mask.sum()) and total == 320 * 240
    # history is kept as compressed differences, far smaller than the mask
    command = window.document.undo_stack.command(0)
    assert command.nbytes < window.document.mask.size // 20


def test_polygon_adds_and_cuts_out(qtbot, editing) -> None:
    window = editing
    key(qtbot, window, Qt.Key.Key_P)
    corners = [(5, 5), (60, 5), (60, 50), (5, 50)]
    for x, y in corners:
        click(qtbot, window, x, y)
    click(qtbot, window, 5, 5)  # on the first corner: closes it
    mask = window.document.mask
    assert mask[8:48, 8:58].all()
    assert window.document.undo_stack.text(0) == "Polygon"
    # cut out: Shift at the first corner, closed with a double-click
    for i, (x, y) in enumerate([(140, 100), (180, 100), (180, 140), (140, 140)]):
        click(qtbot, window, x, y, Qt.KeyboardModifier.ShiftModifier if i == 0 else Qt.KeyboardModifier.NoModifier)
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=at(window, 140, 140))
    assert window.document.mask[103:138, 143:178].sum() == 0
    assert window.document.undo_stack.text(1) == "Polygon cut"
    # Esc drops a polygon being drawn
    click(qtbot, window, 250, 200)
    key(qtbot, window, Qt.Key.Key_Escape)
    assert window.tools["polygon"].points == []


def test_fill_holes_and_remove_islands(qtbot, editing) -> None:
    window = editing
    start = model_mask(window)
    assert start[120, 160] == 0  # the hole in the middle
    window.fill_holes_action.trigger()
    assert window.document.mask[120, 160] == 1
    key(qtbot, window, Qt.Key.Key_B)
    window.editor.set_brush_size(6)
    drag(qtbot, window, [(300, 20), (302, 20)])  # a small island
    assert window.document.mask[20, 300] == 1
    window.correct_panel.island_spin.setValue(200)
    window.remove_islands_action.trigger()
    assert window.document.mask[20, 300] == 0 and window.document.mask[120, 160] == 1
    assert [window.document.undo_stack.text(i) for i in range(3)] == ["Fill holes", "Brush",
                                                                     "Remove islands under 200 px"]


def test_undo_redo_sequences_restore_masks_exactly(qtbot, editing) -> None:
    window = editing
    states = [model_mask(window)]
    key(qtbot, window, Qt.Key.Key_B)
    for y in (30, 60, 90):
        drag(qtbot, window, [(20, y), (120, y + 10), (220, y)])
        states.append(window.document.mask.copy())
    window.fill_holes_action.trigger()
    states.append(window.document.mask.copy())
    key(qtbot, window, Qt.Key.Key_P)
    for i, (x, y) in enumerate(((100, 100), (200, 110), (150, 200))):  # a cut: Shift at the first corner
        click(qtbot, window, x, y, Qt.KeyboardModifier.ShiftModifier if i == 0 else Qt.KeyboardModifier.NoModifier)
    key(qtbot, window, Qt.Key.Key_Return)
    states.append(window.document.mask.copy())
    texts = [window.document.undo_stack.text(i) for i in range(window.document.undo_stack.count())]
    assert texts == ["Brush", "Brush", "Brush", "Fill holes", "Polygon cut"]
    for state in reversed(states[:-1]):
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert np.array_equal(window.document.mask, state)
    for state in states[1:]:
        key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
        assert np.array_equal(window.document.mask, state)
    assert window.undo_view.stack() is window.document.undo_stack  # the History panel shows this photo's steps
    assert window.document.mask_area == int(window.document.mask.sum())


def spline_tool(qtbot, window):
    key(qtbot, window, Qt.Key.Key_N)
    tool = window.tools["spline"]
    qtbot.waitUntil(lambda: bool(tool.regions), timeout=WAIT_MS)  # fitted in a worker
    assert not tool.pending, "the model's mask was turned into spline regions"
    return tool


def test_spline_regions_from_the_mask(qtbot, editing) -> None:
    window = editing
    tool = spline_tool(qtbot, window)
    editable = [r for r in tool.regions if r.editable]
    assert len(editable) == 1 and len(editable[0].holes) == 1  # the ring: an outer curve and a hole
    assert 4 <= len(editable[0].outer) <= 40
    assert window.document.mask is None  # looking does not start a correction


def test_spline_drag_a_point_is_one_undo_step(qtbot, editing) -> None:
    window = editing
    tool = spline_tool(qtbot, window)
    start = model_mask(window)
    outer = tool.regions[0].outer
    i = int(np.argmin(outer.points[:, 1]))  # the top point
    x, y = outer.points[i]
    target = (x, max(2.0, y - 40))
    path = [(x, y)] + [(x, y - d) for d in (10, 20, 30)] + [target]
    vp = window.view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(window, x, y))
    for px, py in path[1:]:
        move(window, px, py)
    # live: the curve follows before the release, the mask does not change yet
    assert tool.item.regions[0].outer.points[i][1] < y - 20
    assert window.document.mask is None or np.array_equal(window.document.mask, start)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=at(window, *target))
    mask = window.document.mask
    grown = (mask == 1) & (start == 0)
    assert grown.sum() > 100 and grown[int(y) - 20, int(round(x))]
    assert window.document.undo_stack.count() == 1 and window.document.undo_stack.text(0) == "Move point"
    assert np.abs(tool.regions[0].outer.points[i] - target).max() < 1.5
    key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(window.document.mask, start)
    assert np.array_equal(tool.regions[0].outer.points, outer.points)  # the curve is back too


def test_spline_insert_delete_and_sharp_points(qtbot, editing) -> None:
    window = editing
    tool = spline_tool(qtbot, window)
    outer = tool.regions[0].outer
    n = len(outer)
    from skinseg_core.contours import sample_curve

    samples = sample_curve(outer)
    mid = samples[len(samples) // (2 * n)]  # halfway along the first segment
    click(qtbot, window, *mid)
    assert len(tool.regions[0].outer) == n + 1
    assert window.document.undo_stack.text(0) == "Insert point"
    # K makes the selected (new) point sharp
    key(qtbot, window, Qt.Key.Key_K)
    assert tool.regions[0].outer.corners[tool.selection.point]
    # double-click a point deletes it; Delete deletes the selected one
    px, py = tool.regions[0].outer.points[1]
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=at(window, px, py))
    assert len(tool.regions[0].outer) == n
    click(qtbot, window, *tool.regions[0].outer.points[0])
    key(qtbot, window, Qt.Key.Key_Delete)
    assert len(tool.regions[0].outer) == n - 1
    texts = [window.document.undo_stack.text(i) for i in range(window.document.undo_stack.count())]
    assert texts == ["Insert point", "Sharp point", "Delete point", "Delete point"]


def test_spline_move_and_delete_a_region(qtbot, editing) -> None:
    window = editing
    tool = spline_tool(qtbot, window)
    start = model_mask(window)
    # inside the ring (between the hole and the outer curve), away from both curves
    ys, xs = np.nonzero(start)
    inside = next((x, y) for x, y in zip(xs, ys) if abs(y - 120) < 3 and x > 200)
    drag(qtbot, window, [(inside[0] - 8, inside[1]), (inside[0] - 8, inside[1] + 10),
                         (inside[0] - 8, inside[1] + 20)])
    assert window.document.undo_stack.text(0) == "Move region"
    moved = window.document.mask
    assert np.array_equal(moved[20:, :], start[:-20, :])  # moved 20 px down, exactly
    key(qtbot, window, Qt.Key.Key_Delete)  # the region is selected
    assert window.document.mask.sum() == 0
    assert window.document.undo_stack.text(1) == "Delete region"


def test_spline_draw_a_new_region_and_cut_one(qtbot, editing) -> None:
    window = editing
    tool = spline_tool(qtbot, window)
    for x, y in ((10, 10), (60, 10), (60, 60), (10, 60)):
        click(qtbot, window, x, y)
    click(qtbot, window, 10, 10)
    assert window.document.mask[35, 35] == 1 and len(tool.regions) == 2
    assert window.document.undo_stack.text(0) == "Spline region"
    key(qtbot, window, Qt.Key.Key_X)  # cut out mode
    before = window.document.mask.copy()
    for x, y in ((300, 100), (200, 100), (200, 140), (300, 140)):  # starts outside the ring, cuts across it
        click(qtbot, window, x, y)
    key(qtbot, window, Qt.Key.Key_Return)
    assert window.document.undo_stack.text(1) == "Spline cut"
    assert before[120, 230] == 1 and window.document.mask[105:135, 205:295].sum() == 0
    assert window.document.mask[120, 100] == 1  # the rest of the ring stays


def test_spline_fitting_runs_in_a_worker_and_a_stale_fit_is_dropped(qtbot, editing, monkeypatch) -> None:
    """The curves are fitted off the GUI thread; a fit of a mask that changed meanwhile is thrown away and the
    current mask fitted instead."""
    import app.editing

    window = editing
    gate = threading.Event()
    started, fitted = [], []
    real = app.editing.fit_splines

    def held(source):  # noqa: ANN001, ANN202 - the worker function, held until the test lets it go
        started.append(source)
        gate.wait(WAIT_MS / 1000)
        regions = yield from real(source)
        fitted.append(regions)
        return regions

    monkeypatch.setattr(app.editing, "fit_splines", held)
    key(qtbot, window, Qt.Key.Key_N)
    tool = window.tools["spline"]
    assert tool.pending and tool.regions == () and window.editor.fitting  # nothing fitted on the GUI thread
    # The worker has taken the model's mask before the mask changes (on a loaded machine it may start late, and a
    # fit cancelled before it starts never calls the function this test counts).
    qtbot.waitUntil(lambda: len(started) == 1, timeout=WAIT_MS)
    zoom = window.view.zoom_percent()
    key(qtbot, window, Qt.Key.Key_Plus)  # the window still answers
    assert window.view.zoom_percent() > zoom
    click(qtbot, window, 160, 60)  # on the ring: edits wait for the curves, with a word why
    assert window.document.mask is None and "fitted" in window.statusBar().currentMessage()
    window.fill_holes_action.trigger()  # the mask changes while the model's mask is being fitted
    assert window.document.mask[120, 160] == 1
    gate.set()
    qtbot.waitUntil(lambda: not tool.pending and bool(tool.regions), timeout=WAIT_MS)
    # The first fit (the model's mask: a ring) was stopped at its first region, the filled mask fitted instead.
    assert len(started) == 2 and isinstance(started[0], tuple) and len(fitted) == 1
    (region,) = tool.regions  # a disc, no hole
    assert region.editable and region.holes == ()
    assert window.document.splines is tool.regions


def test_undo_history_is_bounded_by_memory_dropping_the_oldest_steps(qtbot, editing) -> None:
    from app.history import history_bytes

    window = editing
    document = window.document
    key(qtbot, window, Qt.Key.Key_B)
    window.editor.set_brush_size(6)
    limit = 8 * 1024  # bytes: a few strokes (a step costs ~0.6-1 KB)
    document.set_history_limit(limit)
    states = [model_mask(window)]
    for k in range(14):
        y = 10 + 15 * k
        drag(qtbot, window, [(10, y), (80, y + 5), (150, y)])  # one drag, one step
        states.append(document.mask.copy())
    stack = document.undo_stack
    assert history_bytes(stack) <= limit
    kept = stack.count()
    assert 3 <= kept < 14 and stack.index() == kept  # the oldest steps went
    assert all(stack.text(i) == "Brush" for i in range(kept))
    label = window.history_panel.memory_label
    assert f"{kept} steps" in label.text() and "of 8 KB" in label.text() and "oldest steps" in label.toolTip()
    for k in range(kept):  # undo as far as the history goes: each step exactly
        key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert np.array_equal(document.mask, states[14 - k - 1])
    assert not stack.canUndo()
    for k in range(kept):
        key(qtbot, window, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(document.mask, states[-1])
    assert document.mask_area == int(document.mask.sum())


def test_undo_history_trim_keeps_redo_steps_and_the_clean_state_and_changes_nothing(qtbot) -> None:
    from PySide6.QtGui import QUndoCommand, QUndoStack

    from app.history import COMMAND_OVERHEAD, drop_oldest, history_bytes, trim

    log: list[str] = []

    class Step(QUndoCommand):
        nbytes = 1000

        def __init__(self, name: str) -> None:
            super().__init__(name)
            self.silent = False

        def clone(self) -> Step:
            return Step(self.text())

        def redo(self) -> None:
            if not self.silent:
                log.append(f"redo {self.text()}")

        def undo(self) -> None:
            if not self.silent:
                log.append(f"undo {self.text()}")

    stack = QUndoStack()
    for k in range(6):
        stack.push(Step(f"s{k}"))
    stack.undo()
    stack.undo()  # s4 and s5 can be redone
    stack.setIndex(3)
    stack.setClean()
    stack.setIndex(4)
    log.clear()
    assert drop_oldest(stack, 2) == 2
    assert log == []  # rebuilding the stack undid and redid nothing
    assert [stack.text(i) for i in range(stack.count())] == ["s2", "s3", "s4", "s5"]
    assert stack.index() == 2 and stack.cleanIndex() == 1
    stack.redo()
    stack.undo()
    stack.undo()
    assert log == ["redo s4", "undo s4", "undo s3"]
    assert drop_oldest(stack, 3) == 1  # never a step that is undone (s3, s4, s5 are redo steps now)
    assert history_bytes(stack) == 3 * (1000 + COMMAND_OVERHEAD)
    stack.setIndex(3)
    assert trim(stack, 2 * (1000 + COMMAND_OVERHEAD)) == 2  # down to 75 % of the limit: the newest step only
    assert [stack.text(i) for i in range(stack.count())] == ["s5"]
    assert stack.cleanIndex() == -1  # the clean state went with the dropped steps


def test_undo_history_limit_is_a_preference_and_all_photos_share_a_cap(qtbot, editing) -> None:
    from app.history import MB, history_bytes

    window = editing
    dialog = window.show_preferences()
    dialog.history_spin.setValue(64)
    assert window.settings.history_limit_mb == 64 and window.document.history_limit == 64 * MB
    assert "of 64.0 MB" in window.history_panel.memory_label.text()
    dialog.close()
    # The cap on all photos together: the photo not shown gives up its oldest steps first.
    first = window.document
    key(qtbot, window, Qt.Key.Key_B)
    for y in (30, 60, 90, 120):
        drag(qtbot, window, [(10, y), (100, y)])
    first_count = first.undo_stack.count()
    assert first_count == 4
    key(qtbot, window, Qt.Key.Key_D)  # the next photo
    qtbot.waitUntil(lambda: window.document is not first and window.document.rgb is not None, timeout=WAIT_MS)
    second = window.document
    second.set_map(disc_map(second.full_size))
    window.history_total_limit = history_bytes(first.undo_stack) + 300  # less than two more steps
    for y in (30, 60):
        drag(qtbot, window, [(10, y), (100, y)])
    assert second.undo_stack.count() == 2  # the shown photo keeps its steps
    assert first.undo_stack.count() < first_count
    assert history_bytes(first.undo_stack) + history_bytes(second.undo_stack) <= window.history_total_limit


def test_before_after_shows_the_model_prediction_while_on(qtbot, editing) -> None:
    window = editing
    key(qtbot, window, Qt.Key.Key_B)
    window.editor.set_brush_size(12)
    drag(qtbot, window, [(10, 120), (40, 120), (70, 120)])  # skin the model did not see
    corrected = window.document.mask.copy()
    assert corrected[120, 20] == 1 and model_mask(window)[120, 20] == 0

    def overlay_alpha(x: int, y: int) -> int:
        return window.scene.overlay_item.pixmap().toImage().pixelColor(x, y).alpha()  # display = photo pixels here

    assert overlay_alpha(20, 120) > 0
    key(qtbot, window, Qt.Key.Key_M)
    assert window.compare_action.isChecked()
    label = window.findChild(QLabel, "compare_label")
    assert label.isVisible() and "model's prediction" in label.text()
    prediction = window.document.prediction
    assert window.renderer.display_map is prediction.display_map and prediction.threshold == pytest.approx(0.5)
    assert overlay_alpha(20, 120) == 0 and overlay_alpha(230, 120) > 0  # the model's mask, not the correction
    from app.display_panel import format_area

    assert prediction.skin_area()[0] == int(model_mask(window).sum())
    assert window.panel.area_label.text() == format_area(*prediction.skin_area())  # the area is the model's too
    drag(qtbot, window, [(200, 20), (260, 20)])  # the canvas is read-only meanwhile, and says why
    window.fill_holes_action.trigger()  # (and so are the edits of the Edit menu)
    assert np.array_equal(window.document.mask, corrected)
    assert "prediction" in window.statusBar().currentMessage()
    key(qtbot, window, Qt.Key.Key_M)
    assert not window.compare_action.isChecked() and not label.isVisible()
    assert window.renderer.display_map is window.document.display_mask and overlay_alpha(20, 120) > 0


def test_autosave_writes_the_mask_and_empties_the_journal(qtbot, editing) -> None:
    window = editing
    key(qtbot, window, Qt.Key.Key_B)
    drag(qtbot, window, [(10, 120), (60, 120)])
    photo = window.document.path
    sidecar = window.service.sidecar(photo)
    assert sidecar.journal(photo).exists()  # the edit is on disk at once
    # The mask file is due SAVE_DELAY_MS after the first edit (the save itself then runs in the io pool); how soon it
    # is on disk is a timing that a busy test machine stretches, so the wait below is generous.
    assert SAVE_DELAY_MS <= 2000
    saved = sidecar.corrected_path(photo)
    qtbot.waitUntil(lambda: saved.exists() and not sidecar.journal(photo).exists(), timeout=WAIT_MS)
    assert np.array_equal(read_mask(saved), window.document.mask > 0)
    assert sidecar.prediction_path(photo).exists()  # the model's own prediction is kept beside it
    record = sidecar.record(photo)
    assert record.status == CORRECTED and record.prediction_threshold == pytest.approx(0.5)
    assert record.effort["edits"] == 1 and record.effort["pixels"] > 0
    assert "1 edit" in window.photo_list.effort_text(photo)
    assert "1 edit" in window.photo_list.currentItem().text()


def test_export_uses_the_corrected_mask(qtbot, editing, tmp_path: Path) -> None:
    window = editing
    window.fill_holes_action.trigger()
    out = tmp_path / "export"
    with qtbot.waitSignal(window.statusBar().messageChanged, timeout=WAIT_MS,
                          check_params_cb=lambda m: m.startswith("Masks exported")):
        window.export_masks(out, only_current=True, formats={"png": True, "coco": False, "labelme": False})
    exported = read_mask(out / f"{window.document.path.stem}.png")
    assert np.array_equal(exported, window.document.mask > 0) and exported[120, 160]


def loadable(path: Path) -> bool:
    """False for an .npy file that the kill cut short."""
    try:
        np.load(path)
    except (ValueError, OSError, EOFError):
        return False
    return True


CHILD = r"""
import sys
import numpy as np
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer, QPointF
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv[:1])
from app import autosave
from app.main_window import MainWindow
from skinseg_core.journal import Journal
from tests.app.test_correcting import disc_map
folder, out = Path(sys.argv[1]), Path(sys.argv[2])
autosave.SAVE_DELAY_MS = 600_000  # however slow the machine, the kill comes first: the journal alone restores
append = Journal.append

def append_noting_the_mask(journal, seq, size, patch):
    # The mask this record brings back, saved before the record is written: whenever the kill comes, the file of the
    # journal's last complete record exists (a file cut short by the kill belongs to a record never written).
    np.save(out / f"expected-{seq}.npy", window.document.mask)
    append(journal, seq, size, patch)
    print(seq, flush=True)

Journal.append = append_noting_the_mask
window = MainWindow(settings=QSettings(str(out / "settings.ini"), QSettings.Format.IniFormat),
                    model_path=out / "no-model.json", display_long_side=640)
window.show()
window.open_paths([folder])
edits = [0]

def edit():
    document = window.document
    if document.rgb is None:
        QTimer.singleShot(20, edit)
        return
    if document.prob is None:
        document.set_map(disc_map(document.full_size))
        window.set_tool("polygon")
        window.editor.editable_document()  # what the first click of a tool does
    k = edits[0]
    tool = window.tools["polygon"]
    tool.editor.set_subtract(k % 3 == 2)
    x, y = 10 + 25 * k, 10 + 15 * (k % 5)
    tool.points = [QPointF(x, y), QPointF(x + 30, y), QPointF(x + 15, y + 40)]
    tool.subtract = k % 3 == 2
    tool.finish()
    edits[0] += 1
    QTimer.singleShot(30, edit)  # keeps editing until it is killed

QTimer.singleShot(0, edit)
app.exec()
"""


def test_journal_restores_edits_after_the_app_is_killed(qtbot, make_window, photo_folder: Path,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "child"
    out.mkdir()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SKINSEG_LOG_DIR=str(tmp_path / "logs"),
               PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(photo_folder), str(out)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        seen = 0
        while seen < 7:  # journal records: the start of the correction, then one per edit; kill in a run of edits
            line = child.stdout.readline()
            assert line, "the app stopped before editing"
            seen = int(line)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
    photo = sorted(p for p in photo_folder.iterdir() if p.is_file())[0]
    journal = photo_folder / ".skinseg" / "journal" / f"{photo.name}.journal"
    assert journal.exists()

    window = make_window(model_path=tmp_path / "no-model.json")
    window.open_paths([photo_folder])
    qtbot.waitUntil(lambda: window.document.mask is not None, timeout=WAIT_MS)
    assert window.photo_list.status(photo) == CORRECTED
    restored = window.document.mask
    # The edits go on while the kill is on its way, so the last record is the last or the one before (when the kill
    # came between saving the last file and writing its record).
    last = max(int(p.stem.split("-")[1]) for p in out.glob("expected-*.npy"))
    assert last >= seen
    candidates = [k for k in (last, last - 1) if loadable(out / f"expected-{k}.npy")]
    matches = [k for k in candidates if np.array_equal(restored, np.load(out / f"expected-{k}.npy"))]
    assert matches, f"the restored mask matches neither the state after record {last} nor the one before"
    assert int(restored.sum()) == window.document.mask_area
