"""The one module that knows where SkinSeg's files live: the bundled model, the user's data and log folders."""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from pathlib import Path

import platformdirs

APP_NAME = "SkinSeg"
BUNDLED_MODEL_NAME = "skinseg-bundled"


def repo_root() -> Path:
    """The source checkout (or, in a frozen build, the bundle folder) that holds `models/`."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent


def bundled_model_path() -> Path:
    """The shipped model's config file (`models/skinseg-bundled.json`, weights beside it)."""
    return repo_root() / "models" / f"{BUNDLED_MODEL_NAME}.json"


def model_card_path() -> Path:
    return repo_root() / "models" / "MODEL_CARD.md"


def resources_dir() -> Path:
    """The app's resources (icons): `resources/` in the checkout or the frozen bundle; after a (non-editable) wheel
    install, the copy pyproject's data-files put under <prefix>/share/skinseg/resources."""
    local = repo_root() / "resources"
    if (local / "icons").is_dir():
        return local
    for scheme in (None, f"{os.name}_user"):
        try:
            data = sysconfig.get_path("data", scheme) if scheme else sysconfig.get_path("data")
        except KeyError:
            continue
        installed = Path(data) / "share" / "skinseg" / "resources"
        if installed.is_dir():
            return installed
    return local


def app_icon_files() -> list[Path]:
    """The app icon's PNG renderings (16 to 512 px), smallest first; empty when the resources are missing."""
    sized = [(p.stem.removeprefix("skinseg-"), p) for p in (resources_dir() / "icons").glob("skinseg-*.png")]
    return [p for _size, p in sorted((int(s), p) for s, p in sized if s.isdigit())]


def user_data_dir() -> Path:
    """Per-user data (fine-tuned model versions). SKINSEG_DATA_DIR overrides it, which tests use."""
    override = os.environ.get("SKINSEG_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Derived files that can be rebuilt (ONNX exports of models). SKINSEG_CACHE_DIR overrides it."""
    override = os.environ.get("SKINSEG_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_log_dir() -> Path:
    override = os.environ.get("SKINSEG_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def versions_dir() -> Path:
    """Fine-tuned model versions, one folder each, and `active.json`, the pointer to the one in use."""
    return user_data_dir() / "models"


def active_version_path() -> Path | None:
    """The model file of the version `active.json` names, if there is one and its config exists (see versions.py)."""
    pointer = versions_dir() / "active.json"
    try:
        version = json.loads(pointer.read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(version, str) or not version or version == "bundled" or "/" in version or "\\" in version:
        return None
    path = versions_dir() / version / "model.json"
    return path if path.exists() else None


def default_model_path() -> Path | None:
    """The model used when none is named: $SKINSEG_MODEL, else the active fine-tuned version, else the bundled one;
    None when none exists."""
    override = os.environ.get("SKINSEG_MODEL")
    if override:
        return Path(override)
    active = active_version_path()
    if active is not None:
        return active
    bundled = bundled_model_path()
    return bundled if bundled.exists() else None
