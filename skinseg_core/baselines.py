"""Two classic colour rules for skin, used as baselines the bundled model must beat.

- Kovac et al. 2003 (uniform daylight RGB rule): R > 95, G > 40, B > 20, max(R,G,B) - min(R,G,B) > 15,
  |R - G| > 15, R > G, R > B.
- Chai & Ngan 1999 (YCrCb range): 133 <= Cr <= 173 and 77 <= Cb <= 127.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np


def kovac_rgb(rgb: np.ndarray) -> np.ndarray:
    """uint8 [H,W,3] RGB -> bool [H,W] skin."""
    r, g, b = (rgb[..., i].astype(np.int16) for i in range(3))
    spread = rgb.max(axis=2).astype(np.int16) - rgb.min(axis=2).astype(np.int16)
    return (r > 95) & (g > 40) & (b > 20) & (spread > 15) & (np.abs(r - g) > 15) & (r > g) & (r > b)


def chai_ngan_ycrcb(rgb: np.ndarray) -> np.ndarray:
    """uint8 [H,W,3] RGB -> bool [H,W] skin."""
    ycrcb = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1], ycrcb[..., 2]
    return (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)


COLOUR_RULES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "kovac-rgb": kovac_rgb,
    "chai-ngan-ycrcb": chai_ngan_ycrcb,
}
