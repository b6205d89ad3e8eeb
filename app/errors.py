"""How the app tells the user that something went wrong.

Expected failures (`SkinSegError`) carry a message that says what happened and what to do; it is shown as it is.
Anything else is a bug: it is logged with its traceback to the log file and shown with the log file's location, and
the app keeps running. Dialogs are opened window-modal and not exec()'d, so a worker's error never blocks the event
loop (and tests can find the dialog among the top-level widgets).
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QThread, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from skinseg_core.errors import SkinSegError

log = logging.getLogger("app")

_log_file: Path | None = None


def set_log_file(path: Path | None) -> None:
    global _log_file
    _log_file = path


def _message_box(parent: QWidget | None, icon: QMessageBox.Icon, title: str, text: str, details: str = "") -> QMessageBox:
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error_dialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if details:
        box.setDetailedText(details)
    box.open()
    return box


def show_error(parent: QWidget | None, error: BaseException, action: str = "") -> QMessageBox | None:
    """Tell the user about `error` (raised while doing `action`, e.g. "open the photo"). Returns the dialog."""
    if QApplication.instance() is None or QThread.currentThread() is not QApplication.instance().thread():
        log.error("Error off the GUI thread (%s): %s", action, error)
        return None
    if isinstance(error, SkinSegError):
        log.warning("%s", error)
        title = f"Could not {action}" if action else "SkinSeg"
        return _message_box(parent, QMessageBox.Icon.Warning, title, str(error))
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    log.error("Unexpected error (%s):\n%s", action or "no action", details)
    where = f" The details are in the log file {_log_file}." if _log_file else ""
    text = (
        f"Something unexpected went wrong{' while trying to ' + action if action else ''}: "
        f"{type(error).__name__}: {error}.\n\nSkinSeg keeps running; your photos are unchanged.{where} "
        "Please report this problem with that file."
    )
    return _message_box(parent, QMessageBox.Icon.Critical, "Unexpected error", text, details)


def excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """sys.excepthook: log, then show a dialog (never a silent exit)."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, tb)
        return
    if error.__traceback__ is None:
        error = error.with_traceback(tb)
    app = QApplication.instance()
    parent = app.activeWindow() if isinstance(app, QApplication) else None
    if show_error(parent, error) is None:
        log.error("Unhandled exception", exc_info=(kind, error, tb))


def install_excepthook() -> None:
    sys.excepthook = excepthook
