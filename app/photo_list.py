"""The Photos dock: the open photos with thumbnails (made by a worker) and a status per photo."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import qtawesome as qta
from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from skinseg_core.errors import SkinSegError
from skinseg_core.imageio import read_photo
from skinseg_core.sidecar import CORRECTED, NOT_SEGMENTED, SEGMENTED

from app.canvas.overlay import rgb_image

THUMB_SIZE = 72
UNREADABLE = "unreadable"
PATH_ROLE = Qt.ItemDataRole.UserRole
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1

EFFORT_ROLE = Qt.ItemDataRole.UserRole + 3


def format_effort(effort: dict[str, float]) -> str:
    """e.g. "12 edits · 3 min · 41k px" (time between edits, pauses counted as at most a minute)."""
    seconds = float(effort.get("seconds", 0.0))
    edits = int(effort.get("edits", 0))
    pixels = int(effort.get("pixels", 0))
    spent = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    changed = f"{pixels / 1e6:.1f}M px" if pixels >= 1e6 else f"{pixels / 1e3:.0f}k px" if pixels >= 1e4 else f"{pixels} px"
    return f"{edits} edit{'s' if edits != 1 else ''} · {spent} · {changed}"


_STATUS_TEXT = {
    NOT_SEGMENTED: "Not segmented",
    SEGMENTED: "Segmented",
    CORRECTED: "Corrected",
    UNREADABLE: "Cannot be read",
}


def make_thumbnails(paths: Sequence[Path], size: int) -> Iterator[tuple[Path, np.ndarray | None]]:
    """Worker generator: (photo, uint8 [h, w, 3] thumbnail or None when unreadable) for each photo."""
    for path in paths:
        try:
            photo = read_photo(path, min_long_side=size)
        except SkinSegError:
            yield path, None
            continue
        yield path, photo.rgb


def _status_icon(status: str) -> QIcon:
    names = {
        NOT_SEGMENTED: ("mdi6.circle-outline", "#888888"),
        SEGMENTED: ("mdi6.check-circle", "#2e9d5b"),
        CORRECTED: ("mdi6.pencil-circle", "#2f7fd8"),
        UNREADABLE: ("mdi6.alert-circle", "#d64541"),
    }
    name, colour = names.get(status, names[NOT_SEGMENTED])
    return qta.icon(name, color=colour)


class PhotoList(QListWidget):
    photo_activated = Signal(object)  # Path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("photo_list")
        self.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.setAcceptDrops(False)
        self.setAlternatingRowColors(False)
        # Camera and hospital file names are long: elide the middle (the end tells photos apart) instead of
        # scrolling sideways.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setWordWrap(False)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self._items: dict[Path, QListWidgetItem] = {}
        self._placeholder = self._placeholder_icon()
        self.currentItemChanged.connect(self._current_changed)

    def _placeholder_icon(self) -> QIcon:
        pixmap = QPixmap(THUMB_SIZE, THUMB_SIZE)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(128, 128, 128, 60))
        painter.drawRoundedRect(4, 4, THUMB_SIZE - 8, THUMB_SIZE - 8, 6, 6)
        painter.end()
        return QIcon(pixmap)

    def set_photos(self, photos: Sequence[Path], statuses: dict[Path, str],
                   efforts: dict[Path, dict[str, float]] | None = None) -> None:
        self.blockSignals(True)
        self.clear()
        self._items.clear()
        for path in photos:
            item = QListWidgetItem(self._placeholder, "")
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(str(path))
            self.addItem(item)
            self._items[path] = item
            self.set_status(path, statuses.get(path, NOT_SEGMENTED))
            if efforts and efforts.get(path):
                self.set_effort(path, efforts[path])
        self.blockSignals(False)

    def photos(self) -> list[Path]:
        return list(self._items)

    def set_status(self, path: Path, status: str) -> None:
        item = self._items.get(path)
        if item is None:
            return
        if item.data(STATUS_ROLE) == status:
            return
        item.setData(STATUS_ROLE, status)
        self._set_text(item, path)
        item.setStatusTip(_STATUS_TEXT.get(status, status))
        self._paint_badge(item, status)

    def _set_text(self, item: QListWidgetItem, path: Path) -> None:
        status = str(item.data(STATUS_ROLE))
        text = f"{path.name}\n{_STATUS_TEXT.get(status, status)}"
        effort = item.data(EFFORT_ROLE)
        if effort:
            text += "\n" + format_effort(effort)
        item.setText(text)

    def set_effort(self, path: Path, effort: dict[str, float] | None) -> None:
        """Time, edits and pixels changed while correcting the photo, shown under its status."""
        item = self._items.get(path)
        if item is not None:
            item.setData(EFFORT_ROLE, dict(effort) if effort else None)
            self._set_text(item, path)

    def effort_text(self, path: Path) -> str:
        item = self._items.get(path)
        effort = item.data(EFFORT_ROLE) if item is not None else None
        return format_effort(effort) if effort else ""

    def status(self, path: Path) -> str:
        item = self._items.get(path)
        return str(item.data(STATUS_ROLE)) if item is not None else NOT_SEGMENTED

    def set_thumbnail(self, path: Path, rgb: np.ndarray | None) -> None:
        item = self._items.get(path)
        if item is None:
            return
        if rgb is None:
            item.setData(Qt.ItemDataRole.UserRole + 2, None)
            self.set_status(path, UNREADABLE)
            return
        ratio = self.devicePixelRatioF() or 1.0  # sharp on HiDPI screens: device pixels, drawn at logical size
        side = round(THUMB_SIZE * ratio)
        pixmap = QPixmap.fromImage(rgb_image(rgb)).scaled(
            side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        )
        pixmap.setDevicePixelRatio(ratio)
        item.setData(Qt.ItemDataRole.UserRole + 2, pixmap)
        self._paint_badge(item, self.status(path))

    def _paint_badge(self, item: QListWidgetItem, status: str) -> None:
        """Thumbnail (or placeholder) with the status icon in its corner."""
        base = item.data(Qt.ItemDataRole.UserRole + 2)
        ratio = self.devicePixelRatioF() or 1.0
        canvas = QPixmap(round(THUMB_SIZE * ratio), round(THUMB_SIZE * ratio))
        canvas.setDevicePixelRatio(ratio)
        canvas.fill(Qt.GlobalColor.transparent)
        painter = QPainter(canvas)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if isinstance(base, QPixmap) and not base.isNull():
            size = base.deviceIndependentSize()
            painter.drawPixmap(QPointF((THUMB_SIZE - size.width()) / 2, (THUMB_SIZE - size.height()) / 2), base)
        else:
            self._placeholder.paint(painter, 0, 0, THUMB_SIZE, THUMB_SIZE)
        badge = 22
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 220))
        painter.drawEllipse(THUMB_SIZE - badge - 1, THUMB_SIZE - badge - 1, badge, badge)
        _status_icon(status).paint(painter, THUMB_SIZE - badge, THUMB_SIZE - badge, badge - 2, badge - 2)
        painter.end()
        icon = QIcon(canvas)
        icon.addPixmap(canvas, QIcon.Mode.Selected)  # no selection tint over the photo: the row shows selection
        item.setIcon(icon)

    def select(self, path: Path) -> None:
        item = self._items.get(path)
        if item is not None and self.currentItem() is not item:
            self.setCurrentItem(item)

    def current_path(self) -> Path | None:
        item = self.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None

    def step(self, delta: int) -> None:
        if self.count() == 0:
            return
        row = self.currentRow()
        row = 0 if row < 0 else max(0, min(self.count() - 1, row + delta))
        self.setCurrentRow(row)

    def _current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is not None:
            self.photo_activated.emit(Path(current.data(PATH_ROLE)))
