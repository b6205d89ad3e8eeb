"""Group pictures: held-out photos tiled so that people are small, each with its own mask in the same place."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from skinseg_core import report as report_module
from skinseg_core.cli import main
from skinseg_core.data import SamplePair, folder_pairs
from skinseg_core.group_pictures import tile_pairs
from skinseg_core.imageio import read_mask, read_photo, write_mask_png


def test_each_photo_and_its_mask_land_in_the_same_cell(synthetic_folder, tmp_path):
    pairs = folder_pairs(synthetic_folder)[:5]
    (picture,) = tile_pairs(pairs, 2, tmp_path / "groups", cell=32)  # the fifth photo cannot fill a picture
    rgb, mask = read_photo(picture.image).rgb, read_mask(picture.mask)
    assert rgb.shape == (64, 64, 3) and mask.shape == (64, 64)
    for index, pair in enumerate(pairs[:4]):
        row, col = divmod(index, 2)
        cell = (slice(row * 32, row * 32 + 32), slice(col * 32, col * 32 + 32))
        source = cv2.resize(read_photo(pair.image).rgb, (32, 32), interpolation=cv2.INTER_AREA)
        expected = cv2.resize(read_mask(pair.mask).astype(np.uint8), (32, 32), interpolation=cv2.INTER_NEAREST) > 0
        assert np.array_equal(rgb[cell], source) and np.array_equal(mask[cell], expected)


def test_a_photo_that_is_not_square_is_centred_on_black_background(tmp_path):
    (tmp_path / "src").mkdir()
    photo, skin = tmp_path / "src" / "wide.png", tmp_path / "src" / "wide_mask.png"
    cv2.imwrite(str(photo), np.full((20, 40, 3), 200, np.uint8))
    write_mask_png(skin, np.ones((20, 40), bool))
    (picture,) = tile_pairs([SamplePair(photo, skin)], 1, tmp_path / "groups", cell=40)
    mask = read_mask(picture.mask)
    assert mask.shape == (40, 40) and mask[10:30].all() and not mask[:10].any() and not mask[30:].any()
    assert (read_photo(picture.image).rgb[:10] == 0).all()


def test_tile_pairs_refuses_an_empty_grid(tmp_path):
    with pytest.raises(ValueError, match="per_side"):
        tile_pairs([], 0, tmp_path, cell=250)


@pytest.mark.needs_data
def test_the_report_scores_group_pictures_made_from_lfw_test_photos(shared_data, tiny_checkpoint, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(report_module, "TEST_SETS", ("clinical_fitz17k",))  # keep the run short
    out = tmp_path / "report"
    assert main(["report", "--model", str(tiny_checkpoint), "--data-root", str(shared_data), "--out", str(out),
                 "--device", "cpu"]) == 0
    report = json.loads((out / "report.json").read_text())
    groups = report["sets"]["lfw_groups"]
    assert groups["n"] == 927 // 25 and set(groups["methods"]) == {"model", "kovac-rgb", "chai-ngan-ycrcb"}
    markdown = (out / "report.md").read_text()
    assert markdown.count("| lfw_groups | 37 |") == 3 and "tiled 5 x 5 into 1250 px pictures" in markdown
    # The test report also scores ECU's and the clinical test photos under four lights (lighting.py).
    assert report["sets"]["ecu_coloured_light"]["n"] == 20 * 4
    assert report["sets"]["clinical_coloured_light"]["n"] == 15 * 4
    assert "lesion_pixels_called_skin" in report["sets"]["clinical_coloured_light"]["methods"]["model"]
