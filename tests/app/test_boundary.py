"""The app starts from its entry point, and the Qt binding is a sound one (the Qt-free engine is checked in
tests/core/test_boundaries.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_app_module_starts_and_quits(tmp_path: Path, tiny_model: Path) -> None:
    """`python -m app` opens the main window (closed by a timer here) and writes its log file."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", SKINSEG_LOG_DIR=str(tmp_path / "logs"),
               SKINSEG_MODEL=str(tiny_model), XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    code = (
        "import sys; from PySide6.QtCore import QTimer; from PySide6.QtWidgets import QApplication\n"
        "app = QApplication(sys.argv[:1]); QTimer.singleShot(300, app.quit)\n"
        "from app.__main__ import main; sys.exit(main(['--model', sys.argv[1]]))\n"
    )
    subprocess.run([sys.executable, "-c", code, str(tiny_model)], check=True, cwd=REPO, env=env, timeout=120)
    assert "starting" in (tmp_path / "logs" / "skinseg-app.log").read_text(encoding="utf-8")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_qt_binding_keeps_none_alive() -> None:
    """PySide6 6.12.0 released a reference to None on every void call under Python 3.11 and crashed the app."""
    from PySide6.QtCore import QObject

    obj = QObject()
    before = sys.getrefcount(None)
    for _ in range(200):
        obj.setObjectName("x")
    assert sys.getrefcount(None) - before > -50
