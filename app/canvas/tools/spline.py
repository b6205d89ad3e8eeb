"""Spline editing: the mask as closed smooth curves (skinseg_core.contours), one per skin region, holes as inner
curves.

- drag a control point: the curve follows live; one undo step on release
- click on a curve: a new point there (then drag it)
- double-click a point or Delete: remove it; K: make the selected point sharp (a corner) or smooth again
- drag inside a region: move it; Delete with no point selected: remove the selected region
- click outside every region: draw a new curve (close it on its first point, by double-clicking or Enter); it adds
  skin, or cuts it out in Cut Out mode or with Shift held at the first click

The regions are fitted in a worker (MaskEditor.splines); until they arrive the tool shows none and edits nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from skinseg_core.contours import Curve, Region, nearest_on_curve, rasterise, sample_curve
from skinseg_core.maskpatch import union_bbox

from app.canvas.tools.base import Tool
from app.canvas.tools.polygon import polygon_raster
from app.document import PhotoDocument

HANDLE = 7.0  # screen pixels


@dataclass
class Selection:
    region: int
    curve: int = -1  # 0 = outer, 1.. = holes; -1: the region as a whole
    point: int = -1


def _path(points: np.ndarray) -> QPainterPath:
    path = QPainterPath()
    if len(points):
        path.moveTo(QPointF(*points[0]))
        for x, y in points[1:]:
            path.lineTo(QPointF(x, y))
        path.closeSubpath()
    return path


class SplineItem(QGraphicsItem):
    """Draws every editable curve and its control points (handles keep their screen size at any zoom)."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(15)
        self.regions: tuple[Region, ...] = ()
        self.selection: Selection | None = None
        self.draft: list[QPointF] = []
        self.draft_subtract = False
        self._paths: list[tuple[int, int, QPainterPath]] = []
        self._rect = QRectF()

    def set_regions(self, regions: tuple[Region, ...], rect: QRectF) -> None:
        self.prepareGeometryChange()
        self.regions = regions
        self._rect = rect
        self._paths = [(r, c, _path(sample_curve(curve))) for r, region in enumerate(regions)
                       for c, curve in enumerate(region.curves()) if region.editable]
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect.adjusted(-50, -50, 50, 50)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        selected_region = self.selection.region if self.selection else -1
        for r, _c, path in self._paths:
            pen = QPen(QColor(255, 230, 0) if r == selected_region else QColor(0, 230, 255), 2)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        if self.draft:
            pen = QPen(QColor(255, 80, 80) if self.draft_subtract else QColor(80, 255, 120), 2)
            pen.setCosmetic(True)
            painter.setPen(pen)
            draft = QPainterPath(self.draft[0])
            for point in self.draft[1:]:
                draft.lineTo(point)
            painter.drawPath(draft)
        # Handles in device pixels, so they keep their size whatever the zoom.
        transform = painter.worldTransform()
        painter.save()
        painter.resetTransform()
        for r, region in enumerate(self.regions):
            if not region.editable:
                continue
            for c, curve in enumerate(region.curves()):
                for i, (x, y) in enumerate(curve.points):
                    centre = transform.map(QPointF(x, y))
                    chosen = self.selection is not None and (self.selection.region, self.selection.curve,
                                                              self.selection.point) == (r, c, i)
                    painter.setPen(QPen(QColor(20, 20, 20), 1))
                    painter.setBrush(QColor(255, 230, 0) if chosen else QColor(255, 255, 255))
                    rect = QRectF(centre.x() - HANDLE / 2, centre.y() - HANDLE / 2, HANDLE, HANDLE)
                    if curve.corners[i]:
                        painter.drawRect(rect)
                    else:
                        painter.drawEllipse(rect)
        for point in self.draft:
            centre = transform.map(point)
            painter.setBrush(QColor(255, 255, 255))
            painter.drawEllipse(QRectF(centre.x() - HANDLE / 2, centre.y() - HANDLE / 2, HANDLE, HANDLE))
        painter.restore()


class SplineTool(Tool):
    name = "spline"
    cursor = Qt.CursorShape.ArrowCursor

    def __init__(self, view, editor) -> None:  # noqa: ANN001
        super().__init__(view, editor)
        self.item = SplineItem()
        self.regions: tuple[Region, ...] = ()
        self.selection: Selection | None = None
        self.pending = False  # the regions are being fitted
        self._drag: str | None = None  # "point" | "region"
        self._drag_from: QPointF | None = None
        self._drag_region: Region | None = None
        self._drag_moved = False
        self.draft: list[QPointF] = []
        self.draft_subtract = False

    # ---- state ----
    def activate(self) -> None:
        super().activate()
        if self.item.scene() is None:
            self.scene.addItem(self.item)
        self.item.setVisible(True)
        self.document_changed()

    def deactivate(self) -> None:
        super().deactivate()
        self.item.setVisible(False)

    def document_changed(self) -> None:
        if self._drag is not None:
            return
        document = self.editor.document
        regions = self.editor.splines(document) if document is not None else ()
        if regions is None and not self.pending:
            self.editor.message.emit("Fitting curves to the mask…")
        self.pending = regions is None
        self.regions = regions or ()
        if self.selection is not None and self.selection.region >= len(self.regions):
            self.selection = None
        self._show()

    def _show(self, regions: tuple[Region, ...] | None = None) -> None:
        document = self.editor.document
        size = document.full_size if document is not None and document.full_size else (0, 0)
        self.item.selection = self.selection
        self.item.draft = self.draft
        self.item.draft_subtract = self.draft_subtract
        self.item.set_regions(self.regions if regions is None else regions, QRectF(0, 0, size[0], size[1]))

    def _document(self) -> PhotoDocument | None:
        """The document, editing begun, with its regions fitted (they are the ones shown); None, after saying why,
        otherwise."""
        document = self.editor.editable_document()
        if document is None:
            return None
        regions = self.editor.splines(document)
        if regions is None:
            self.pending = True
            self.editor.message.emit("The curves are still being fitted: edit them in a moment.")
            return None
        self.regions = regions
        return document

    # ---- hit tests ----
    def _hit_point(self, pos: QPointF) -> Selection | None:
        best, tol = None, self.tolerance()
        for r, region in enumerate(self.regions):
            if not region.editable:
                continue
            for c, curve in enumerate(region.curves()):
                d = np.hypot(curve.points[:, 0] - pos.x(), curve.points[:, 1] - pos.y())
                i = int(d.argmin())
                if d[i] <= tol and (best is None or d[i] < best[0]):
                    best = (d[i], Selection(r, c, i))
        return best[1] if best else None

    def _hit_curve(self, pos: QPointF) -> tuple[Selection, int] | None:
        tol = self.tolerance()
        for r, region in enumerate(self.regions):
            if not region.editable:
                continue
            x0, y0, x1, y1 = region.bbox()
            if not (x0 - tol <= pos.x() <= x1 + tol and y0 - tol <= pos.y() <= y1 + tol):
                continue
            for c, curve in enumerate(region.curves()):
                segment, distance, _ = nearest_on_curve(curve, (pos.x(), pos.y()))
                if distance <= tol:
                    return Selection(r, c, -1), segment
        return None

    def _hit_region(self, pos: QPointF) -> int | None:
        for r, region in enumerate(self.regions):
            if not region.editable:
                continue
            inside = cv2.pointPolygonTest(sample_curve(region.outer).astype(np.float32), (pos.x(), pos.y()), False)
            if inside < 0:
                continue
            if any(cv2.pointPolygonTest(sample_curve(h).astype(np.float32), (pos.x(), pos.y()), False) > 0
                   for h in region.holes):
                continue
            return r
        return None

    # ---- mouse ----
    def press(self, pos: QPointF, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self.pending:
            self.editor.message.emit("The curves are still being fitted: edit them in a moment.")
            return
        if self.draft:
            if len(self.draft) >= 3 and (pos - self.draft[0]).manhattanLength() <= self.tolerance():
                self.finish()
            else:
                self.draft.append(pos)
                self._show()
            return
        hit = self._hit_point(pos)
        if hit is None:
            on_curve = self._hit_curve(pos)
            if on_curve is not None:
                selection, segment = on_curve
                if self._document() is None:
                    return
                curve = self.regions[selection.region].curves()[selection.curve]
                self._replace_curve(selection.region, selection.curve, curve.inserted(segment, (pos.x(), pos.y())),
                                    "Insert point")
                hit = Selection(selection.region, selection.curve, segment + 1)
        if hit is not None:
            self.selection = hit
            self._drag, self._drag_from, self._drag_moved = "point", pos, False
            self._drag_region = self.regions[hit.region]
            self._show()
            return
        region = self._hit_region(pos)
        if region is not None:
            self.selection = Selection(region)
            self._drag, self._drag_from, self._drag_moved = "region", pos, False
            self._drag_region = self.regions[region]
            self._show()
            return
        # Outside every region: start drawing a new one.
        if self.editor.editable_document() is None:
            return
        self.selection = None
        self.draft = [pos]
        self.draft_subtract = self.editor.subtract or bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self._show()

    def move(self, pos: QPointF, event: QMouseEvent) -> None:
        if self._drag is None or not event.buttons() & Qt.MouseButton.LeftButton or self.selection is None:
            return
        self._drag_moved = True
        preview = list(self.regions)
        preview[self.selection.region] = self._dragged(pos)
        self._show(tuple(preview))

    def _dragged(self, pos: QPointF) -> Region:
        region, selection = self._drag_region, self.selection
        assert region is not None and selection is not None and self._drag_from is not None
        if self._drag == "region":
            delta = pos - self._drag_from
            return region.translated(round(delta.x()), round(delta.y()))
        curves = list(region.curves())
        curves[selection.curve] = curves[selection.curve].moved(selection.point, (pos.x(), pos.y()))
        return region.edited(curves[0], tuple(curves[1:]))

    def release(self, pos: QPointF, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        kind, moved = self._drag, self._drag_moved
        new = self._dragged(pos) if moved else None
        self._drag = None
        if new is not None and self.selection is not None:
            if self._document() is not None:
                self._replace_region(self.selection.region, new, "Move region" if kind == "region" else "Move point")
        self._show()

    def double_click(self, pos: QPointF, event: QMouseEvent) -> None:
        if self.draft:
            self.finish()
            return
        hit = self._hit_point(pos)
        if hit is not None:
            self.selection = hit
            self.delete_selected()

    def key_press(self, event: QKeyEvent) -> bool:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.draft:
            self.finish()
            return True
        if event.key() == Qt.Key.Key_Backspace and self.draft:
            self.draft.pop()
            self._show()
            return True
        return False

    # ---- edits (each is one command) ----
    def _replace_region(self, index: int, region: Region | None, text: str) -> None:
        document = self.editor.document
        if document is None or document.mask is None:
            return
        old = self.regions
        new = old[:index] + ((region,) if region is not None else ()) + old[index + 1 :]
        size = (document.mask.shape[1], document.mask.shape[0])
        bbox = document.clip(union_bbox(old[index].bbox(), region.bbox() if region is not None else None))
        self.regions = new
        if bbox is not None:
            x0, y0, x1, y1 = bbox
            before = document.mask[y0:y1, x0:x1].copy()
            document.write_region(bbox, rasterise(new, size, bbox=bbox))
            self.editor.commit(document, bbox, before, text, splines_after=new, splines_before=old)
        else:
            document.set_splines(new)
        self._show()

    def _replace_curve(self, region: int, curve: int, new: Curve, text: str) -> None:
        curves = list(self.regions[region].curves())
        curves[curve] = new
        self._replace_region(region, self.regions[region].edited(curves[0], tuple(curves[1:])), text)

    def delete_selected(self) -> bool:
        selection = self.selection
        if selection is None or selection.region >= len(self.regions) or self._document() is None:
            return False
        region = self.regions[selection.region]
        if selection.point >= 0:
            curve = region.curves()[selection.curve]
            if len(curve) > 3:
                self._replace_curve(selection.region, selection.curve, curve.deleted(selection.point),
                                    "Delete point")
                self.selection = Selection(selection.region)
                self._show()
                return True
            if selection.curve > 0:  # a hole down to 3 points goes away: the hole is filled
                holes = tuple(h for k, h in enumerate(region.holes) if k != selection.curve - 1)
                self._replace_region(selection.region, region.edited(region.outer, holes), "Delete hole")
                self.selection = Selection(selection.region)
                return True
        self._replace_region(selection.region, None, "Delete region")
        self.selection = None
        self._show()
        return True

    def toggle_corner(self) -> bool:
        selection = self.selection
        if selection is None or selection.point < 0 or self._document() is None:
            return False
        curve = self.regions[selection.region].curves()[selection.curve]
        self._replace_curve(selection.region, selection.curve,
                            curve.with_corner(selection.point, not curve.corners[selection.point]),
                            "Sharp point" if not curve.corners[selection.point] else "Smooth point")
        return True

    def finish(self) -> None:
        points, subtract = self.draft, self.draft_subtract
        self.draft = []
        self._show()
        if len(points) < 3:
            return
        document = self._document()
        if document is None:
            return
        curve = Curve.make(np.array([(p.x(), p.y()) for p in points]))
        if not subtract:
            self._add_region(document, Region(curve))
            return
        dense = sample_curve(curve)
        bbox = document.clip((int(dense[:, 0].min()) - 1, int(dense[:, 1].min()) - 1,
                              int(dense[:, 0].max()) + 2, int(dense[:, 1].max()) + 2))
        if bbox is None:
            return
        x0, y0, x1, y1 = bbox
        before = document.mask[y0:y1, x0:x1].copy()
        document.write_region(bbox, before & (1 - polygon_raster(dense, bbox)))
        # The cut changes the regions it crosses: they are fitted again from the mask.
        self.editor.commit(document, bbox, before, "Spline cut")
        self.document_changed()

    def _add_region(self, document: PhotoDocument, region: Region) -> None:
        old = self.regions
        size = (document.mask.shape[1], document.mask.shape[0])
        bbox = document.clip(region.bbox())
        if bbox is None:
            return
        self.regions = old + (region,)
        x0, y0, x1, y1 = bbox
        before = document.mask[y0:y1, x0:x1].copy()
        document.write_region(bbox, rasterise(self.regions, size, bbox=bbox))
        self.editor.commit(document, bbox, before, "Spline region", splines_after=self.regions, splines_before=old)
        self.selection = Selection(len(self.regions) - 1)
        self._show()

    def cancel(self) -> None:
        self.draft = []
        if self._drag is not None:
            self._drag = None
        self._show()
