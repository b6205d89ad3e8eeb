"""Write a compact copy of the shared data folder, for training on a machine that takes a size-limited upload.

Training keeps every photo in memory at 448 px on the long side (2 x the network's input; data.SkinDataset) and
the backgrounds likewise (collage.load_backgrounds), so photos are stored at most that large
(--long-side: 640 for a network at 320 px, docs/adr/0022): as decoded (EXIF applied), shrunk with the same INTER_AREA,
re-encoded as JPEG (--quality). Masks are stored at the photo's stored size as 1-bit PNG. Splits, SOURCE.txt,
metadata.csv and the clinical lesion masks come along. The copy is not the same data: JPEG re-encoding changes pixels
by a few levels, and scores measured on it are only for comparing runs.

    python scripts/pack_data.py --data-root ../shared/data --backgrounds runs/backgrounds --out .gpudata \\
        --without lfw_parts:test
"""

from __future__ import annotations

import argparse
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skinseg_core.data import folder_pairs  # noqa: E402
from skinseg_core.imageio import list_photos, read_mask, read_photo  # noqa: E402

LONG_SIDE = 448


def _shrunk(rgb: np.ndarray, long_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= long_side:
        return rgb
    scale = long_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _write_photo(source: Path, target: Path, quality: int, long_side: int = LONG_SIDE) -> tuple[int, int]:
    rgb = _shrunk(read_photo(source, min_long_side=long_side).rgb, long_side)
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(target.with_suffix(".jpg"), quality=quality)
    return rgb.shape[1], rgb.shape[0]


def _write_mask(source: Path, target: Path, size: tuple[int, int]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(read_mask(source, size=size)).convert("1").save(target.with_suffix(".png"), optimize=True)


def pack_set(root: Path, out: Path, name: str, skip: set[str], quality: int, long_side: int = LONG_SIDE) -> int:
    source, target = root / name, out / name
    for extra in ("SOURCE.txt", "metadata.csv", "splits"):
        if (source / extra).is_dir():
            shutil.copytree(source / extra, target / extra, dirs_exist_ok=True)
        elif (source / extra).is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / extra, target / extra)
    pairs = [p for p in folder_pairs(source) if p.stem not in skip]

    def one(pair) -> None:
        size = _write_photo(pair.image, target / "images" / pair.stem, quality, long_side)
        _write_mask(pair.mask, target / "masks" / pair.stem, size)
        lesion = source / "masks_lesion" / pair.mask.name
        if lesion.exists():
            _write_mask(lesion, target / "masks_lesion" / pair.stem, size)

    with ThreadPoolExecutor() as pool:
        list(pool.map(one, pairs))
    return len(pairs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--backgrounds", type=Path, default=None, help="also pack this backgrounds folder")
    parser.add_argument("--quality", type=int, default=90)
    parser.add_argument("--long-side", type=int, default=LONG_SIDE,
                        help=f"largest long side stored (default {LONG_SIDE}: twice the network's input of 224; "
                             "a network at input size N keeps 2 x N in memory)")
    parser.add_argument("--without", action="append", default=[], metavar="SET:SPLIT",
                        help="leave out the photos a set's splits/SPLIT.txt lists (e.g. lfw_parts:test)")
    args = parser.parse_args()
    for entry in sorted(p for p in args.data_root.iterdir() if p.is_dir()):
        skip: set[str] = set()
        for item in args.without:
            name, _, split = item.partition(":")
            if name == entry.name:
                skip |= set((entry / "splits" / f"{split}.txt").read_text().split())
        packed = pack_set(args.data_root, args.out / "data", entry.name, skip, args.quality, args.long_side)
        print(f"{entry.name}: {packed} pairs")
    if (args.data_root / "README.md").is_file():
        shutil.copy2(args.data_root / "README.md", args.out / "data" / "README.md")
    if args.backgrounds:
        images = args.backgrounds / "images" if (args.backgrounds / "images").is_dir() else args.backgrounds
        target = args.out / "backgrounds" / "images"
        target.mkdir(parents=True, exist_ok=True)
        for path in list_photos(images):
            _write_photo(path, target / path.stem, args.quality, args.long_side)
        print(f"backgrounds: {len(list_photos(target))} pictures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
