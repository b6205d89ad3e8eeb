"""`skinseg-app` / `python -m app`: start SkinSeg's main window.

Logging goes to a file in the user's log folder; uncaught exceptions are logged and shown in a dialog, never a
silent exit.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import sys
from pathlib import Path

import skinseg_core
from skinseg_core.paths import user_log_dir

LOG_NAME = "skinseg-app.log"


def configure_logging() -> Path | None:
    """Log to <user log dir>/skinseg-app.log (rotated at 2 MB) and to stderr; returns the file's path."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setFormatter(formatter)
    stderr.setLevel(logging.WARNING)
    root.addHandler(stderr)
    try:
        folder = user_log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_NAME
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:  # a read-only home folder must not stop the app
        logging.getLogger("app").warning("Cannot write a log file: %s", exc)
        return None
    handler.setFormatter(formatter)
    root.addHandler(handler)
    return path


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="skinseg-app", description="SkinSeg: skin segmentation of clinical photos")
    parser.add_argument("paths", nargs="*", type=Path, help="photos or folders to open")
    parser.add_argument("--model", type=Path, default=None, help="a model .json (default: the bundled model)")
    parser.add_argument("--version", action="version", version=f"SkinSeg {skinseg_core.__version__}")
    check = parser.add_argument_group("self-check (what build/check_frozen.py runs on an installed app)")
    check.add_argument("--screenshot", type=Path, default=None, metavar="PNG",
                       help="once the first photo's segmentation is shown, save the window as PNG and a JSON report "
                            "(model, icon, Qt plugins, start time) beside it as PNG.json")
    check.add_argument("--quit-after-segmentation", action="store_true",
                       help="quit once the first photo's segmentation is shown (exit status 1 if it failed)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    log_file = configure_logging()

    from PySide6.QtWidgets import QApplication

    from app.errors import install_excepthook, set_log_file
    from app.identity import APP_ID, APP_NAME, app_icon
    from app.main_window import MainWindow
    from app.startup import FirstExposure, SegmentationCheck, process_started_at

    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName(APP_NAME)
    QApplication.setApplicationVersion(skinseg_core.__version__)
    QApplication.setDesktopFileName(APP_ID)  # Wayland and the task bar match the window to skinseg.desktop
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    set_log_file(log_file)
    install_excepthook()
    logging.getLogger("app").info("SkinSeg %s starting; log file %s", skinseg_core.__version__, log_file)

    window = MainWindow(model_path=args.model)
    exposure = FirstExposure(window, process_started_at())
    app.aboutToQuit.connect(window.shutdown)
    check = None
    if args.screenshot is not None or args.quit_after_segmentation:
        check = SegmentationCheck(window, args.screenshot, args.quit_after_segmentation, exposure)
    window.show()
    if args.paths:
        window.open_paths(args.paths)
    if check is not None:
        check.start()
    status = app.exec()
    return check.exit_code if check is not None and check.exit_code is not None else status


if __name__ == "__main__":
    sys.exit(main())
