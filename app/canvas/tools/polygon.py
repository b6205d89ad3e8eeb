"""Polygon: click the corners, close by clicking the first one, double-clicking or Enter. Adds skin, or cuts it
out when the Cut Out mode is on or Shift is held at the first click. Backspace removes the last corner."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from app.canvas.tools.base import Tool


def polygon_raster(points: np.ndarray, bbox: tuple[int, int, int, int]) -> np.ndarray:
    """uint8 0/1 [h, w] of the filled polygon (x, y float [N, 2]) in the box, with sub-pixel corners."""
    x0, y0, x1, y1 = bbox
    out = np.zeros((y1 - y0, x1 - x0), np.uint8)
    fixed = np.rint((points - (x0, y0)) * 16).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(out, [fixed], 1, cv2.LINE_8, 4)
    return out


class PolygonTool(Tool):
    name = "polygon"
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, view, editor) -> None:  # noqa: ANN001
        super().__init__(view, editor)
        self.points: list[QPointF] = []
        self.subtract = False
        self._hover: QPointF | None = None
        self.path_item = QGraphicsPathItem()
        self.path_item.setZValue(20)

    def activate(self) -> None:
        super().activate()
        if self.path_item.scene() is None:
            self.scene.addItem(self.path_item)

    def _redraw(self) -> None:
        path = QPainterPath()
        if self.points:
            path.moveTo(self.points[0])
            for point in self.points[1:]:
                path.lineTo(point)
            if self._hover is not None:
                path.lineTo(self._hover)
        pen = QPen(QColor(255, 80, 80) if self.subtract else QColor(80, 255, 120), 2)
        pen.setCosmetic(True)
        self.path_item.setPen(pen)
        self.path_item.setPath(path)

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if not self.points:
            if self.editor.editable_document() is None:
                return
            self.subtract = self.editor.subtract or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        elif len(self.points) >= 3 and (pos - self.points[0]).manhattanLength() <= self.tolerance():
            self.finish()
            return
        self.points.append(pos)
        self._redraw()

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        self._hover = pos
        if self.points:
            self._redraw()

    def double_click(self, pos: QPointF, event: QMouseEvent) -> None:
        self.finish()

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.finish()
            return True
        if event.key() == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self._redraw()
            return True
        return False

    def finish(self) -> None:
        points, subtract = self.points, self.subtract
        self.cancel()
        document = self.editor.document
        if len(points) < 3 or document is None or document.mask is None:
            return
        xy = np.array([(p.x(), p.y()) for p in points])
        bbox = document.clip((int(np.floor(xy[:, 0].min())) - 1, int(np.floor(xy[:, 1].min())) - 1,
                              int(np.ceil(xy[:, 0].max())) + 2, int(np.ceil(xy[:, 1].max())) + 2))
        if bbox is None:
            return
        x0, y0, x1, y1 = bbox
        before = document.mask[y0:y1, x0:x1].copy()
        inside = polygon_raster(xy, bbox)
        after = before & (1 - inside) if subtract else before | inside
        document.write_region(bbox, after)
        self.editor.commit(document, bbox, before, "Polygon cut" if subtract else "Polygon")

    def cancel(self) -> None:
        self.points = []
        self._hover = None
        self._redraw()
