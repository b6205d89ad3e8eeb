"""Segmentation › Face Colour Gate: the user turns the model's face colour gate off and on; maps are made again."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from skinseg_core.recipes import dataset_splits
from skinseg_core.sidecar import SEGMENTED, Sidecar
from tests.app.test_main_window import WAIT_MS, wait_for_map
from tests.model_files import gating_copy


def click_menu_item(qtbot, window, menu_title: str, action) -> None:  # noqa: ANN001
    """Open a menu of the menu bar and click one of its items, as a user does."""
    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == menu_title)
    menu.popup(window.mapToGlobal(window.rect().topLeft()))
    qtbot.waitUntil(menu.isVisible)
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def segmented_map(qtbot, window, photo: Path):  # noqa: ANN001
    qtbot.waitUntil(lambda: window.photo_list.status(photo) == SEGMENTED and not window.service.busy, timeout=WAIT_MS)
    return Sidecar(photo.parent).read_map(photo)


def test_a_model_without_the_gate_has_nothing_to_turn_off(window) -> None:
    assert not window.face_gate_action.isEnabled()


def test_turning_the_gate_off_makes_the_maps_again_and_is_remembered(qtbot, make_window, photo_folder: Path,
                                                                     tiny_model: Path, tmp_path: Path) -> None:
    gating = gating_copy(tiny_model, tmp_path / "gating" / "tiny.json")
    window = make_window(model_path=gating)
    assert window.face_gate_action.isEnabled() and window.face_gate_action.isChecked()
    assert "face colour" in window.device_label.text()
    window.open_paths([photo_folder])
    wait_for_map(qtbot, window)
    photo = window.document.path
    stamp_on = window.service.model.stamp
    segmented_map(qtbot, window, photo)

    with qtbot.waitSignal(window.service.map_ready, timeout=WAIT_MS):
        click_menu_item(qtbot, window, "&Segmentation", window.face_gate_action)
    assert not window.face_gate_action.isChecked()
    assert "face colour" not in window.device_label.text()
    assert window.service.model.stamp != stamp_on  # maps made with the gate are out of date
    assert window.service.sidecar(photo).record(photo).model["run"] == window.service.model.stamp.run  # made again
    window.close()

    again = make_window(model_path=gating)
    assert not again.face_gate_action.isChecked() and "face colour" not in again.device_label.text()
    again.open_paths([photo_folder])
    assert again.photo_list.status(photo) == SEGMENTED  # the map made without the gate is still current
    again.face_gate_action.trigger()
    assert again.face_gate_action.isChecked() and "face colour" in again.device_label.text()
    assert again.service.model.stamp == stamp_on


@pytest.mark.needs_data
def test_on_a_web_photo_turning_the_gate_off_changes_the_mask(qtbot, make_window, shared_data: Path,
                                                              tmp_path: Path) -> None:
    pair = next(p for p in dataset_splits(shared_data)["ecu_subset"].test if p.image.name == "3947.jpg")
    folder = tmp_path / "web"
    folder.mkdir()
    photo = Path(shutil.copy(pair.image, folder))
    window = make_window(model_path=None)  # the bundled model, which names the gate
    window.open_paths([folder])
    gated = segmented_map(qtbot, window, photo).full() >= 0.5
    with qtbot.waitSignal(window.service.map_ready, timeout=WAIT_MS):
        click_menu_item(qtbot, window, "&Segmentation", window.face_gate_action)
    plain = segmented_map(qtbot, window, photo).full() >= 0.5
    # The gate takes the man's beige jacket away: without it much more is called skin (measured 0.17 against 0.38).
    assert plain.mean() > gated.mean() + 0.05, (plain.mean(), gated.mean())
    # ... and the open photo shows the new map.
    qtbot.waitUntil(lambda: np.array_equal(window.document.prob.full() >= 0.5, plain), timeout=WAIT_MS)
