"""The app's identity (icon, version in the About box), when its window first appears, and the self-check that the
installers run on the frozen app: --screenshot PNG --quit-after-segmentation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage

import skinseg_core
from app.identity import app_icon
from app.main_window import MainWindow
from app.startup import FirstExposure, SegmentationCheck, process_started_at
from app.workers import all_pools
from tests.app.conftest import write_generated_photos

REPO = Path(__file__).resolve().parents[2]
WAIT_MS = 120_000
ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512]


def test_app_icon_and_about_box(window) -> None:
    assert [size.width() for size in app_icon().availableSizes()] == ICON_SIZES
    assert not window.windowIcon().isNull()
    about = window.show_about()
    assert f"SkinSeg {skinseg_core.__version__}" in about.findChild(type(window.zoom_label), "about_header").text()
    assert not about.icon_label.pixmap().isNull()
    about.close()


def test_process_start_time_is_in_the_past() -> None:
    started = process_started_at()
    assert 0 < time.time() - started < 24 * 3600


def _window(qtbot, settings: QSettings, model: Path) -> MainWindow:
    window = MainWindow(settings=settings, model_path=model, display_long_side=640)
    qtbot.addWidget(window)
    return window


def _close(window: MainWindow) -> None:
    window.close()
    assert not [pool.name for pool in all_pools() if pool.busy]


def test_screenshot_once_the_mask_is_shown(qtbot, settings: QSettings, tiny_model: Path, tmp_path: Path) -> None:
    photo = write_generated_photos(tmp_path / "photos", count=1)[0]
    window = _window(qtbot, settings, tiny_model)
    exposure = FirstExposure(window, time.time() - 0.5)
    shot = tmp_path / "shots" / "window.png"
    check = SegmentationCheck(window, shot, quit_after=False, exposure=exposure)
    window.show()
    qtbot.waitUntil(lambda: exposure.shown_at is not None, timeout=WAIT_MS)  # the Expose event, not just isExposed()
    assert exposure.shown_at >= exposure.started_at and exposure.cpu_at_shown > 0
    assert window.open_paths([photo])
    check.start()
    qtbot.waitUntil(lambda: check.exit_code is not None, timeout=WAIT_MS)
    assert check.exit_code == 0
    image = QImage(str(shot))
    assert not image.isNull() and image.width() == window.width()
    report = json.loads(shot.with_suffix(".json").read_text(encoding="utf-8"))
    assert report["ok"] is True and report["error"] is None
    assert report["photo"] == str(photo) and report["frozen"] is False
    assert report["model"]["name"] == "tiny" and report["model"]["bundled"] is False
    assert report["skin_area"]["pixels"] > 0 and report["skin_area"]["of"] == 320 * 240
    assert report["icon_sizes"] == [] or report["window_icon"] is True  # the test's QApplication has no app icon
    assert report["qt_platform"] == "offscreen"
    assert report["window_shown_at"] <= report["segmentation_shown_at"]
    assert window.isVisible()  # without --quit-after-segmentation the app keeps running
    _close(window)


def test_no_model_fails_at_once(qtbot, settings: QSettings, tmp_path: Path) -> None:
    photo = write_generated_photos(tmp_path / "photos", count=1)[0]
    window = _window(qtbot, settings, tmp_path / "missing.json")
    check = SegmentationCheck(window, tmp_path / "shot.png", quit_after=False, exposure=FirstExposure(window, 0.0))
    window.show()
    qtbot.waitExposed(window)
    window.open_paths([photo])
    check.start()
    assert check.exit_code == 1
    report = json.loads((tmp_path / "shot.json").read_text(encoding="utf-8"))
    assert report["ok"] is False and "no model is loaded" in report["error"]
    _close(window)


def test_command_line_screenshot_and_quit(tmp_path: Path, tiny_model: Path) -> None:
    """`python -m app PHOTO --screenshot PNG --quit-after-segmentation`: what check_frozen.py runs, from source."""
    photo = write_generated_photos(tmp_path / "photos", count=1)[0]
    shot = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SKINSEG_LOG_DIR=str(tmp_path / "logs"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "app", str(photo), "--model", str(tiny_model), "--screenshot",
                           str(shot), "--quit-after-segmentation"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(shot.with_suffix(".json").read_text(encoding="utf-8"))
    assert report["ok"] is True and report["skin_area"]["pixels"] > 0
    assert report["icon_sizes"] == ICON_SIZES and report["window_icon"] is True
    assert 0 < report["window_shown_after_s"] < 120
    assert "Main window shown" in (tmp_path / "logs" / "skinseg-app.log").read_text(encoding="utf-8")
