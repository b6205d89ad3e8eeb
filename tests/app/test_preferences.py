"""Edit › Preferences: every choice applies at once and is stored in the settings file."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel

from skinseg_core.devices import DEVICE_CHOICES, available_devices
from tests.app.test_main_window import wait_for_map



def test_preferences_shortcut_opens_the_dialog(qtbot, window) -> None:
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    from app.preferences import PreferencesDialog

    dialogs = [d for d in window.findChildren(PreferencesDialog) if d.isVisible()]
    assert len(dialogs) == 1
    assert "Ctrl+," in window.preferences_action.toolTip()
    assert window.preferences_action in window.menuBar().actions()[1].menu().actions()  # Edit menu
    dialogs[0].close()


def test_only_available_devices_can_be_chosen(qtbot, window) -> None:
    dialog = window.show_preferences()
    model = dialog.device_combo.model()
    assert isinstance(model, QStandardItemModel)
    enabled = {dialog.device_combo.itemData(i) for i in range(model.rowCount()) if model.item(i).isEnabled()}
    assert enabled == set(available_devices())
    assert {"auto", "cpu"} <= enabled
    dialog.device_combo.setCurrentIndex(DEVICE_CHOICES.index("cpu"))
    assert window.service.device == "cpu" and window.device_label.text().startswith("CPU")
    assert window.device_actions["cpu"].isChecked()
    assert window.settings.qsettings.value("segmentation/device") == "cpu"
    dialog.close()


def test_preferences_apply_live_and_are_stored(qtbot, window, make_window, photo_folder: Path) -> None:
    window.open_paths([photo_folder])
    wait_for_map(qtbot, window)
    dialog = window.show_preferences()

    dialog.auto_segment_check.setChecked(False)
    assert not window.auto_segment_action.isChecked() and not window.settings.auto_segment

    dialog.model_threshold_check.setChecked(False)
    dialog.threshold_spin.setValue(0.0)  # every pixel is skin: the overlay colour shows everywhere
    before = window.scene.overlay_item.pixmap().toImage().pixelColor(160, 120)
    dialog.set_colour((0, 200, 255))
    dialog.opacity_slider.setValue(80)
    assert window.panel.overlay_style.colour == (0, 200, 255)
    assert window.panel.overlay_style.opacity == pytest.approx(0.8)
    after = window.scene.overlay_item.pixmap().toImage().pixelColor(160, 120)
    assert after != before  # redrawn at once
    dialog.mode_combo.setCurrentIndex(1)  # contour
    assert window.panel.mode_combo.currentText() == "Contour" and window.scene.contour_item.isVisible()

    # The open photo's threshold was never set by the user: it follows the default, and the sidecar keeps none.
    dialog.threshold_spin.setValue(0.73)
    assert window.document.threshold_step == 73 and window.panel.threshold_spin.value() == pytest.approx(0.73)
    assert window.service.sidecar(window.document.path).record(window.document.path).threshold is None
    dialog.close()
    window.close()

    again = make_window()
    assert not again.settings.auto_segment
    assert again.settings.default_threshold == pytest.approx(0.73)
    assert again.panel.overlay_style.colour == (0, 200, 255) and not again.panel.overlay_style.fill
    again.settings.auto_segment = True
    again.open_paths([photo_folder])
    assert again.document.threshold_step == 73


def test_a_threshold_the_user_chose_is_kept_over_the_default(qtbot, window, photo_folder: Path) -> None:
    window.open_paths([photo_folder])
    wait_for_map(qtbot, window)
    window.panel.threshold_spin.setValue(0.31)
    dialog = window.show_preferences()
    dialog.model_threshold_check.setChecked(False)
    dialog.threshold_spin.setValue(0.9)
    assert window.document.threshold_step == 31
    dialog.close()
