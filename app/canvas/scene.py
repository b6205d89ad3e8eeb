"""The scene: coordinates are the photo's full-resolution pixels, whatever resolution is decoded for display."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene


def _fit_item(item: QGraphicsPixmapItem, image_size: tuple[int, int], full_size: tuple[int, int]) -> None:
    sx = full_size[0] / image_size[0]
    sy = full_size[1] / image_size[1]
    item.setTransform(QTransform.fromScale(sx, sy))


class PhotoScene(QGraphicsScene):
    def __init__(self) -> None:
        super().__init__()
        self.photo_item = QGraphicsPixmapItem()
        self.overlay_item = QGraphicsPixmapItem()
        self.contour_item = QGraphicsPixmapItem()
        for z, item in enumerate((self.photo_item, self.overlay_item, self.contour_item)):
            item.setZValue(z)
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            self.addItem(item)
        self.full_size: tuple[int, int] | None = None

    def clear_photo(self) -> None:
        self.full_size = None
        for item in (self.photo_item, self.overlay_item, self.contour_item):
            item.setPixmap(QPixmap())
        self.setSceneRect(QRectF())

    def set_photo(self, image: QImage, full_size: tuple[int, int]) -> None:
        self.full_size = full_size
        self.photo_item.setPixmap(QPixmap.fromImage(image))
        _fit_item(self.photo_item, (image.width(), image.height()), full_size)
        self.setSceneRect(QRectF(0, 0, full_size[0], full_size[1]))

    def _set_layer(self, item: QGraphicsPixmapItem, image: QImage | None) -> None:
        if image is None or self.full_size is None:
            item.setPixmap(QPixmap())
            item.setVisible(False)
            return
        item.setPixmap(QPixmap.fromImage(image))
        _fit_item(item, (image.width(), image.height()), self.full_size)
        item.setVisible(True)

    def set_overlay(self, fill: QImage | None, contour: QImage | None) -> None:
        self._set_layer(self.overlay_item, fill)
        self._set_layer(self.contour_item, contour)
