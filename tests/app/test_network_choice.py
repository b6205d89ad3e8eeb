"""Segmentation › Network: the user chooses which of the model's two networks runs, where the faces found cannot tell
(a body with no face in view, a lesion on a face); maps are made again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from skinseg_core.body_crops import body_pairs
from skinseg_core.imageio import read_mask
from skinseg_core.metrics import background_jaccard, confusion, jaccard
from skinseg_core.recipes import dataset_splits
from skinseg_core.sidecar import SEGMENTED
from tests.app.test_face_gate_toggle import segmented_map
from tests.app.test_main_window import WAIT_MS, wait_for_map
from tests.model_files import people_copy


def choose_network(qtbot, window, action) -> None:  # noqa: ANN001
    """Segmentation › Network › an item, clicked as a user does: open the menu, then the submenu, then the item."""
    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Segmentation")
    menu.popup(window.mapToGlobal(window.rect().topLeft()))
    qtbot.waitUntil(menu.isVisible)
    submenu = window.network_menu
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(submenu.menuAction()).center())
    qtbot.waitUntil(submenu.isVisible)
    qtbot.mouseClick(submenu, Qt.MouseButton.LeftButton, pos=submenu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: not menu.isVisible())


def test_a_model_with_one_network_offers_no_choice(window) -> None:
    assert not window.network_menu.isEnabled()
    assert window.network_actions["auto"].isChecked()


def test_choosing_the_network_for_people_makes_the_maps_again_and_is_remembered(
        qtbot, make_window, photo_folder: Path, tiny_model: Path, tmp_path: Path) -> None:
    model = people_copy(tiny_model, tmp_path / "people" / "tiny.json")
    window = make_window(model_path=model)
    assert window.network_menu.isEnabled() and window.network_actions["auto"].isChecked()
    window.open_paths([photo_folder])
    wait_for_map(qtbot, window)
    photo = window.document.path
    # The generated photos show no face: the first network runs.
    assert segmented_map(qtbot, window, photo).full().min() < 0.99
    stamp_auto = window.service.model.stamp

    with qtbot.waitSignal(window.service.map_ready, timeout=WAIT_MS):
        choose_network(qtbot, window, window.network_actions["people"])
        assert window.statusBar().currentMessage().startswith("Network: people in scenes; re-segmenting")
    assert window.network_actions["people"].isChecked() and not window.network_actions["auto"].isChecked()
    assert "network for people" in window.device_label.text()
    assert window.service.model.stamp != stamp_auto  # maps made the other way are out of date
    # The test model's network for people calls everything skin: the open photo shows its map.
    qtbot.waitUntil(lambda: window.document.prob.full().min() > 0.99, timeout=WAIT_MS)
    window.close()

    again = make_window(model_path=model)
    assert again.network_actions["people"].isChecked() and "network for people" in again.device_label.text()
    again.open_paths([photo_folder])
    assert again.photo_list.status(photo) == SEGMENTED  # the map made with the chosen network is still current
    with qtbot.waitSignal(again.service.map_ready, timeout=WAIT_MS):
        choose_network(qtbot, again, again.network_actions["auto"])
    assert "network for people" not in again.device_label.text()
    assert again.service.model.stamp == stamp_auto
    qtbot.waitUntil(lambda: again.document.prob.full().min() < 0.99, timeout=WAIT_MS)


@pytest.mark.needs_data
def test_on_a_body_with_no_face_in_view_the_network_for_people_calls_less_clothing_skin(
        qtbot, make_window, shared_data: Path, tmp_path: Path) -> None:
    pairs = [p for p in dataset_splits(shared_data)["ecu_subset"].test if p.image.stem == "3994"]
    crop = body_pairs(pairs, tmp_path / "crops")[0]  # a man below his face: his arms and a skin-coloured shirt
    reference = read_mask(crop.mask)
    folder = tmp_path / "body"
    folder.mkdir()
    photo = Path(shutil.copy(crop.image, folder))
    window = make_window(model_path=None)  # the bundled model, which has both networks
    window.open_paths([folder])
    chosen_by_faces = confusion(segmented_map(qtbot, window, photo).full() >= 0.5, reference)
    with qtbot.waitSignal(window.service.map_ready, timeout=WAIT_MS):
        choose_network(qtbot, window, window.network_actions["people"])
    for_people = confusion(segmented_map(qtbot, window, photo).full() >= 0.5, reference)
    # Measured: skin Jaccard 0.14 -> 0.72, background Jaccard 0.40 -> 0.96 (docs/adr/0036).
    assert jaccard(for_people) > jaccard(chosen_by_faces) + 0.3
    assert background_jaccard(for_people) > background_jaccard(chosen_by_faces) + 0.3
    # ... and the open photo shows the new map.
    qtbot.waitUntil(lambda: jaccard(confusion(window.document.prob.full() >= 0.5, reference)) > 0.6,
                    timeout=WAIT_MS)
