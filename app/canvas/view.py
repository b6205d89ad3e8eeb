"""The photo view: wheel zoom around the cursor, fit to window, 100 %, pan with space-drag or middle-drag.

"100 %" means one photo pixel per physical screen pixel, so on a HiDPI screen (device pixel ratio 2) the view's
scale is 0.5 in Qt's device-independent units.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QTransform, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from app.canvas.scene import PhotoScene

MIN_ZOOM = 0.01  # photo pixels per device pixel
MAX_ZOOM = 32.0
WHEEL_STEP = 1.25


class PhotoView(QGraphicsView):
    zoom_changed = Signal(float)  # percent (100 = one photo pixel per device pixel)
    refused = Signal(str)  # a tool was used while the view is read-only: why it did nothing

    def __init__(self, scene: PhotoScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("photo_view")
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # No scroll bars (pan by dragging): a scroll bar appearing mid-zoom narrows the viewport and shifts the photo
        # away from under the cursor. Their ranges and values still work, and panning uses them.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # drops go to the main window, which opens them
        self.fit_mode = True
        self._space_held = False
        self._pan_from: QPoint | None = None
        self.placeholder = ""
        self.tool = None  # app.canvas.tools.Tool: gets the left button (and hover) when not panning
        self.read_only = ""  # when set, why the tool gets no input (zoom and pan still work)
        self.viewport().setMouseTracking(True)
        self.set_dark(False)

    def set_dark(self, dark: bool) -> None:
        """A neutral grey around the photo: colours are judged against grey, not against white."""
        self.setBackgroundBrush(QColor(30, 30, 32) if dark else QColor(92, 92, 96))

    # ---- zoom ----
    def device_ratio(self) -> float:
        return self.devicePixelRatioF() or 1.0

    def zoom_percent(self) -> float:
        return self.transform().m11() * self.device_ratio() * 100.0

    def fit(self) -> None:
        self.fit_mode = True
        rect = self.sceneRect()
        if not rect.isEmpty():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom_percent())

    def actual_size(self) -> None:
        self.fit_mode = False
        ratio = 1.0 / self.device_ratio()
        centre = self.mapToScene(self.viewport().rect().center())
        self.setTransform(QTransform.fromScale(ratio, ratio))
        self.centerOn(centre)
        self.zoom_changed.emit(self.zoom_percent())

    def zoom_by(self, factor: float, anchor: QPoint | None = None) -> None:
        """Zoom by `factor`, keeping the scene point under `anchor` (viewport coordinates) where it is."""
        current = self.transform().m11() * self.device_ratio()
        target = max(MIN_ZOOM, min(MAX_ZOOM, current * factor))
        factor = target / current if current else 1.0
        if abs(factor - 1.0) < 1e-9:
            return
        self.fit_mode = False
        if anchor is None:
            anchor = self.viewport().rect().center()
        before = self.mapToScene(anchor)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.scale(factor, factor)
        # Scroll so that `before` is under the anchor again. Done with the scroll bars, not translate(): while the
        # scene is scrollable, the view ignores a transform's translation (which broke zooming at 200 % scaling,
        # where the photo fits one way and not the other).
        moved = self.mapFromScene(before) - anchor
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + moved.x())
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + moved.y())
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.zoom_changed.emit(self.zoom_percent())

    def set_tool(self, tool) -> None:  # noqa: ANN001 - app.canvas.tools.Tool or None
        if self.tool is not None:
            self.tool.deactivate()
        self.tool = tool
        if tool is not None:
            tool.activate()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        if self.tool is not None and self.tool.wheel(event):
            event.accept()
            return
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            steps = event.pixelDelta().y() / 50.0
        if steps:
            self.zoom_by(WHEEL_STEP**steps, event.position().toPoint())
        event.accept()

    def resizeEvent(self, event) -> None:  # noqa: N802, ANN001 - Qt override
        super().resizeEvent(event)
        if self.fit_mode:
            self.fit()

    # ---- pan ----
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        if self.tool is not None and not self.read_only and self.tool.key_press(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            if self._pan_from is None:
                self.viewport().unsetCursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held
        ):
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if self.tool is not None and event.button() == Qt.MouseButton.LeftButton and self.sceneRect().isValid():
            if self.read_only:
                self.refused.emit(self.read_only)
            else:
                self.tool.press(self.mapToScene(event.position().toPoint()), event)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_from is not None:
            pos = event.position().toPoint()
            delta = pos - self._pan_from
            self._pan_from = pos
            self.fit_mode = False
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            event.accept()
            return
        if self.tool is not None and self.sceneRect().isValid():
            if not self.read_only:
                self.tool.move(self.mapToScene(event.position().toPoint()), event)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            if self._space_held:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.viewport().setCursor(self.tool.cursor) if self.tool else self.viewport().unsetCursor()
            event.accept()
            return
        if self.tool is not None and event.button() == Qt.MouseButton.LeftButton:
            if not self.read_only:
                self.tool.release(self.mapToScene(event.position().toPoint()), event)
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self.tool is not None and event.button() == Qt.MouseButton.LeftButton and self.sceneRect().isValid():
            if not self.read_only:
                self.tool.double_click(self.mapToScene(event.position().toPoint()), event)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # ---- empty state ----
    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt override
        super().drawForeground(painter, rect)
        if self.sceneRect().isEmpty() and self.placeholder:
            painter.save()
            painter.resetTransform()
            painter.setPen(QColor(220, 220, 220))
            painter.drawText(
                self.viewport().rect().adjusted(24, 24, -24, -24),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.placeholder,
            )
            painter.restore()
