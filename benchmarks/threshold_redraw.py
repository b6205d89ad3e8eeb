"""How long a threshold change takes to redraw the overlay of a 12 MP photo (no model involved).

Measures the app's own path: app.canvas.overlay.OverlayRenderer (colour table -> indexed QImage -> premultiplied
ARGB) plus QPixmap.fromImage, i.e. everything between the slider moving and the scene having its new pixmap, and
the contour path (OpenCV at display resolution). The map is uint8 at display resolution: the app decodes photos for
display at the screen's long side in physical pixels, and keeps the overlay map at most OVERLAY_MAX_LONG_SIDE
(2560) on its long side: the larger sizes below are for reference. Prints median milliseconds; asserts nothing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/threshold_redraw.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from PySide6.QtGui import QGuiApplication, QPixmap  # noqa: E402

from app.canvas.overlay import OverlayRenderer  # noqa: E402
from app.document import OVERLAY_MAX_LONG_SIDE, display_size  # noqa: E402
from skinseg_core.overlay import OverlayStyle  # noqa: E402
from skinseg_core.probmap import ProbabilityMap  # noqa: E402

FULL = (4000, 3000)  # 12 MP
REPEATS = 30


def smooth_map(seed: int = 0) -> ProbabilityMap:
    rng = np.random.default_rng(seed)
    small = rng.random((16, 16)).astype(np.float32)
    import cv2

    small = cv2.resize(small, (128, 128), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    return ProbabilityMap(small=small, full_size=FULL)


def median_ms(fn, repeats: int = REPEATS) -> float:
    fn()  # warm-up
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QPixmap needs it
    prob = smooth_map()
    counts = prob.counts()
    print(f"12 MP photo ({FULL[0]} x {FULL[1]}), median of {REPEATS} redraws, threshold changing every time")
    for long_side in (1920, 2560, 3840, max(FULL)):
        size = display_size(FULL, long_side)
        renderer = OverlayRenderer()
        renderer.set_map(prob.display_u8(size))
        fill_style = OverlayStyle()
        both_style = OverlayStyle(fill=True, contour=True)

        def fill(i: int = 0) -> None:
            image = renderer.fill(0.3 + 0.01 * (i % 40), fill_style)
            QPixmap.fromImage(image)
            counts[30 + i % 40]  # the area label's number: a lookup

        def fill_and_contour(i: int = 0) -> None:
            threshold = 0.3 + 0.01 * (i % 40)
            QPixmap.fromImage(renderer.fill(threshold, both_style))
            QPixmap.fromImage(renderer.contour(threshold, both_style))

        used = "  <- the app's overlay size" if long_side == OVERLAY_MAX_LONG_SIDE else ""
        print(f"  display map {size[0]:>4} x {size[1]:<4} ({size[0] * size[1] / 1e6:4.1f} MP): "
              f"fill {median_ms(lambda i=0: fill(i)):6.2f} ms   fill + contour {median_ms(lambda i=0: fill_and_contour(i)):6.2f} ms{used}")


if __name__ == "__main__":
    main()
