"""Export: RLE round trip (column-major, zero run first), polygons rebuild the mask, files carry no metadata."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from skinseg_core.errors import SkinSegError
from skinseg_core.export import (
    ExportItem,
    ExportOptions,
    export_masks,
    mask_to_polygons,
    mask_targets,
    rle_decode,
    rle_encode,
)
from tests.conftest import disc_mask


@pytest.mark.parametrize("shape", [(1, 1), (33, 63), (5, 7)])
def test_rle_round_trip(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(0)
    for mask in (rng.random(shape) > 0.5, np.ones(shape, bool), np.zeros(shape, bool)):
        rle = rle_encode(mask)
        assert rle["size"] == list(shape)
        assert sum(rle["counts"]) == mask.size
        np.testing.assert_array_equal(rle_decode(rle), mask)


def test_rle_is_column_major_starting_with_zeros() -> None:
    mask = np.array([[1, 0], [1, 1]], bool)  # column-major: 1, 1, 0, 1
    assert rle_encode(mask)["counts"] == [0, 2, 1, 1]


def _rasterise(polygons: list, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, np.uint8)
    for label, points in polygons:
        cv2.fillPoly(out, [np.array(points, np.int32)], 1 if label == "skin" else 0)
    return out.astype(bool)


def test_polygons_rebuild_mask_with_hole() -> None:
    mask = disc_mask(64, 32, 32, 25) & ~disc_mask(64, 32, 32, 8)
    mask |= disc_mask(64, 32, 32, 3)  # an island inside the hole
    back = _rasterise(mask_to_polygons(mask), mask.shape)
    iou = np.count_nonzero(back & mask) / np.count_nonzero(back | mask)
    assert iou > 0.9


def test_export_files(tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (63, 33)).save(photo)
    mask = np.zeros((33, 63), bool)
    mask[5:20, 10:40] = True
    out = tmp_path / "out"
    options = ExportOptions(out_dir=out, model={"name": "tiny", "sha256": "abc"})
    progress = list(export_masks([ExportItem(photo, lambda: mask, 0.42)], options))
    assert progress[-1].done == progress[-1].total == 1
    png = Image.open(out / "photo.png")
    assert png.mode == "L" and not png.getexif() and not png.info.get("exif")
    np.testing.assert_array_equal(np.asarray(png) > 0, mask)
    coco = json.loads((out / "coco.json").read_text())
    assert coco["info"]["skinseg"]["threshold"] == 0.42 and coco["info"]["skinseg"]["model"]["name"] == "tiny"
    np.testing.assert_array_equal(rle_decode(coco["annotations"][0]["segmentation"]), mask)
    labelme = json.loads((out / "photo.json").read_text())
    assert labelme["imagePath"] == "../photo.jpg" and labelme["skinseg"]["threshold"] == 0.42
    assert _rasterise([(s["label"], s["points"]) for s in labelme["shapes"]], mask.shape).sum() == mask.sum()


def test_never_overwrites_a_photo(tmp_path: Path) -> None:
    photo = tmp_path / "a.png"
    with pytest.raises(SkinSegError, match="overwrite the photo"):
        mask_targets([photo], tmp_path)
    targets = mask_targets([tmp_path / "b.jpg", tmp_path / "b.png"], tmp_path / "m")
    assert sorted(t.name for t in targets.values()) == ["b_jpg.png", "b_png.png"]
