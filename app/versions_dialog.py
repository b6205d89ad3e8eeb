"""Model › Model Versions…: every model the user can go back to (the bundled one included), with its card."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skinseg_core import versions
from skinseg_core.versions import ModelVersion


def describe(version: ModelVersion) -> str:
    card = version.card
    if version.bundled:
        return f"Bundled model ({card.get('name') or version.path.stem})"
    parts = [version.id]
    if card.get("parent"):
        parts.append(f"from {card['parent']}")
    photos = card.get("photos")
    if photos:
        parts.append(f"{len(photos)} photos")
    summary = (card.get("metrics") or {}).get("new")
    if isinstance(summary, dict) and "jaccard" in summary:
        parts.append(f"held-out Jaccard {summary['jaccard']:.3f}")
    if card.get("created"):
        parts.append(str(card["created"]).replace("T", " ")[:16])
    return " · ".join(parts)


class ModelVersionsDialog(QDialog):
    """Lists the versions; "Use This Version" emits `version_chosen(id)` (the window switches to it)."""

    version_chosen = Signal(str)

    def __init__(self, active_id: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("versions_dialog")
        self.setWindowTitle("Model Versions")
        self.resize(560, 360)
        found, problems = versions.list_versions()
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Choose the model SkinSeg uses. Going back to a version keeps the others."))
        self.list = QListWidget(objectName="versions_list")
        for version in found:
            text = describe(version) + ("   (in use)" if version.id == active_id else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, version.id)
            self.list.addItem(item)
            if version.id == active_id:
                self.list.setCurrentItem(item)
        layout.addWidget(self.list, 1)
        self.problems_label = QLabel("\n".join(p.message for p in problems), objectName="versions_problems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setVisible(bool(problems))
        self.problems_label.setStyleSheet("color: #d64541")
        layout.addWidget(self.problems_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.use_button = QPushButton("Use This Version", objectName="use_version")
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.use_button.clicked.connect(self._use)
        self.list.itemDoubleClicked.connect(lambda _item: self._use())
        layout.addWidget(buttons)

    def ids(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def select(self, version_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == version_id:
                self.list.setCurrentRow(i)

    def _use(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.version_chosen.emit(item.data(Qt.ItemDataRole.UserRole))
        self.accept()
