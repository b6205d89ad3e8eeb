"""The Correct dock: the editing tools, brush size, cut-out mode, fill holes and remove small islands."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFormLayout, QGridLayout, QLabel, QSpinBox, QToolButton, QVBoxLayout, QWidget

from app.editing import MAX_BRUSH, MIN_BRUSH, MaskEditor


def _button(action: QAction) -> QToolButton:
    button = QToolButton()
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setSizePolicy(button.sizePolicy().horizontalPolicy().Expanding, button.sizePolicy().verticalPolicy())
    return button


class CorrectPanel(QWidget):
    def __init__(self, editor: MaskEditor, tools: dict[str, QAction], subtract: QAction, fill_holes: QAction,
                 remove_islands: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("correct_panel")
        self.editor = editor
        grid = QGridLayout()
        for i, action in enumerate(list(tools.values()) + [subtract]):
            grid.addWidget(_button(action), i // 2, i % 2)

        self.brush_spin = QSpinBox(objectName="brush_size")
        self.brush_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip("Brush and eraser diameter in photo pixels ([ and ], or Ctrl+wheel)")
        self.brush_spin.setValue(editor.brush_size)
        self.brush_spin.valueChanged.connect(editor.set_brush_size)
        editor.brush_size_changed.connect(self.brush_spin.setValue)

        self.island_spin = QSpinBox(objectName="island_area")
        self.island_spin.setRange(1, 10_000_000)
        self.island_spin.setValue(500)
        self.island_spin.setSuffix(" px")
        self.island_spin.setToolTip("Remove Small Islands removes skin regions smaller than this")

        form = QFormLayout()
        form.addRow("Brush size", self.brush_spin)
        form.addRow(_button(fill_holes))
        form.addRow("Islands under", self.island_spin)
        form.addRow(_button(remove_islands))
        hint = QLabel("Corrections are saved as you make them. Ctrl+Z undoes, Ctrl+Shift+Z or Ctrl+Y redoes.",
                      wordWrap=True)
        hint.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addStretch(1)
