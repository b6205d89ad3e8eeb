"""Overlay pixels for showing a probability map over a photo, with no Qt: colour tables and contour rasters.

The display keeps the map as uint8 [h, w] (probability * 255) at display resolution. Changing the threshold then
only changes a 256-entry colour table (value -> premultiplied ARGB32), which an indexed image applies in one C++
pass; contours are traced with OpenCV at the same resolution. Nothing here runs the model or touches the
full-resolution map, which is why a threshold slider can redraw within a frame.

ARGB32 values are 0xAARRGGBB, premultiplied by alpha (Qt's Format_ARGB32_Premultiplied, and Format_Indexed8's
colour table entries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["OverlayStyle", "colour_table", "contour_argb", "contour_thickness", "threshold_u8", "uncertainty_range"]

UNCERTAINTY_BAND = 0.1


@dataclass(frozen=True)
class OverlayStyle:
    colour: tuple[int, int, int] = (255, 64, 160)  # RGB; magenta reads well over every skin tone
    opacity: float = 0.45
    fill: bool = True
    contour: bool = False
    uncertainty: bool = False
    uncertainty_colour: tuple[int, int, int] = (255, 214, 0)
    visible: bool = True


def threshold_u8(threshold: float) -> int:
    """The smallest uint8 map value v with v / 255 >= threshold (the display's version of p >= threshold)."""
    return int(min(256, max(0, math.ceil(threshold * 255.0 - 1e-6))))


def uncertainty_range(threshold: float, band: float = UNCERTAINTY_BAND) -> tuple[int, int]:
    """(low, high) uint8 map values, inclusive, whose probability lies within +-band of the threshold."""
    low = threshold_u8(max(0.0, threshold - band))
    high = int(min(255, math.floor((min(1.0, threshold + band)) * 255.0 + 1e-6)))
    return low, high


def _argb(colour: tuple[int, int, int], alpha: float) -> int:
    a = max(0.0, min(1.0, alpha))
    r, g, b = (int(round(c * a)) for c in colour)
    return (int(round(a * 255)) << 24) | (r << 16) | (g << 8) | b


def colour_table(threshold: float, style: OverlayStyle) -> np.ndarray:
    """uint32 [256]: premultiplied ARGB32 per map value. Skin (v >= threshold) in the overlay colour when filling;
    with `uncertainty`, values within +-0.1 of the threshold in the uncertainty colour; everything else clear."""
    table = np.zeros(256, dtype=np.uint32)
    if not style.visible:
        return table
    if style.fill:
        table[threshold_u8(threshold):] = _argb(style.colour, style.opacity)
    if style.uncertainty:
        low, high = uncertainty_range(threshold)
        # At least fairly opaque: the band is what the user is looking for in this view.
        table[low : high + 1] = _argb(style.uncertainty_colour, max(style.opacity, 0.6))
    return table


def contour_thickness(size: tuple[int, int]) -> int:
    """Line width in display pixels: about 2 screen pixels when the display map fills a screen."""
    return max(1, round(max(size) / 1000))


def contour_argb(
    display_map: np.ndarray, threshold: float, colour: tuple[int, int, int], thickness: int | None = None
) -> np.ndarray:
    """uint32 [h, w] premultiplied ARGB32, clear except the outlines of the skin regions (p >= threshold)."""
    height, width = display_map.shape
    level = threshold_u8(threshold)
    out = np.zeros((height, width), dtype=np.uint32)
    if level > 255:
        return out
    binary = (display_map >= level).view(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    if contours:
        bgra = out.view(np.uint8).reshape(height, width, 4)  # little-endian 0xAARRGGBB is B, G, R, A in memory
        r, g, b = colour
        cv2.drawContours(bgra, contours, -1, (b, g, r, 255), thickness or contour_thickness((width, height)))
    return out
