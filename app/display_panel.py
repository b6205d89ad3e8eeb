"""The Display dock: overlay colour, opacity and mode, the threshold (slider + spin box) and the skin area."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skinseg_core.overlay import OverlayStyle
from skinseg_core.probmap import THRESHOLD_STEPS

MODES = (("Fill", True, False), ("Contour", False, True), ("Fill and contour", True, True))


def format_area(skin: int, total: int) -> str:
    percent = 100.0 * skin / total if total else 0.0
    return f"{percent:.1f} % of the photo · {skin:,} px".replace(",", "\u2009")


class DisplayPanel(QWidget):
    style_changed = Signal(object)  # OverlayStyle
    threshold_previewed = Signal(int)  # step, while the slider is dragged
    threshold_committed = Signal(int)  # step, on release / a spin box edit / a keyboard step

    def __init__(self, style: OverlayStyle, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._style = style
        self._updating = False

        self.colour_button = QToolButton(objectName="overlay_colour")
        self.colour_button.setToolTip("Overlay colour")
        self.colour_button.clicked.connect(self._choose_colour)

        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, objectName="overlay_opacity")
        self.opacity_slider.setRange(5, 100)
        self.opacity_slider.setToolTip("Overlay opacity")
        self.opacity_slider.valueChanged.connect(self._opacity_changed)

        self.mode_combo = QComboBox(objectName="overlay_mode")
        for label, _, _ in MODES:
            self.mode_combo.addItem(label)
        self.mode_combo.setToolTip("Show the skin as a filled area, its outline, or both")
        self.mode_combo.currentIndexChanged.connect(self._mode_changed)

        self.visible_check = QCheckBox("Show overlay", objectName="overlay_visible")
        self.visible_check.toggled.connect(lambda on: self._set(visible=on))
        self.uncertainty_check = QCheckBox("Uncertain pixels (±0.1)", objectName="overlay_uncertainty")
        self.uncertainty_check.setToolTip("Highlight pixels whose probability is within 0.1 of the threshold")
        self.uncertainty_check.toggled.connect(lambda on: self._set(uncertainty=on))

        self.threshold_slider = QSlider(Qt.Orientation.Horizontal, objectName="threshold_slider")
        self.threshold_slider.setRange(0, THRESHOLD_STEPS)
        self.threshold_slider.setPageStep(5)
        self.threshold_slider.setToolTip("Skin probability threshold: pixels at or above it count as skin")
        self.threshold_spin = QDoubleSpinBox(objectName="threshold_spin")
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setSingleStep(1.0 / THRESHOLD_STEPS)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setKeyboardTracking(False)
        self.threshold_slider.valueChanged.connect(self._slider_moved)
        self.threshold_slider.sliderReleased.connect(self._slider_released)
        self.threshold_spin.valueChanged.connect(self._spin_changed)

        self.area_label = QLabel("—", objectName="area_label")
        self.area_label.setToolTip("Skin at the current threshold, counted at the photo's full resolution")
        self.area_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.area_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.area_label.setFont(font)

        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.threshold_slider, 1)
        threshold_row.addWidget(self.threshold_spin)
        appearance = QHBoxLayout()
        appearance.addWidget(self.colour_button)
        appearance.addWidget(self.opacity_slider, 1)

        form = QFormLayout()
        form.addRow("Threshold", threshold_row)
        form.addRow("Skin", self.area_label)
        form.addRow("Show as", self.mode_combo)
        form.addRow("Colour", appearance)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.visible_check)
        layout.addWidget(self.uncertainty_check)
        layout.addStretch(1)
        self.set_overlay_style(style)
        self.set_threshold_step(50)

    # ---- style ----
    @property
    def overlay_style(self) -> OverlayStyle:
        return self._style

    def set_overlay_style(self, style: OverlayStyle) -> None:
        self._updating = True
        self._style = style
        pixmap = QPixmap(20, 20)
        pixmap.fill(QColor(*style.colour))
        self.colour_button.setIcon(QIcon(pixmap))
        self.opacity_slider.setValue(round(style.opacity * 100))
        index = next((i for i, (_, f, c) in enumerate(MODES) if (f, c) == (style.fill, style.contour)), 0)
        self.mode_combo.setCurrentIndex(index)
        self.visible_check.setChecked(style.visible)
        self.uncertainty_check.setChecked(style.uncertainty)
        self._updating = False

    def _set(self, **changes: object) -> None:
        if self._updating:
            return
        self.set_overlay_style(replace(self._style, **changes))
        self.style_changed.emit(self._style)

    def _choose_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(*self._style.colour), self, "Overlay colour")
        if colour.isValid():
            self._set(colour=(colour.red(), colour.green(), colour.blue()))

    def _opacity_changed(self, value: int) -> None:
        self._set(opacity=value / 100.0)

    def _mode_changed(self, index: int) -> None:
        _, fill, contour = MODES[index]
        self._set(fill=fill, contour=contour)

    # ---- threshold ----
    def threshold_step(self) -> int:
        return self.threshold_slider.value()

    def set_threshold_step(self, step: int) -> None:
        """Show `step` without emitting anything (the document changed, e.g. by undo)."""
        self._updating = True
        self.threshold_slider.setValue(step)
        self.threshold_spin.setValue(step / THRESHOLD_STEPS)
        self._updating = False

    def _slider_moved(self, step: int) -> None:
        if self._updating:
            return
        self._updating = True
        self.threshold_spin.setValue(step / THRESHOLD_STEPS)
        self._updating = False
        if self.threshold_slider.isSliderDown():
            self.threshold_previewed.emit(step)
        else:  # keyboard, page step or a click on the groove: one change, one command
            self.threshold_committed.emit(step)

    def _slider_released(self) -> None:
        self.threshold_committed.emit(self.threshold_slider.value())

    def _spin_changed(self, value: float) -> None:
        if self._updating:
            return
        step = round(value * THRESHOLD_STEPS)
        self._updating = True
        self.threshold_slider.setValue(step)
        self._updating = False
        self.threshold_committed.emit(step)

    def set_area(self, area: tuple[int, int] | None) -> None:
        self.area_label.setText("—" if area is None else format_area(*area))
