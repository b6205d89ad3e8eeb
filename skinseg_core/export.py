"""Exporting masks: 8-bit PNGs, one COCO file (uncompressed RLE) and labelme JSON files (polygons).

Every export records which model made the masks and at which threshold. Masks are written with
`imageio.write_mask_png` (OpenCV's encoder writes no metadata chunks: no EXIF, GPS, camera serials or owner names).
A photo is never overwritten: `plan_export` refuses any target that is one of the photos.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import skinseg_core
from skinseg_core.atomic import atomic_write_json
from skinseg_core.errors import SkinSegError
from skinseg_core.imageio import write_mask_png

__all__ = [
    "ExportItem",
    "ExportOptions",
    "ExportProgress",
    "coco_document",
    "coco_entry",
    "export_masks",
    "labelme_document",
    "mask_to_polygons",
    "mask_targets",
    "rle_decode",
    "rle_encode",
]

log = logging.getLogger(__name__)

SKIN_LABEL = "skin"
HOLE_LABEL = "background"  # labelme polygons drawn in order: a hole is a background polygon drawn over the skin
LABELME_VERSION = "5.4.1"


# --------------------------------------------------------------------------------------------------------------
# COCO run-length encoding
# --------------------------------------------------------------------------------------------------------------


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """bool [H, W] -> COCO uncompressed RLE {"size": [H, W], "counts": [...]}.

    Runs are counted in column-major (Fortran) order and start with a run of zeros (possibly of length 0), as
    pycocotools expects.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"rle_encode needs a 2-D mask [H, W], got shape {mask.shape}")
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": [int(c) for c in counts]}


def rle_decode(rle: dict[str, Any]) -> np.ndarray:
    """COCO uncompressed RLE -> bool [H, W] (the inverse of `rle_encode`)."""
    height, width = (int(v) for v in rle["size"])
    counts = np.asarray(rle["counts"], dtype=np.int64)
    if counts.sum() != height * width:
        raise ValueError(f"RLE counts sum to {counts.sum()}, not {height} x {width}")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    return flat.reshape((height, width), order="F")


def _bbox(mask: np.ndarray) -> list[int]:
    points = cv2.findNonZero(mask.view(np.uint8))
    if points is None:
        return [0, 0, 0, 0]
    x, y, w, h = cv2.boundingRect(points)
    return [int(x), int(y), int(w), int(h)]


# --------------------------------------------------------------------------------------------------------------
# Polygons
# --------------------------------------------------------------------------------------------------------------


def mask_to_polygons(mask: np.ndarray, min_points: int = 3) -> list[tuple[str, list[list[int]]]]:
    """bool [H, W] -> [(label, [[x, y], ...])] in drawing order: outer boundaries are SKIN_LABEL, holes
    HOLE_LABEL, and every polygon comes after the one that contains it, so filling them in order rebuilds the mask.
    Coordinates are pixel indices of the boundary pixels (OpenCV's convention)."""
    mask_u8 = np.ascontiguousarray(np.asarray(mask, dtype=bool).view(np.uint8))
    contours, hierarchy = cv2.findContours(mask_u8, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    parents = hierarchy[0][:, 3]
    depth = np.zeros(len(contours), dtype=int)
    for i in range(len(contours)):
        j, d = parents[i], 0
        while j >= 0:
            d += 1
            j = parents[j]
        depth[i] = d
    out: list[tuple[str, list[list[int]]]] = []
    for i in np.argsort(depth, kind="stable"):
        points = contours[i].reshape(-1, 2)
        if len(points) < min_points:
            continue
        out.append((SKIN_LABEL if depth[i] % 2 == 0 else HOLE_LABEL, points.tolist()))
    return out


# --------------------------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportItem:
    """One photo to export: its path and a function giving its bool [H, W] full-resolution mask."""

    photo: Path
    mask: Callable[[], np.ndarray]
    threshold: float


@dataclass(frozen=True)
class ExportOptions:
    out_dir: Path
    png: bool = True
    coco: bool = True
    labelme: bool = True
    model: dict[str, Any] = field(default_factory=dict)  # name, sha256, version: recorded with every export


@dataclass(frozen=True)
class ExportProgress:
    done: int
    total: int
    photo: Path | None = None


def _provenance(options: ExportOptions, threshold: float | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "software": f"SkinSeg {skinseg_core.__version__}",
        "model": dict(options.model),
        "exported": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if threshold is not None:
        info["threshold"] = threshold
    return info


def labelme_document(
    mask: np.ndarray, image_path: str, options: ExportOptions, threshold: float
) -> dict[str, Any]:
    """A labelme JSON document with the mask as polygons (skin, and background holes drawn after them)."""
    shapes = [
        {
            "label": label,
            "points": [[float(x), float(y)] for x, y in points],
            "group_id": None,
            "description": "",
            "shape_type": "polygon",
            "flags": {},
        }
        for label, points in mask_to_polygons(mask)
    ]
    return {
        "version": LABELME_VERSION,
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": None,
        "imageHeight": int(mask.shape[0]),
        "imageWidth": int(mask.shape[1]),
        "skinseg": _provenance(options, threshold),
    }


def coco_entry(file_name: str, mask: np.ndarray, threshold: float) -> dict[str, Any]:
    """What the COCO file needs of one photo (its RLE is far smaller than the mask, so batches can keep these)."""
    return {
        "file_name": file_name,
        "width": int(mask.shape[1]),
        "height": int(mask.shape[0]),
        "segmentation": rle_encode(mask),
        "area": int(np.count_nonzero(mask)),
        "bbox": _bbox(mask),
        "threshold": float(threshold),
    }


def coco_document(entries: Sequence[dict[str, Any]], options: ExportOptions) -> dict[str, Any]:
    """COCO instances JSON: one image and one skin annotation (iscrowd RLE) per `coco_entry`."""
    images, annotations = [], []
    for index, entry in enumerate(entries, start=1):
        images.append(
            {"id": index, "file_name": entry["file_name"], "width": entry["width"], "height": entry["height"]}
        )
        annotations.append(
            {
                "id": index,
                "image_id": index,
                "category_id": 1,
                "segmentation": entry["segmentation"],
                "area": entry["area"],
                "bbox": entry["bbox"],
                "iscrowd": 1,
                "skinseg_threshold": entry["threshold"],
            }
        )
    thresholds = sorted({entry["threshold"] for entry in entries})
    info = {
        "description": "Skin masks exported by SkinSeg (for research use)",
        "version": skinseg_core.__version__,
        "date_created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "skinseg": _provenance(options, thresholds[0] if len(thresholds) == 1 else None),
    }
    return {
        "info": info,
        "images": images,
        "annotations": annotations,
        "categories": [{"id": 1, "name": SKIN_LABEL, "supercategory": SKIN_LABEL}],
    }


# --------------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------------


def mask_targets(photos: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
    """photo -> mask PNG path in out_dir, named after the photo's stem (or stem_ext when two photos share a stem).

    Raises SkinSegError if a target would be one of the photos (never overwrite a photo).
    """
    stems: dict[str, int] = {}
    for photo in photos:
        stems[photo.stem.casefold()] = stems.get(photo.stem.casefold(), 0) + 1
    photo_set = {os.path.normcase(os.path.abspath(p)) for p in photos}
    targets: dict[Path, Path] = {}
    for photo in photos:
        name = photo.stem if stems[photo.stem.casefold()] == 1 else f"{photo.stem}_{photo.suffix.lstrip('.')}"
        target = out_dir / f"{name}.png"
        if os.path.normcase(os.path.abspath(target)) in photo_set or (
            target.exists() and os.path.normcase(os.path.abspath(target)) in photo_set
        ):
            raise SkinSegError(
                f"Exporting would overwrite the photo {target}. Choose another folder for the masks."
            )
        targets[photo] = target
    return targets


def export_masks(items: Sequence[ExportItem], options: ExportOptions) -> Iterator[ExportProgress]:
    """Write the chosen formats for `items` into options.out_dir; yields progress after each photo.

    Files: <stem>.png (0/255), <stem>.json (labelme, imagePath relative to out_dir), coco.json (all photos).
    Stop iterating to cancel; files already written stay (each one is complete: writes are atomic).
    """
    out_dir = Path(options.out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SkinSegError(
            f"Could not create the export folder {out_dir}: {exc.strerror or exc}. Choose a folder you can write to."
        ) from exc
    targets = mask_targets([item.photo for item in items], out_dir)
    coco_entries: list[dict[str, Any]] = []
    yield ExportProgress(0, len(items))
    for done, item in enumerate(items, start=1):
        mask = item.mask()
        target = targets[item.photo]
        if options.png:
            write_mask_png(target, mask)
        if options.labelme:
            image_path = os.path.relpath(item.photo, out_dir)
            atomic_write_json(
                target.with_suffix(".json"), labelme_document(mask, image_path, options, item.threshold)
            )
        if options.coco:
            coco_entries.append(coco_entry(item.photo.name, mask, item.threshold))
        yield ExportProgress(done, len(items), item.photo)
    if options.coco and coco_entries:
        atomic_write_json(out_dir / "coco.json", coco_document(coco_entries, options))
