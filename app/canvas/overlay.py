"""Overlay images from a display-resolution uint8 probability map, without running the model.

The map is wrapped (no copy) in an indexed QImage; a threshold or style change only swaps its 256-entry colour
table (skinseg_core.overlay.colour_table) and converts it to premultiplied ARGB in one C++ pass.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage

from skinseg_core.overlay import OverlayStyle, colour_table, contour_argb


def rgb_image(rgb: np.ndarray) -> QImage:
    """uint8 [h, w, 3] -> QImage (a copy, so the array may go)."""
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, rgb.strides[0], QImage.Format.Format_RGB888).copy()


def argb_image(argb: np.ndarray) -> QImage:
    """uint32 [h, w] premultiplied ARGB32 -> QImage (a copy)."""
    argb = np.ascontiguousarray(argb)
    height, width = argb.shape
    return QImage(argb.data, width, height, argb.strides[0], QImage.Format.Format_ARGB32_Premultiplied).copy()


class OverlayRenderer:
    def __init__(self) -> None:
        self._map: np.ndarray | None = None
        self._indexed: QImage | None = None

    @property
    def display_map(self) -> np.ndarray | None:
        return self._map

    def set_map(self, display_map: np.ndarray | None) -> None:
        if display_map is None:
            self._map = self._indexed = None
            return
        self._map = np.ascontiguousarray(display_map, dtype=np.uint8)
        height, width = self._map.shape
        # Wraps the array's memory: self._map must live as long as self._indexed.
        self._indexed = QImage(self._map.data, width, height, self._map.strides[0], QImage.Format.Format_Indexed8)

    def fill(self, threshold: float, style: OverlayStyle) -> QImage | None:
        """Premultiplied ARGB32 image of the fill and uncertainty band, or None when there is nothing to show."""
        if self._indexed is None or not style.visible or not (style.fill or style.uncertainty):
            return None
        self._indexed.setColorTable(colour_table(threshold, style).tolist())
        return self._indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)

    def contour(self, threshold: float, style: OverlayStyle) -> QImage | None:
        if self._map is None or not style.visible or not style.contour:
            return None
        return argb_image(contour_argb(self._map, threshold, style.colour))
