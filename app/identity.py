"""SkinSeg's identity on the desktop: its name, the id the .desktop file and the icon theme know it by, its icon.

The version is skinseg_core.__version__ (the one place it is written; pyproject, the installers and the About box
read it from there).
"""

from __future__ import annotations

from PySide6.QtGui import QIcon, QPixmap

from skinseg_core.paths import app_icon_files

APP_NAME = "SkinSeg"
APP_ID = "skinseg"  # skinseg.desktop, the hicolor icon name, the Debian package and the Wayland app id


def app_icon() -> QIcon:
    """The app icon from its PNG renderings (no SVG plugin needed); a null icon when the resources are missing."""
    icon = QIcon()
    for path in app_icon_files():
        pixmap = QPixmap(str(path))
        if not pixmap.isNull():
            icon.addPixmap(pixmap)
    return icon
