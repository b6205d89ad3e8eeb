"""Start-up: when the main window first appears, and `--screenshot` / `--quit-after-segmentation`, the self-check the
installers run on the frozen app (build/check_frozen.py).

The self-check waits until the first photo's segmentation is on screen, saves a screenshot of the window and a JSON
report beside it (what was loaded: model, icon, Qt platform and image plugins; when the window appeared), then quits
with status 0, or 1 when the photo could not be segmented.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QLibraryInfo, QObject, QTimer
from PySide6.QtGui import QGuiApplication, QImageReader
from PySide6.QtWidgets import QApplication

import skinseg_core
from skinseg_core import paths
from skinseg_core.atomic import atomic_write_json
from skinseg_core.frozen import is_frozen

if TYPE_CHECKING:
    from app.main_window import MainWindow

log = logging.getLogger(__name__)

_IMPORTED_AT = time.time()
POLL_MS = 50
EXIT_FAILED = 1


def process_started_at() -> float:
    """When this process started (time.time() scale): from /proc on Linux (10 ms resolution), else when this module
    was imported."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        started_after_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat, counted after the ")"
    except (OSError, ValueError, IndexError, AttributeError):
        return _IMPORTED_AT
    return time.time() - (uptime - started_after_boot)


class FirstExposure(QObject):
    """Notes (and logs) when a window is first exposed, i.e. first on screen: wall time and the process's CPU time."""

    def __init__(self, window: MainWindow, started_at: float) -> None:
        super().__init__(window)
        self.started_at = started_at
        self.shown_at: float | None = None
        self.cpu_at_shown: float | None = None
        window.winId()  # makes the native window now, so that its first Expose event is seen
        handle = window.windowHandle()
        if handle is not None:
            handle.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Expose and self.shown_at is None and watched.isExposed():
            self.shown_at = time.time()
            self.cpu_at_shown = time.process_time()
            log.info("Main window shown %.2f s after the process started (%.2f s of CPU)",
                     self.shown_at - self.started_at, self.cpu_at_shown)
            watched.removeEventFilter(self)
        return False


class SegmentationCheck(QObject):
    """--screenshot PNG and --quit-after-segmentation: wait for the first photo's mask on screen, then save the
    window as PNG (with PNG.json beside it) and/or quit. `exit_code` is the status main() returns."""

    def __init__(self, window: MainWindow, screenshot: Path | None, quit_after: bool, exposure: FirstExposure) -> None:
        super().__init__(window)
        self.window = window
        self.screenshot = screenshot
        self.quit_after = quit_after
        self.exposure = exposure
        self.exit_code: int | None = None
        self._started = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        window.service.failed.connect(self._failed)

    def start(self) -> None:
        self._started = time.time()
        if self.window.service.model is None:
            self._finish(f"no model is loaded: {self.window.service.model_error}")
        elif self.window.document is None:
            self._finish("no photo is open: give a photo (or a folder of photos) on the command line")
        else:
            self._timer.start()

    def segmentation_shown(self) -> bool:
        window = self.window
        document = window.document
        return (document is not None and document.rgb is not None and document.display_map is not None
                and not window.scene.photo_item.pixmap().isNull() and not window.scene.overlay_item.pixmap().isNull()
                and window.isVisible() and self.exposure.shown_at is not None)

    def _poll(self) -> None:
        if self.segmentation_shown():
            self._timer.stop()
            QTimer.singleShot(POLL_MS, lambda: self._finish(None))  # let the overlay be painted once

    def _failed(self, photo: Path | None, error: BaseException, _in_batch: bool) -> None:
        document = self.window.document
        if self.exit_code is None and self._started and document is not None and photo == document.path:
            self._timer.stop()
            self._finish(f"segmenting {photo} failed: {type(error).__name__}: {error}")

    def report(self, error: str | None) -> dict[str, Any]:
        window = self.window
        app = QApplication.instance()
        model = window.service.model
        document = window.document
        area = document.skin_area() if document is not None and document.display_map is not None else None
        exposure = self.exposure
        return {
            "ok": error is None,
            "error": error,
            "version": skinseg_core.__version__,
            "frozen": is_frozen(),
            "executable": sys.executable,
            "photo": str(document.path) if document is not None else None,
            "model": None if model is None else {"name": model.name, "path": str(model.path),
                                                 "bundled": model.path.resolve() == paths.bundled_model_path().resolve()},
            "model_card": paths.model_card_path().exists(),
            "device": window.device_label.text(),
            "skin_area": None if area is None else {"pixels": int(area[0]), "of": int(area[1])},
            "icon_sizes": [size.width() for size in app.windowIcon().availableSizes()] if app is not None else [],
            "window_icon": not window.windowIcon().isNull(),
            "qt_platform": QGuiApplication.platformName(),
            "qt_plugins_path": QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath),
            "image_formats": sorted(bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()),
            "started_at": exposure.started_at,
            "window_shown_at": exposure.shown_at,
            "window_shown_after_s": None if exposure.shown_at is None else exposure.shown_at - exposure.started_at,
            "cpu_s_at_window_shown": exposure.cpu_at_shown,
            "segmentation_shown_at": time.time() if error is None else None,
        }

    def _finish(self, error: str | None) -> None:
        if self.exit_code is not None:
            return
        self.exit_code = 0 if error is None else EXIT_FAILED
        report = self.report(error)
        if error is not None:
            log.error("Self-check failed: %s", error)
        if self.screenshot is not None:
            self.screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not self.window.grab().save(str(self.screenshot), "PNG"):
                report.update(ok=False, error=report["error"] or f"could not write {self.screenshot}")
                self.exit_code = EXIT_FAILED
            atomic_write_json(self.screenshot.with_suffix(".json"), report)
            log.info("Screenshot saved to %s", self.screenshot)
        if self.quit_after:
            QTimer.singleShot(0, self._quit)

    def _quit(self) -> None:
        self.window.close()
        app = QApplication.instance()
        if app is not None:
            app.exit(self.exit_code or 0)
