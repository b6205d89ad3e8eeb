"""Overlay colour tables and contours."""

from __future__ import annotations

import numpy as np

from skinseg_core.overlay import OverlayStyle, colour_table, contour_argb, threshold_u8, uncertainty_range


def test_colour_table_follows_threshold() -> None:
    style = OverlayStyle(colour=(255, 0, 0), opacity=1.0)
    table = colour_table(0.5, style)
    level = threshold_u8(0.5)
    assert level == 128 and table[127] == 0 and table[128] == 0xFFFF0000
    assert not colour_table(0.5, OverlayStyle(visible=False)).any()
    assert not colour_table(0.5, OverlayStyle(fill=False)).any()


def test_uncertainty_band() -> None:
    low, high = uncertainty_range(0.5)
    assert low / 255 >= 0.4 - 1e-9 and (low - 1) / 255 < 0.4
    assert high / 255 <= 0.6 + 1e-9 and (high + 1) / 255 > 0.6
    table = colour_table(0.5, OverlayStyle(fill=False, uncertainty=True))
    assert table[low] and table[high] and not table[low - 1] and not table[high + 1]


def test_contour_outlines_the_region() -> None:
    display = np.zeros((40, 50), np.uint8)
    display[10:30, 10:40] = 200
    out = contour_argb(display, 0.5, (0, 255, 0), thickness=1)
    assert out[10, 20] == 0xFF00FF00 and out[20, 25] == 0 and out[0, 0] == 0
