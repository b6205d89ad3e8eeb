"""Brush and eraser: round dabs joined by thick lines, drawn live into the mask; one stroke, one undo step."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsEllipseItem

from skinseg_core.maskpatch import BBox, union_bbox

from app.canvas.tools.base import Tool
from app.document import PhotoDocument


class BrushTool(Tool):
    cursor = Qt.CursorShape.CrossCursor

    def __init__(self, view, editor, erase: bool = False) -> None:  # noqa: ANN001
        super().__init__(view, editor)
        self.erase = erase
        self.name = "eraser" if erase else "brush"
        self._document: PhotoDocument | None = None
        self._snapshot: np.ndarray | None = None
        self._bbox: BBox | None = None
        self._last: QPointF | None = None
        self.outline = QGraphicsEllipseItem()
        pen = QPen(QColor(255, 255, 255) if not erase else QColor(255, 210, 0), 1.5)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.setZValue(20)
        self.outline.setVisible(False)
        editor.brush_size_changed.connect(lambda _size: self._show_outline(self.outline.rect().center()))

    def activate(self) -> None:
        super().activate()
        if self.outline.scene() is None:
            self.scene.addItem(self.outline)

    def deactivate(self) -> None:
        super().deactivate()
        self.outline.setVisible(False)

    def _show_outline(self, centre: QPointF) -> None:
        radius = self.editor.brush_size / 2
        self.outline.setRect(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))
        self.outline.setVisible(self.view.tool is self)

    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        document = self.editor.editable_document()
        if document is None:
            return
        self._document = document
        self._snapshot = document.mask.copy()
        self._bbox = None
        self._last = pos
        self._dab(pos, pos)

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        self._show_outline(pos)
        if self._document is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self._dab(self._last or pos, pos)
            self._last = pos

    def release(self, pos: QPointF, event: QMouseEvent) -> None:
        document, snapshot, bbox = self._document, self._snapshot, self._bbox
        self._document = self._snapshot = self._bbox = self._last = None
        if document is None or snapshot is None or bbox is None:
            return
        x0, y0, x1, y1 = bbox
        self.editor.commit(document, bbox, snapshot[y0:y1, x0:x1], "Eraser" if self.erase else "Brush")

    def cancel(self) -> None:
        """Undo the stroke being drawn (Esc while the button is held)."""
        document, snapshot, bbox = self._document, self._snapshot, self._bbox
        self._document = self._snapshot = self._bbox = self._last = None
        if document is not None and snapshot is not None and bbox is not None and document.mask is not None:
            x0, y0, x1, y1 = bbox
            document.write_region(bbox, snapshot[y0:y1, x0:x1])

    def _dab(self, a: QPointF, b: QPointF) -> None:
        document = self._document
        assert document is not None and document.mask is not None
        size = self.editor.brush_size
        radius = size / 2
        box = document.clip((int(min(a.x(), b.x()) - radius - 2), int(min(a.y(), b.y()) - radius - 2),
                             int(max(a.x(), b.x()) + radius + 3), int(max(a.y(), b.y()) + radius + 3)))
        if box is None:
            return
        x0, y0, x1, y1 = box
        crop = document.mask[y0:y1, x0:x1].copy()
        value = 0 if self.erase else 1
        p = (round(a.x() - x0), round(a.y() - y0))
        q = (round(b.x() - x0), round(b.y() - y0))
        if size <= 1:
            cv2.line(crop, p, q, value, 1, cv2.LINE_8)
        else:
            cv2.circle(crop, q, int(round(radius)), value, -1, cv2.LINE_8)
            if p != q:
                cv2.line(crop, p, q, value, size, cv2.LINE_8)
        document.write_region(box, crop)
        self._bbox = union_bbox(self._bbox, box)

    def wheel(self, event: QWheelEvent) -> bool:
        if not event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        delta = event.angleDelta().y() or event.angleDelta().x()  # Alt turns a wheel into a horizontal one on some
        if delta:
            self.editor.grow_brush(delta / 120.0)
        return True
