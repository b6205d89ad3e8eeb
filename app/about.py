"""The About box: version, "for research use", and the model card (Markdown) when there is one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

import skinseg_core
from skinseg_core.paths import model_card_path

from app.identity import APP_NAME, app_icon

ICON_SIZE = 64


class AboutDialog(QDialog):
    def __init__(self, model_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about_dialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(640, 560)
        header = QLabel(
            f"<h2>{APP_NAME} {skinseg_core.__version__}</h2>"
            "<p>Finds the skin — healthy and diseased — in clinical photographs "
            "(Codella et al., EMBC 2018).</p>"
            "<p><b>For research use only.</b> Not a medical device; do not use it to diagnose or treat.</p>"
            "<p>SkinSeg works offline: your photos never leave this computer.</p>"
            f"<p>Model: {model_text}</p>",
            self,
        )
        header.setObjectName("about_header")
        header.setWordWrap(True)
        header.setOpenExternalLinks(False)
        self.icon_label = QLabel(self, objectName="about_icon")
        icon = app_icon()
        if not icon.isNull():
            self.icon_label.setPixmap(icon.pixmap(ICON_SIZE, ICON_SIZE))
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.card = QTextBrowser(objectName="model_card")
        self.card.setOpenExternalLinks(True)
        card = model_card_path()
        if card.exists():
            self.card.setMarkdown(card.read_text(encoding="utf-8"))
        else:
            self.card.setMarkdown("*The model card (models/MODEL_CARD.md) is not installed.*")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.icon_label)
        top.addWidget(header, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(QLabel("<b>Model card</b>"))
        layout.addWidget(self.card, 1)
        layout.addWidget(buttons)
