"""The Export dialog: where the masks go and in which formats."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

MASKS_FOLDER = "masks"


class ExportDialog(QDialog):
    def __init__(self, count: int, current_only_possible: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("export_dialog")
        self.setWindowTitle("Export masks")

        self.all_radio = QRadioButton(f"All segmented photos ({count})", objectName="export_all")
        self.current_radio = QRadioButton("The open photo only", objectName="export_current")
        self.all_radio.setChecked(True)
        self.current_radio.setEnabled(current_only_possible)
        which = QGroupBox("Photos")
        which_layout = QVBoxLayout(which)
        which_layout.addWidget(self.all_radio)
        which_layout.addWidget(self.current_radio)

        self.beside_radio = QRadioButton(
            f"A “{MASKS_FOLDER}” folder beside the photos", objectName="export_beside"
        )
        self.folder_radio = QRadioButton("This folder:", objectName="export_folder")
        self.beside_radio.setChecked(True)
        self.folder_edit = QLineEdit(objectName="export_folder_edit")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.folder_edit.textEdited.connect(lambda _: self.folder_radio.setChecked(True))
        where = QGroupBox("Save to")
        where_layout = QVBoxLayout(where)
        where_layout.addWidget(self.beside_radio)
        row = QHBoxLayout()
        row.addWidget(self.folder_radio)
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse)
        where_layout.addLayout(row)

        self.png_check = QCheckBox("Mask images (PNG, 0 = background, 255 = skin)", objectName="export_png")
        self.coco_check = QCheckBox("COCO annotations (coco.json, RLE)", objectName="export_coco")
        self.labelme_check = QCheckBox("labelme polygons (one .json per photo)", objectName="export_labelme")
        formats = QGroupBox("Formats")
        formats_layout = QVBoxLayout(formats)
        for check in (self.png_check, self.coco_check, self.labelme_check):
            check.setChecked(True)
            formats_layout.addWidget(check)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (which, where, formats):
            layout.addWidget(widget)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export masks to")
        if folder:
            self.folder_edit.setText(folder)
            self.folder_radio.setChecked(True)

    def chosen_folder(self) -> Path | None:
        """None: beside the photos."""
        if self.folder_radio.isChecked() and self.folder_edit.text().strip():
            return Path(self.folder_edit.text().strip())
        return None
