"""Atomic file saves: write a temporary file beside the target, flush it to disk, then rename it over the target.

A rename within one folder is atomic on every platform SkinSeg supports, so a reader (or a crash, or a full disk)
only ever sees the previous complete file or the new complete file, never a half-written one. Failures become a
`SkinSegError` whose message says what happened and what to do; the temporary file is always removed.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import secrets
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from skinseg_core.errors import SkinSegError

__all__ = ["TEMP_SUFFIX", "atomic_path", "atomic_write_bytes", "atomic_write_json", "atomic_write_text"]

log = logging.getLogger(__name__)

TEMP_SUFFIX = ".skinseg-tmp"

# Keeps "." + name + "." + token + suffix under the 255-byte file-name limit of common file systems.
_MAX_NAME_PART = 120

# Windows reports a full disk as these winerror codes; Python usually maps them to ENOSPC, but not always.
_WIN_DISK_FULL = {39, 112}  # ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL
_DISK_FULL_ERRNOS = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())
_UNCHANGED = "the previous version of the file is unchanged."


def _save_error(path: Path, exc: OSError) -> SkinSegError:
    """Turn an OSError raised while saving `path` into a message a user can act on."""
    code = exc.errno
    if code in _DISK_FULL_ERRNOS or getattr(exc, "winerror", None) in _WIN_DISK_FULL:
        return SkinSegError(f"Could not save {path}: the disk is full. Free some space and try again; {_UNCHANGED}")
    if code in (errno.EACCES, errno.EPERM):
        return SkinSegError(
            f"Could not save {path}: permission denied. Save to a folder you can write to, or close any program "
            f"that has the file open; {_UNCHANGED}"
        )
    if code == errno.EROFS:
        return SkinSegError(
            f"Could not save {path}: the disk or folder is read-only. Save to another folder; {_UNCHANGED}"
        )
    if code == errno.ENOENT:
        return SkinSegError(
            f"Could not save {path}: the folder {path.parent} does not exist. Create it or choose another folder; "
            f"{_UNCHANGED}"
        )
    if code == errno.EFBIG:
        return SkinSegError(
            f"Could not save {path}: the file is too large for this disk's file system (FAT32 disks hold files of at "
            f"most 4 GB). Save to a disk formatted as NTFS, exFAT, APFS or ext4; {_UNCHANGED}"
        )
    reason = exc.strerror or str(exc) or type(exc).__name__
    return SkinSegError(
        f"Could not save {path}: {reason}. Check that the folder exists, that you can write to it and that the disk "
        f"is connected; {_UNCHANGED}"
    )


def _temp_path_for(path: Path) -> Path:
    # Hidden (leading dot) so photo listings and file browsers skip it; random so parallel saves never collide.
    name = path.name[:_MAX_NAME_PART]
    return path.with_name(f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _create_temp(path: Path) -> Path:
    """Create an empty temporary file beside `path` and return its path."""
    for _ in range(10):
        temp = _temp_path_for(path)
        try:
            # 0o666 lets the umask decide permissions, as for any new file (mkstemp would force 0o600).
            fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return temp
    raise FileExistsError(errno.EEXIST, "could not create a unique temporary file", str(path.parent))


def _copy_mode(source: Path, target: Path) -> None:
    # An overwrite should keep the permissions the user gave the old file; best-effort, since some file systems
    # (network shares, FAT) do not support chmod at all.
    try:
        mode = stat.S_IMODE(os.stat(source).st_mode)
        os.chmod(target, mode)
    except OSError:
        pass


def _fsync_file(path: Path) -> None:
    # Without this, a power cut after the rename can leave a zero-length file on some file systems (ext4, APFS).
    # O_RDWR because Windows refuses to flush a handle opened read-only.
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open folders this way and does not need it.
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace(temp: Path, path: Path) -> None:
    # On Windows a virus scanner or indexer briefly holding the target makes os.replace fail with "access denied";
    # a few short retries get past that without hiding a real permission problem for long.
    attempts = 5 if sys.platform == "win32" else 1
    for attempt in range(attempts):
        try:
            os.replace(temp, path)
            return
        except PermissionError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))


def _remove_quietly(temp: Path) -> None:
    try:
        os.unlink(temp)
    except FileNotFoundError:
        pass
    except OSError as exc:  # nothing more we can do; the original error matters more
        log.warning("Could not remove temporary file %s: %s", temp, exc)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; when the block succeeds, it replaces `path` atomically.

    Write the whole new file to the yielded path inside the block. On success the temporary file is flushed to disk
    and renamed over `path`. On any exception the temporary file is removed and `path` is left untouched; an
    `OSError` (from the block or from the save itself) is re-raised as a `SkinSegError` with a user-facing message,
    other exceptions propagate unchanged.

    The temporary name ends with ``.skinseg-tmp``, so writers that pick the format from the extension (cv2.imwrite,
    PIL without ``format=``) must be told the format explicitly; encoding to bytes and using `atomic_write_bytes` is
    simpler.
    """
    target = Path(path)
    try:
        temp = _create_temp(target)
    except OSError as exc:
        raise _save_error(target, exc) from exc
    try:
        yield temp
        if target.exists():
            _copy_mode(target, temp)
        _fsync_file(temp)
        _replace(temp, target)
    except OSError as exc:
        _remove_quietly(temp)
        raise _save_error(target, exc) from exc
    except BaseException:
        # Also on KeyboardInterrupt: a stray temp file in the user's folder is worse than a slower exit.
        _remove_quietly(temp)
        raise
    _fsync_folder(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data` atomically (see `atomic_path`)."""
    with atomic_path(path) as temp, open(temp, "wb") as file:
        file.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace `path` with `text` as UTF-8, atomically; line endings are written as given (no CRLF translation on
    Windows, so files are identical on every platform)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _json_default(obj: Any) -> Any:
    # Metrics and settings often hold numpy scalars or Paths; converting them here saves every caller a step.
    # Imported lazily so this module stays cheap to import.
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(obj, numpy.generic):
            return obj.item()
        if isinstance(obj, numpy.ndarray):
            return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Replace `path` with `obj` as JSON (indent 2, keys in the given order, trailing newline), atomically.

    The object is serialised before anything touches the disk, so an unserialisable object raises `TypeError`
    and leaves no trace. numpy scalars/arrays and paths are converted; NaN is written as ``NaN`` (as Python's json
    module reads it back) because metrics can legitimately be undefined.
    """
    text = json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False, default=_json_default) + "\n"
    atomic_write_text(path, text)
