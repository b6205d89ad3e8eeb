"""scripts/pack_data.py: a compact copy of a data folder that trains like the original (docs/adr/0015)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from PIL import Image

from skinseg_core.data import folder_pairs, split_pairs
from skinseg_core.imageio import read_mask, read_photo
from skinseg_core.paths import repo_root
from tests.conftest import disc_mask, write_disc_set


def test_packed_photos_are_at_most_the_training_cache_size_and_keep_masks_and_splits(tmp_path):
    data = tmp_path / "data"
    write_disc_set(data / "faces")
    # One large photo, rotated by its EXIF tag as cameras do: the copy holds the pixels as displayed.
    big = np.zeros((600, 900, 3), np.uint8)
    big[..., 0] = 200
    mask = disc_mask(900, 300, 450, 200)[:, :600]  # drawn on the upright photo (600 x 900)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(big).save(data / "faces" / "images" / "big.jpg", exif=exif)
    Image.fromarray(mask.astype(np.uint8) * 255).save(data / "faces" / "masks" / "big.png")
    (data / "faces" / "splits").mkdir()
    (data / "faces" / "splits" / "test.txt").write_text("disc00\ndisc01\n")
    backgrounds = tmp_path / "bg" / "images"
    backgrounds.mkdir(parents=True)
    Image.fromarray(np.full((1000, 500, 3), 90, np.uint8)).save(backgrounds / "wall.jpg")

    out = tmp_path / "packed"
    subprocess.run([sys.executable, str(repo_root() / "scripts" / "pack_data.py"), "--data-root", str(data),
                    "--out", str(out), "--backgrounds", str(tmp_path / "bg"), "--without", "faces:test"],
                   check=True, capture_output=True, text=True)
    packed = folder_pairs(out / "data" / "faces")
    original = [p for p in folder_pairs(data / "faces") if p.stem not in {"disc00", "disc01"}]
    assert [p.stem for p in packed] == [p.stem for p in original]
    assert (out / "data" / "faces" / "splits" / "test.txt").is_file()
    for pair in packed:
        photo = read_photo(pair.image)
        assert max(photo.full_size) <= 448 and pair.image.suffix == ".jpg"
        assert read_mask(pair.mask).shape == photo.rgb.shape[:2]
    big_copy = next(p for p in packed if p.stem == "big")
    assert read_photo(big_copy.image).full_size == (299, 448)  # displayed upright, long side 448
    expected = read_mask(data / "faces" / "masks" / "big.png", size=(299, 448))
    assert (read_mask(big_copy.mask) == expected).mean() > 0.99
    # The same photos land in the same training / validation parts (the split goes by file name).
    assert [p.stem for p in split_pairs(packed, 0.2, seed=3)[1]] == [p.stem for p in split_pairs(original, 0.2,
                                                                                                    seed=3)[1]]
    assert read_photo(out / "backgrounds" / "images" / "wall.jpg").full_size == (224, 448)


def test_long_side_sets_the_largest_stored_size_for_a_larger_network(tmp_path):
    # A network at 320 px keeps photos at 640 px in memory (data.SkinDataset), so its copy must hold them that large.
    data = tmp_path / "data" / "scenes"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    Image.fromarray(np.full((900, 1200, 3), 150, np.uint8)).save(data / "images" / "wide.jpg")
    Image.fromarray(disc_mask(1200, 600, 450, 300)[:900].astype(np.uint8) * 255).save(data / "masks" / "wide.png")
    Image.fromarray(np.full((300, 400, 3), 150, np.uint8)).save(data / "images" / "small.jpg")
    Image.fromarray(disc_mask(400, 200, 150, 100)[:300].astype(np.uint8) * 255).save(data / "masks" / "small.png")

    out = tmp_path / "packed"
    subprocess.run([sys.executable, str(repo_root() / "scripts" / "pack_data.py"), "--data-root", str(tmp_path / "data"),
                    "--out", str(out), "--long-side", "640"], check=True, capture_output=True, text=True)
    sizes = {p.stem: read_photo(p.image).full_size for p in folder_pairs(out / "data" / "scenes")}
    assert sizes == {"wide": (640, 480), "small": (400, 300)}  # shrunk to 640 on its long side; a smaller one kept
