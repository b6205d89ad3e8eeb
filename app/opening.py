"""Turning what the user opened or dropped (files, folders) into a list of photos."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from skinseg_core.errors import SkinSegError
from skinseg_core.imageio import PHOTO_SUFFIXES, list_photos


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """(photos, folders): folders are replaced by their photos (not sub-folders); files are kept as given, in order,
    without duplicates, so that a file the user chose explicitly is opened (and explained) even if it is no photo."""
    photos: list[Path] = []
    folders: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        path = Path(path).absolute()
        if path.is_dir():
            folders.append(path)
            candidates = list_photos(path)
        else:
            candidates = [path]
        for photo in candidates:
            if photo not in seen:
                seen.add(photo)
                photos.append(photo)
    return photos, folders


def no_photos_error(paths: Iterable[Path]) -> SkinSegError:
    names = ", ".join(str(p) for p in paths)
    return SkinSegError(
        f"There are no photos in {names}. SkinSeg opens {', '.join(s.lstrip('.').upper() for s in PHOTO_SUFFIXES)} "
        "files; photos in sub-folders are not included, so open the sub-folder itself."
    )
