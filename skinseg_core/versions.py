"""Model versions in the user's data folder: the fine-tuned models a user adopted, and which one is in use.

Layout (`paths.versions_dir()`, in the user data folder):

    models/
        active.json              {"version": "<id>"} or {"version": "bundled"}; written atomically
        <id>/model.json          a SkinSeg model file (checkpoint.py) with its weights beside it
        <id>/model.safetensors
        <id>/card.json           {"id", "parent", "photos", "metrics", "created", ...}

A version folder appears in one rename, complete or not at all. The bundled model is never copied nor changed, so
it can always be restored; a version whose files are damaged is reported by `list_versions` and skipped, and a
pointer to a missing or damaged version falls back to the bundled model.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import re
import shutil
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skinseg_core import paths
from skinseg_core.atomic import atomic_write_json
from skinseg_core.checkpoint import checkpoint_paths, read_checkpoint_info, sha256_of
from skinseg_core.errors import CheckpointError, SkinSegError

__all__ = ["BUNDLED", "ModelVersion", "VersionProblem", "activate", "active_version", "add_version",
           "list_versions", "restore_bundled"]

log = logging.getLogger(__name__)

BUNDLED = "bundled"
POINTER = "active.json"
MODEL_FILE = "model.json"
CARD_FILE = "card.json"
_ID = re.compile(r"^v(\d{3,})-")


@dataclass(frozen=True)
class ModelVersion:
    """One model the user can switch to: the bundled one or a fine-tuned version."""

    id: str
    path: Path  # the model's .json config
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def bundled(self) -> bool:
        return self.id == BUNDLED

    @property
    def label(self) -> str:
        """What the status bar and menus call it."""
        if self.bundled:
            return "bundled model"
        return self.id


@dataclass(frozen=True)
class VersionProblem:
    """A version folder that cannot be used, and why."""

    folder: Path
    message: str


def _check_model(config_path: Path) -> dict[str, Any]:
    """The model's config after checking that its weights exist and match their checksum (CheckpointError if not)."""
    info = read_checkpoint_info(config_path)
    weights = config_path.parent / str(info.get("weights_file", checkpoint_paths(config_path)[1].name))
    if not weights.exists() or weights.stat().st_size == 0:
        raise CheckpointError(f"Model weights {weights} are missing or empty.")
    expected = info.get("weights_sha256")
    if expected and sha256_of(weights) != expected:
        raise CheckpointError(f"Model weights {weights} do not match their checksum: the file is damaged.")
    return info


def bundled_version() -> ModelVersion | None:
    path = paths.bundled_model_path()
    if not path.exists():
        return None
    card: dict[str, Any] = {"id": BUNDLED, "parent": None, "created": None}
    try:
        info = read_checkpoint_info(path)
        card.update(name=info.get("name"), created=info.get("created"), metrics=info.get("metrics", {}))
    except CheckpointError as exc:
        card["problem"] = str(exc)
    return ModelVersion(BUNDLED, path, card)


def list_versions() -> tuple[list[ModelVersion], list[VersionProblem]]:
    """The bundled model (when installed) first, then the fine-tuned versions oldest first; and the version folders
    that were skipped because their files are missing or damaged."""
    versions: list[ModelVersion] = []
    problems: list[VersionProblem] = []
    bundled = bundled_version()
    if bundled is not None:
        versions.append(bundled)
    root = paths.versions_dir()
    if not root.is_dir():
        return versions, problems
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        config = folder / MODEL_FILE
        try:
            _check_model(config)
            card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
            if not isinstance(card, dict):
                raise ValueError("the card is not a JSON object")
        except (CheckpointError, OSError, ValueError) as exc:
            log.warning("Skipping the damaged model version %s: %s", folder, exc)
            problems.append(VersionProblem(folder, f"The model version {folder.name} is damaged and was skipped "
                                                   f"({exc}). Delete the folder {folder} to remove it."))
            continue
        versions.append(ModelVersion(folder.name, config, card))
    return versions, problems


def find_version(version_id: str) -> ModelVersion:
    versions, problems = list_versions()
    for version in versions:
        if version.id == version_id:
            return version
    for problem in problems:
        if problem.folder.name == version_id:
            raise CheckpointError(problem.message)
    names = ", ".join(v.id for v in versions) or "none"
    raise CheckpointError(f"There is no model version {version_id!r}; the versions are: {names}.")


def _read_pointer() -> str | None:
    try:
        version = json.loads((paths.versions_dir() / POINTER).read_text(encoding="utf-8")).get("version")
    except (OSError, ValueError, AttributeError):
        return None
    return version if isinstance(version, str) else None


def active_version() -> ModelVersion | None:
    """The version in use: the one the pointer names if it is intact, else the bundled model (None if absent)."""
    pointer = _read_pointer()
    if pointer and pointer != BUNDLED:
        try:
            return find_version(pointer)
        except CheckpointError as exc:
            log.warning("The active model version cannot be used (%s); using the bundled model", exc)
    return bundled_version()


def activate(version_id: str) -> ModelVersion:
    """Make a version (or BUNDLED) the one used by default; the pointer is replaced atomically."""
    version = find_version(version_id)
    root = paths.versions_dir()
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(root / POINTER, {"version": version.id})
    return version


def restore_bundled() -> ModelVersion:
    """Go back to the shipped model (the fine-tuned versions stay, for a later roll-forward)."""
    return activate(BUNDLED)


def _next_id(root: Path) -> str:
    numbers = [int(m.group(1)) for p in root.iterdir() if (m := _ID.match(p.name))] if root.is_dir() else []
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return f"v{max(numbers, default=0) + 1:03d}-{stamp}"


def add_version(model_config: str | Path, card: dict[str, Any]) -> ModelVersion:
    """Copy a finished model (its .json and weights) into a new version folder with its card; returns the version.

    The folder is filled under a hidden temporary name and renamed into place, so it appears complete or not at
    all. The new version is not activated (see `activate`).
    """
    config_path, _ = checkpoint_paths(model_config)
    info = _check_model(config_path)
    weights = config_path.parent / str(info.get("weights_file"))
    root = paths.versions_dir()
    root.mkdir(parents=True, exist_ok=True)
    version_id = _next_id(root)
    staging = root / f".{version_id}.{secrets.token_hex(4)}.tmp"
    try:
        staging.mkdir()
        shutil.copyfile(weights, staging / "model.safetensors")
        info = dict(info, weights_file="model.safetensors", name=version_id)
        atomic_write_json(staging / MODEL_FILE, info)
        full_card = {"id": version_id, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                     **card}
        atomic_write_json(staging / CARD_FILE, full_card)
        os.replace(staging, root / version_id)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise SkinSegError(f"Could not store the new model in {root}: {exc}. Free some disk space and try again; "
                           "the model in use is unchanged.") from exc
    return ModelVersion(version_id, root / version_id / MODEL_FILE, full_card)
