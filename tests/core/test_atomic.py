"""Atomic saves: the target is either the old complete file or the new one, never half of either, and failures
leave no temporary files behind."""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from skinseg_core import atomic
from skinseg_core.atomic import TEMP_SUFFIX, atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
from skinseg_core.errors import SkinSegError

DISK_FULL = (
    "Could not save {path}: the disk is full. Free some space and try again; the previous version of the file is "
    "unchanged."
)


def temp_files(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(TEMP_SUFFIX)]


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.json"
    path.write_bytes(b"old contents")
    return path


def test_write_bytes_creates_and_replaces(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    atomic_write_bytes(path, b"first")
    assert path.read_bytes() == b"first"
    atomic_write_bytes(str(path), b"second")  # str paths are accepted too
    assert path.read_bytes() == b"second"
    assert temp_files(tmp_path) == []


def test_atomic_path_yields_hidden_temp_beside_target(tmp_path: Path) -> None:
    target = tmp_path / "mask.png"
    with atomic_path(target) as temp:
        assert temp.parent == tmp_path
        assert temp.name.startswith(".") and temp.name.endswith(TEMP_SUFFIX)
        assert temp.exists() and not target.exists()  # nothing visible until the block succeeds
        temp.write_bytes(b"png")
    assert target.read_bytes() == b"png"
    assert not temp.exists()


def test_exception_inside_keeps_old_file_and_removes_temp(old_file: Path) -> None:
    with pytest.raises(ValueError, match="boom"), atomic_path(old_file) as temp:
        temp.write_bytes(b"half written")
        raise ValueError("boom")  # non-OSError exceptions pass through unchanged
    assert old_file.read_bytes() == b"old contents"
    assert temp_files(old_file.parent) == []


def test_disk_full_on_replace(old_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_space)
    with pytest.raises(SkinSegError) as info:
        atomic_write_bytes(old_file, b"new contents")
    assert str(info.value) == DISK_FULL.format(path=old_file)
    assert old_file.read_bytes() == b"old contents"
    assert temp_files(old_file.parent) == []


@pytest.mark.parametrize("code", [errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)])
def test_disk_full_while_writing(old_file: Path, code: int) -> None:
    with pytest.raises(SkinSegError) as info, atomic_path(old_file) as temp:
        temp.write_bytes(b"part")
        raise OSError(code, os.strerror(code))
    assert str(info.value) == DISK_FULL.format(path=old_file)
    assert old_file.read_bytes() == b"old contents"
    assert temp_files(old_file.parent) == []


def test_disk_full_for_json(old_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = open

    def failing_write(path: object, mode: str = "r", *args: object, **kwargs: object) -> object:
        if "w" in mode:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(path, mode, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", failing_write)
    with pytest.raises(SkinSegError, match="the disk is full"):
        atomic_write_json(old_file, {"a": 1})
    monkeypatch.undo()
    assert old_file.read_bytes() == b"old contents"
    assert temp_files(old_file.parent) == []


def test_permission_error_message(old_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(src: object, dst: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.os, "replace", denied)
    with pytest.raises(SkinSegError) as info:
        atomic_write_text(old_file, "new")
    message = str(info.value)
    assert str(old_file) in message and "permission denied" in message and "unchanged" in message
    assert old_file.read_bytes() == b"old contents"
    assert temp_files(old_file.parent) == []


def test_missing_folder_message(tmp_path: Path) -> None:
    target = tmp_path / "no_such_folder" / "out.json"
    with pytest.raises(SkinSegError) as info:
        atomic_write_text(target, "x")
    assert "does not exist" in str(info.value) and str(target.parent) in str(info.value)


def test_write_text_is_utf8_without_newline_translation(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    atomic_write_text(path, "Größe\nzwei\n")
    assert path.read_bytes() == "Größe\nzwei\n".encode()


def test_write_json_format(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    obj = {"zeta": 1, "alpha": [1, 2], "name": "Ödem", "score": np.float32(0.5), "count": np.int64(3),
           "folder": Path("a") / "b"}
    atomic_write_json(path, obj)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text.index('"zeta"') < text.index('"alpha"')  # insertion order, not sorted
    assert '\n  "zeta": 1,' in text  # indent=2
    assert "Ödem" in text
    loaded = json.loads(text)
    assert loaded["score"] == 0.5 and loaded["count"] == 3 and loaded["folder"] == os.fspath(Path("a") / "b")


def test_write_json_unserialisable_leaves_nothing(old_file: Path) -> None:
    with pytest.raises(TypeError):
        atomic_write_json(old_file, {"x": object()})
    assert old_file.read_bytes() == b"old contents"
    assert temp_files(old_file.parent) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_overwrite_keeps_permissions(old_file: Path) -> None:
    os.chmod(old_file, 0o640)
    atomic_write_bytes(old_file, b"new")
    assert old_file.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_file_follows_umask(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = tmp_path / "new.bin"
        atomic_write_bytes(path, b"x")
        assert path.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0o600
    finally:
        os.umask(umask)
