"""Fetch Debian's wallpaper photos as skin-free backgrounds for training (a build-time tool; the app never uses it).

    python scripts/fetch_backgrounds.py --out runs/backgrounds

Downloads the wallpaper packages with `apt-get download` (Debian/Ubuntu), unpacks them, keeps one copy of each
picture (the largest of a wallpaper's resolutions), scales it to 1024 px on the long side and writes it with an
all-zero mask, in the images/ + masks/ layout of every training folder. Pictures listed in EXCLUDED show people (skin)
and are left out. Each package's copyright file is copied to licenses/: all four are free licences (GPL, LGPL,
CC BY-SA) and the pictures are only used to train the model, never shipped.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers", "ukui-wallpapers", "gnome-backgrounds")
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
LONG_SIDE = 1024
# Pictures with people in them (found by looking at a contact sheet): not skin-free, so not backgrounds.
EXCLUDED: set[str] = set()


def _pictures(root: Path) -> dict[str, Path]:
    """One file per wallpaper: Plasma ships each in several resolutions under <name>/contents/images/."""
    chosen: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in SUFFIXES or not path.is_file() or "/icons/" in str(path):
            continue
        parts = path.parts
        # Plasma: <name>/contents/images/<resolution>.png; MATE: <name>_<width>x<height>.jpg for extra sizes.
        key = parts[parts.index("contents") - 1] if "contents" in parts else re.sub(r"_\d+x\d+$", "", path.stem)
        if key not in chosen or path.stat().st_size > chosen[key].stat().st_size:
            chosen[key] = path
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write images/, masks/ and licenses/ into")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for package in PACKAGES:
            subprocess.run(["apt-get", "download", package], cwd=work, check=True, stdout=subprocess.DEVNULL)
        for deb in work.glob("*.deb"):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "tree")], check=True)
        for sub in ("images", "masks", "licenses"):
            (args.out / sub).mkdir(parents=True, exist_ok=True)
        for package in PACKAGES:
            shutil.copyfile(work / "tree/usr/share/doc" / package / "copyright", args.out / "licenses" / package)
        written = 0
        for key, path in sorted(_pictures(work / "tree").items()):
            name = "".join(c if c.isalnum() or c in "-_" else "_" for c in key)
            if name in EXCLUDED:
                continue
            picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if picture is None or min(picture.shape[:2]) < 256:
                continue
            scale = LONG_SIDE / max(picture.shape[:2])
            if scale < 1:
                picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(args.out / "images" / f"{name}.jpg"), picture, [cv2.IMWRITE_JPEG_QUALITY, 92])
            cv2.imwrite(str(args.out / "masks" / f"{name}.png"), np.zeros(picture.shape[:2], np.uint8))
            written += 1
    print(f"{written} backgrounds written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
