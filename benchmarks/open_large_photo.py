"""Time to first display of large JPEGs in the app, and to the full-resolution swap (for zooming in).

Runs the real main window offscreen (no model, so only decoding and display are measured): from the moment the
photo is chosen until the canvas shows its display version (decoded reduced in a worker), then until every pixel
is shown after zooming to 100 %. Also reports the longest time the GUI thread was blocked meanwhile (a 5 ms timer).
Prints milliseconds; asserts nothing.

    .venv/bin/python benchmarks/open_large_photo.py [--long-side 2560]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.app.test_large_photo import write_large_jpeg  # noqa: E402

SIZES = {"12 MP": (4000, 3000), "50 MP": (8660, 5774)}


def wait_until(app: QApplication, condition, timeout: float = 120.0) -> None:  # noqa: ANN001
    end = time.perf_counter() + timeout
    while not condition():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() > end:
            raise TimeoutError("the photo was not shown in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-side", type=int, default=2560, help="display resolution (the screen's long side)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["SKINSEG_LOG_DIR"] = str(root / "logs")
        print(f"display long side {args.long_side} px; CPU threads: {os.cpu_count()}")
        for label, size in SIZES.items():
            folder = root / label.replace(" ", "")
            folder.mkdir()
            photo = write_large_jpeg(folder / "photo.jpg", size)
            window = MainWindow(settings=QSettings(str(root / f"{label}.ini"), QSettings.Format.IniFormat),
                                model_path=root / "no-model.json", display_long_side=args.long_side)
            window.show()
            ticks = [time.perf_counter()]
            timer = QTimer()
            timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
            timer.start(5)
            start = time.perf_counter()
            window.open_paths([photo])
            wait_until(app, lambda: not window.scene.photo_item.pixmap().isNull())
            shown = time.perf_counter() - start
            start = time.perf_counter()
            window.view.actual_size()
            wait_until(app, lambda: window.document.full_resolution
                       and window.scene.photo_item.pixmap().width() == size[0])
            full = time.perf_counter() - start
            timer.stop()
            gap = max(b - a for a, b in zip(ticks, ticks[1:]))
            print(f"{label} JPEG ({size[0]} x {size[1]}, {photo.stat().st_size / 1e6:.1f} MB): first display "
                  f"{shown * 1000:.0f} ms, full resolution after zooming in {full * 1000:.0f} ms, "
                  f"GUI thread blocked at most {gap * 1000:.0f} ms")
            window.close()
            window.shutdown()


if __name__ == "__main__":
    main()
