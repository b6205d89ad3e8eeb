"""The interface between the view and a mouse tool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent, QWheelEvent

if TYPE_CHECKING:
    from app.canvas.view import PhotoView
    from app.editing import MaskEditor

HIT_PIXELS = 8.0  # how close (in screen pixels) a press must be to a point or a curve to grab it


class Tool:
    name = "navigate"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, view: PhotoView, editor: MaskEditor) -> None:
        self.view = view
        self.editor = editor

    @property
    def scene(self):  # noqa: ANN201 - PhotoScene, imported lazily to avoid a cycle
        return self.view.scene()

    def tolerance(self, pixels: float = HIT_PIXELS) -> float:
        """`pixels` screen pixels in scene units at the current zoom."""
        return pixels / max(1e-9, self.view.transform().m11())

    def activate(self) -> None:
        self.view.viewport().setCursor(self.cursor)

    def deactivate(self) -> None:
        self.cancel()
        self.view.viewport().unsetCursor()

    def press(self, pos: QPointF, event: QMouseEvent) -> None: ...

    def move(self, pos: QPointF, event: QMouseEvent) -> None: ...

    def release(self, pos: QPointF, event: QMouseEvent) -> None: ...

    def double_click(self, pos: QPointF, event: QMouseEvent) -> None: ...

    def wheel(self, event: QWheelEvent) -> bool:
        """True when the tool used the wheel event (the view zooms otherwise)."""
        return False

    def key_press(self, event: QKeyEvent) -> bool:
        return False

    def finish(self) -> None:
        """Enter: close what is being drawn."""

    def cancel(self) -> None:
        """Esc or a tool change: drop what is being drawn (nothing was committed)."""

    def document_changed(self) -> None:
        """Another photo is shown, or its mask or splines changed outside this tool."""
