"""Typed access to the app's QSettings (window state and preferences only; user files live in skinseg_core.paths)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from skinseg_core.inference import NETWORKS
from skinseg_core.overlay import OverlayStyle

from app.history import DEFAULT_PHOTO_LIMIT_MB, MAX_PHOTO_LIMIT_MB, MIN_PHOTO_LIMIT_MB

MAX_RECENT = 8
THEMES = ("system", "light", "dark")


def default_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "SkinSeg", "SkinSeg")


def _bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


class AppSettings:
    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings

    # ---- files ----
    def recent_folders(self) -> list[Path]:
        value = self.qsettings.value("files/recent_folders", [])
        if isinstance(value, str):
            value = [value]
        return [Path(v) for v in (value or [])]

    def add_recent_folder(self, folder: Path) -> list[Path]:
        folders = [f for f in self.recent_folders() if f != folder]
        folders.insert(0, folder)
        folders = folders[:MAX_RECENT]
        self.qsettings.setValue("files/recent_folders", [str(f) for f in folders])
        return folders

    def clear_recent_folders(self) -> None:
        self.qsettings.setValue("files/recent_folders", [])

    # ---- segmentation ----
    @property
    def auto_segment(self) -> bool:
        return _bool(self.qsettings.value("segmentation/auto_segment"), True)

    @auto_segment.setter
    def auto_segment(self, value: bool) -> None:
        self.qsettings.setValue("segmentation/auto_segment", bool(value))

    @property
    def face_gate(self) -> bool:
        """Run the model file's face colour gate (on unless the user turned it off)."""
        return _bool(self.qsettings.value("segmentation/face_gate"), True)

    @face_gate.setter
    def face_gate(self, value: bool) -> None:
        self.qsettings.setValue("segmentation/face_gate", bool(value))

    @property
    def network(self) -> str:
        """Which of the model's networks runs (inference.NETWORKS): "auto", chosen by the faces found, unless the user
        chose one."""
        value = self.qsettings.value("segmentation/network")
        return value if value in NETWORKS else "auto"

    @network.setter
    def network(self, value: str) -> None:
        self.qsettings.setValue("segmentation/network", value)

    @property
    def device(self) -> str:
        return str(self.qsettings.value("segmentation/device", "auto"))

    @device.setter
    def device(self, value: str) -> None:
        self.qsettings.setValue("segmentation/device", value)

    @property
    def default_threshold(self) -> float | None:
        """Threshold for photos the user has not set one for; None: the model's own threshold."""
        value = self.qsettings.value("segmentation/default_threshold", "")
        try:
            return min(1.0, max(0.0, float(value))) if value not in ("", None) else None
        except (TypeError, ValueError):
            return None

    @default_threshold.setter
    def default_threshold(self, value: float | None) -> None:
        self.qsettings.setValue("segmentation/default_threshold", "" if value is None else round(float(value), 2))

    # ---- editing ----
    @property
    def history_limit_mb(self) -> int:
        """Undo history kept per photo, in MB (app.history)."""
        try:
            value = int(self.qsettings.value("editing/history_limit_mb", DEFAULT_PHOTO_LIMIT_MB))
        except (TypeError, ValueError):
            return DEFAULT_PHOTO_LIMIT_MB
        return min(MAX_PHOTO_LIMIT_MB, max(MIN_PHOTO_LIMIT_MB, value))

    @history_limit_mb.setter
    def history_limit_mb(self, value: int) -> None:
        self.qsettings.setValue("editing/history_limit_mb", int(value))

    # ---- display ----
    def overlay_style(self) -> OverlayStyle:
        s = self.qsettings
        default = OverlayStyle()
        colour = s.value("display/colour", "")
        try:
            rgb = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5)) if colour else default.colour
        except (ValueError, TypeError):
            rgb = default.colour
        return OverlayStyle(
            colour=rgb,  # type: ignore[arg-type]
            opacity=float(s.value("display/opacity", default.opacity)),
            fill=_bool(s.value("display/fill"), default.fill),
            contour=_bool(s.value("display/contour"), default.contour),
            uncertainty=False,  # a view one switches on to look, not a lasting preference
            visible=True,
        )

    def save_overlay_style(self, style: OverlayStyle) -> None:
        s = self.qsettings
        s.setValue("display/colour", "#{:02x}{:02x}{:02x}".format(*style.colour))
        s.setValue("display/opacity", style.opacity)
        s.setValue("display/fill", style.fill)
        s.setValue("display/contour", style.contour)

    @property
    def theme(self) -> str:
        value = str(self.qsettings.value("display/theme", "system"))
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        self.qsettings.setValue("display/theme", value)

    # ---- window ----
    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.qsettings.value("window/geometry"), self.qsettings.value("window/state")

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
