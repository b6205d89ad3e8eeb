"""ECU's photos cut below their faces: the report's check for bodies, arms and hands with no face in view."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from skinseg_core.body_crops import MIN_ROWS, body_pairs
from skinseg_core.data import SamplePair
from skinseg_core.face_colour import FaceColourGate
from skinseg_core.faces import detect_faces
from skinseg_core.imageio import read_mask, read_photo, write_mask_png
from skinseg_core.recipes import dataset_splits


@pytest.mark.needs_data
def test_ecu_photos_are_cut_below_their_faces_with_their_masks(shared_data, tmp_path):
    pairs = dataset_splits(shared_data)["ecu_subset"].test[:6]
    bodies = body_pairs(pairs, tmp_path)
    assert len(bodies) >= 4
    gate = FaceColourGate()
    sources = {pair.image.stem: pair for pair in pairs}
    for body in bodies:
        source = sources[body.image.stem.removesuffix("_body")]
        photo, crop = read_photo(source.image), read_photo(body.image)
        width, height = photo.full_size
        assert crop.full_size[0] == width and MIN_ROWS <= crop.full_size[1] < height
        # The bottom rows of the photo and of its mask, below every face the photo had.
        cut = height - crop.full_size[1]
        assert np.abs(crop.rgb.astype(int) - photo.rgb[cut:]).max() == 0
        assert np.array_equal(read_mask(body.mask), read_mask(source.mask, size=photo.full_size)[cut:])
        assert all(y + h <= cut for _, y, _, h in detect_faces(photo.rgb))
        assert not gate.first_faces(crop.rgb)  # so the network for people does not run on it
    assert any(read_mask(body.mask).any() for body in bodies)  # arms and hands are marked skin


def test_a_photo_without_a_face_gives_no_body_crop(tmp_path):
    rng = np.random.default_rng(0)
    image, mask = tmp_path / "wall.png", tmp_path / "wall_mask.png"
    cv2.imwrite(str(image), rng.integers(0, 255, (300, 200, 3), dtype=np.uint8))
    write_mask_png(mask, np.zeros((300, 200), bool))
    assert body_pairs([SamplePair(image, mask)], tmp_path / "out") == []
