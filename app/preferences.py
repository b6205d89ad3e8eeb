"""Edit › Preferences: device, segmenting on open, the default overlay and threshold, the undo history kept per photo.
Every change applies at once
(there is no OK button to forget): the dialog only emits signals, the main window applies and stores them."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skinseg_core.devices import DEVICE_CHOICES
from skinseg_core.overlay import OverlayStyle

from app.display_panel import MODES
from app.history import DEFAULT_PHOTO_LIMIT_MB, MAX_PHOTO_LIMIT_MB, MIN_PHOTO_LIMIT_MB

DEVICE_NAMES = {"auto": "Automatic (CUDA, then Apple MPS, then CPU)", "cpu": "CPU", "cuda": "CUDA (NVIDIA GPU)",
                "mps": "Apple MPS"}


class PreferencesDialog(QDialog):
    device_chosen = Signal(str)
    auto_segment_changed = Signal(bool)
    overlay_style_changed = Signal(object)  # OverlayStyle
    default_threshold_changed = Signal(object)  # float, or None for the model's own threshold
    history_limit_changed = Signal(int)  # MB of undo history per photo

    def __init__(
        self,
        *,
        device: str,
        available: tuple[str, ...],
        auto_segment: bool,
        style: OverlayStyle,
        default_threshold: float | None,
        model_threshold: float,
        history_limit_mb: int = DEFAULT_PHOTO_LIMIT_MB,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("preferences_dialog")
        self.setWindowTitle("Preferences")
        self._style = style

        self.device_combo = QComboBox(objectName="pref_device")
        model = self.device_combo.model()
        for row, name in enumerate(DEVICE_CHOICES):
            self.device_combo.addItem(DEVICE_NAMES[name], name)
            if name not in available and isinstance(model, QStandardItemModel):
                item = model.item(row)
                item.setEnabled(False)
                item.setToolTip("Not available on this computer")
        self.device_combo.setCurrentIndex(max(0, DEVICE_CHOICES.index(device) if device in DEVICE_CHOICES else 0))
        self.device_combo.currentIndexChanged.connect(
            lambda i: self.device_chosen.emit(str(self.device_combo.itemData(i))))

        self.auto_segment_check = QCheckBox("Segment the photo when it opens", objectName="pref_auto_segment")
        self.auto_segment_check.setChecked(auto_segment)
        self.auto_segment_check.toggled.connect(self.auto_segment_changed)

        self.colour_button = QToolButton(objectName="pref_colour")
        self.colour_button.setToolTip("Overlay colour")
        self.colour_button.clicked.connect(self._choose_colour)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, objectName="pref_opacity")
        self.opacity_slider.setRange(5, 100)
        self.opacity_slider.setValue(round(style.opacity * 100))
        self.opacity_label = QLabel(objectName="pref_opacity_label")
        self.opacity_slider.valueChanged.connect(lambda v: self._set_style(opacity=v / 100.0))
        self.mode_combo = QComboBox(objectName="pref_mode")
        for label, _, _ in MODES:
            self.mode_combo.addItem(label)
        self.mode_combo.setCurrentIndex(
            next((i for i, (_, f, c) in enumerate(MODES) if (f, c) == (style.fill, style.contour)), 0))
        self.mode_combo.currentIndexChanged.connect(
            lambda i: self._set_style(fill=MODES[i][1], contour=MODES[i][2]))

        self.model_threshold_check = QCheckBox(f"The model's own ({model_threshold:.2f})",
                                               objectName="pref_model_threshold")
        self.threshold_spin = QDoubleSpinBox(objectName="pref_threshold")
        self.threshold_spin.setRange(0.0, 1.0)
        self.threshold_spin.setSingleStep(0.01)
        self.threshold_spin.setDecimals(2)
        self.threshold_spin.setKeyboardTracking(False)
        self.threshold_spin.setValue(model_threshold if default_threshold is None else default_threshold)
        self.model_threshold_check.setChecked(default_threshold is None)
        self.threshold_spin.setEnabled(default_threshold is not None)
        self.model_threshold_check.toggled.connect(self._threshold_changed)
        self.threshold_spin.valueChanged.connect(self._threshold_changed)

        self.history_spin = QSpinBox(objectName="pref_history_limit")
        self.history_spin.setRange(MIN_PHOTO_LIMIT_MB, MAX_PHOTO_LIMIT_MB)
        self.history_spin.setSuffix(" MB")
        self.history_spin.setKeyboardTracking(False)
        self.history_spin.setValue(history_limit_mb)
        self.history_spin.setToolTip("Memory the undo history of each photo may use; beyond it the oldest steps are "
                                     "dropped")
        self.history_spin.valueChanged.connect(self.history_limit_changed)

        appearance = QHBoxLayout()
        appearance.addWidget(self.colour_button)
        appearance.addWidget(self.opacity_slider, 1)
        appearance.addWidget(self.opacity_label)
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(self.model_threshold_check)
        threshold_row.addWidget(self.threshold_spin)
        form = QFormLayout()
        form.addRow("Run the model on", self.device_combo)
        form.addRow("", self.auto_segment_check)
        form.addRow("Overlay colour", appearance)
        form.addRow("Show the skin as", self.mode_combo)
        form.addRow("Default threshold", threshold_row)
        form.addRow("Undo history per photo", self.history_spin)
        note = QLabel("Changes apply at once. The default threshold is used for photos whose threshold you have not "
                      "changed.", wordWrap=True)
        note.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._show_style()

    @property
    def overlay_style(self) -> OverlayStyle:
        return self._style

    def _show_style(self) -> None:
        pixmap = QPixmap(20, 20)
        pixmap.fill(QColor(*self._style.colour))
        self.colour_button.setIcon(QIcon(pixmap))
        self.opacity_label.setText(f"{round(self._style.opacity * 100)} %")

    def _set_style(self, **changes: object) -> None:
        self._style = replace(self._style, **changes)
        self._show_style()
        self.overlay_style_changed.emit(self._style)

    def set_colour(self, rgb: tuple[int, int, int]) -> None:
        self._set_style(colour=tuple(int(c) for c in rgb))

    def _choose_colour(self) -> None:
        colour = QColorDialog.getColor(QColor(*self._style.colour), self, "Overlay colour")
        if colour.isValid():
            self.set_colour((colour.red(), colour.green(), colour.blue()))

    def _threshold_changed(self) -> None:
        use_model = self.model_threshold_check.isChecked()
        self.threshold_spin.setEnabled(not use_model)
        self.default_threshold_changed.emit(None if use_model else round(self.threshold_spin.value(), 2))
