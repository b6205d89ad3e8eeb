"""Pairing photos with masks, splits, and the in-memory dataset (synthetic and real photos)."""

from __future__ import annotations

import logging
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skinseg_core.data import SamplePair, SkinDataset, find_pairs, folder_pairs, kfold_splits, split_pairs
from skinseg_core.errors import DataError
from skinseg_core.transforms import eval_transform, train_transform


def _touch_image(path: Path, size: tuple[int, int] = (8, 6), mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size).save(path)


def _pairs(n: int) -> list[SamplePair]:
    return [SamplePair(Path(f"/x/images/{i:03d}.jpg"), Path(f"/x/masks/{i:03d}.png")) for i in range(n)]


# --- find_pairs -----------------------------------------------------------------------------------------------


def test_find_pairs_matches_stems_and_logs_unmatched(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for name in ("b.jpg", "a.png", "c.jpeg", "only_photo.jpg"):
        _touch_image(tmp_path / "images" / name)
    for name in ("a.png", "b.png", "c.png", "only_mask1.png", "only_mask2.png"):
        _touch_image(tmp_path / "masks" / name, mode="L")
    (tmp_path / "images" / "notes.txt").write_text("not a photo")
    with caplog.at_level(logging.WARNING, logger="skinseg_core.data"):
        pairs = folder_pairs(tmp_path)
    assert [p.stem for p in pairs] == ["a", "b", "c"]
    assert pairs[1] == SamplePair(tmp_path / "images" / "b.jpg", tmp_path / "masks" / "b.png")
    text = caplog.text
    assert "1 photo(s)" in text and "only_photo" in text
    assert "2 mask(s)" in text and "only_mask1" in text


def test_find_pairs_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match="masks"):
        find_pairs(tmp_path / "images", tmp_path / "masks")
    with pytest.raises(DataError, match="does not exist"):
        folder_pairs(tmp_path / "nowhere")


def test_find_pairs_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    with pytest.raises(DataError, match="found 0 photo"):
        folder_pairs(tmp_path)


def test_find_pairs_no_stem_matches(tmp_path: Path) -> None:
    _touch_image(tmp_path / "images" / "IMG_1.jpg")
    _touch_image(tmp_path / "masks" / "IMG_1_mask.png", mode="L")
    with pytest.raises(DataError, match=r"found 1 photo\(s\) and 1 mask\(s\)"):
        folder_pairs(tmp_path)


def test_find_pairs_duplicate_stem(tmp_path: Path) -> None:
    _touch_image(tmp_path / "images" / "a.jpg")
    _touch_image(tmp_path / "images" / "a.png")
    _touch_image(tmp_path / "masks" / "a.png", mode="L")
    with pytest.raises(DataError, match="share the name"):
        folder_pairs(tmp_path)


# --- splits ---------------------------------------------------------------------------------------------------


def test_split_pairs_deterministic_disjoint() -> None:
    pairs = _pairs(23)
    train, val = split_pairs(pairs, 0.2, seed=3)
    assert len(val) == 5 and len(train) == 18
    assert set(train).isdisjoint(val) and set(train) | set(val) == set(pairs)
    assert split_pairs(pairs, 0.2, seed=3) == (train, val)
    # Independent of the order the caller listed the pairs in.
    _, val_rev = split_pairs(list(reversed(pairs)), 0.2, seed=3)
    assert set(val_rev) == set(val)
    assert split_pairs(pairs, 0.2, seed=4)[1] != val
    assert train == [p for p in pairs if p in set(train)]  # input order kept


@pytest.mark.parametrize(("n", "fraction", "n_val"), [(2, 0.2, 1), (2, 0.9, 1), (10, 0.01, 1), (10, 0.99, 9),
                                                      (1, 0.2, 0), (0, 0.2, 0), (5, 0.0, 0)])
def test_split_pairs_edge_sizes(n: int, fraction: float, n_val: int) -> None:
    train, val = split_pairs(_pairs(n), fraction)
    assert len(val) == n_val and len(train) == n - n_val


def test_split_pairs_bad_fraction() -> None:
    with pytest.raises(ValueError):
        split_pairs(_pairs(4), 1.0)
    with pytest.raises(ValueError):
        split_pairs(_pairs(4), -0.1)


def test_kfold_every_pair_tested_once() -> None:
    pairs = _pairs(17)
    folds = kfold_splits(pairs, 5, seed=1)
    assert len(folds) == 5
    tested = [p for _, test in folds for p in test]
    assert sorted(tested, key=str) == sorted(pairs, key=str)
    for train, test in folds:
        assert set(train).isdisjoint(test) and len(train) + len(test) == 17
        assert len(test) in (3, 4)
    assert kfold_splits(pairs, 5, seed=1) == folds
    assert kfold_splits(pairs, 5, seed=2) != folds
    with pytest.raises(ValueError):
        kfold_splits(pairs, 1)
    with pytest.raises(ValueError):
        kfold_splits(pairs, 18)


# --- SkinDataset ----------------------------------------------------------------------------------------------


def test_dataset_on_synthetic_folder(synthetic_folder: Path) -> None:
    pairs = folder_pairs(synthetic_folder)
    assert len(pairs) == 6
    ds = SkinDataset(pairs, 32)
    assert len(ds) == 6
    image, mask = ds[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.float32
    assert mask.shape == (1, 32, 32) and mask.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert set(torch.unique(mask).tolist()) == {0.0, 1.0}
    # The disc is skin-coloured (red > blue), the background bluish: the mask must sit on the disc.
    red_minus_blue = image[0] - image[2]
    assert float(red_minus_blue[mask[0] == 1].mean()) > 0.1
    assert float(red_minus_blue[mask[0] == 0].mean()) < 0.0


def test_dataset_cache_is_reduced(synthetic_folder: Path) -> None:
    ds = SkinDataset(folder_pairs(synthetic_folder), 16)  # cache long side 32 < 64
    assert all(max(img.shape[:2]) == 32 for img in ds._images)
    assert all(m.shape == img.shape[:2] for m, img in zip(ds._masks, ds._images))
    big = SkinDataset(folder_pairs(synthetic_folder), 16, cache_long_side=1000)  # never enlarged
    assert all(img.shape[:2] == (64, 64) for img in big._images)


def test_dataset_with_train_transform_and_loader(synthetic_folder: Path) -> None:
    ds = SkinDataset(folder_pairs(synthetic_folder), 32, transform=train_transform(32, "strong"))
    loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
    images, masks = next(iter(loader))
    assert images.shape == (4, 3, 32, 32) and masks.shape == (4, 1, 32, 32)
    assert set(torch.unique(masks).tolist()) <= {0.0, 1.0}


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork start method")
def test_dataset_workers_augment_differently(synthetic_folder: Path) -> None:
    # Forked workers inherit identical random generators; the dataset reseeds each worker from torch's seed.
    ds = SkinDataset([folder_pairs(synthetic_folder)[0]] * 8, 32, transform=train_transform(32, "strong"))
    loader = torch.utils.data.DataLoader(ds, batch_size=1, num_workers=2, multiprocessing_context="fork")
    images = [batch[0] for batch in loader]
    assert len({images[i].numpy().tobytes() for i in range(8)}) == 8


def test_dataset_weights(synthetic_folder: Path) -> None:
    pairs = folder_pairs(synthetic_folder)[:3]
    heavy = np.ones((64, 64), np.float32)
    heavy[:, 32:] = 5.0  # right half corrected by the user
    ds = SkinDataset(pairs, 32, weights=[heavy, None, 2.0])
    image, mask, weight = ds[0]
    assert weight.shape == (1, 32, 32)
    assert torch.all(weight[0, :, :16] == 1.0) and torch.all(weight[0, :, 16:] == 5.0)
    assert torch.all(ds[1][2] == 1.0)
    assert torch.all(ds[2][2] == 2.0)
    # Under augmentation, padding counts with the ordinary weight 1, never 0.
    aug = SkinDataset(pairs[1:2], 32, transform=train_transform(32, "strong"), weights=[None])
    for seed in range(10):
        aug.transform.set_random_seed(seed)
        assert torch.all(aug[0][2] == 1.0)
    with pytest.raises(ValueError):
        SkinDataset(pairs, 32, weights=[None])


def test_dataset_unreadable_file_names_it(synthetic_folder: Path) -> None:
    pairs = folder_pairs(synthetic_folder)
    broken = pairs[0].image
    broken.write_bytes(b"this is not an image")
    with pytest.raises(DataError, match=broken.name):
        SkinDataset(pairs, 32)


def test_dataset_mask_of_other_shape(tmp_path: Path) -> None:
    _touch_image(tmp_path / "images" / "a.jpg", size=(80, 40))
    _touch_image(tmp_path / "masks" / "a.png", size=(40, 80), mode="L")  # rotated: another picture
    with pytest.raises(DataError, match="40x80"):
        SkinDataset(folder_pairs(tmp_path), 16)


def test_dataset_rejects_wrong_transform_size(synthetic_folder: Path) -> None:
    ds = SkinDataset(folder_pairs(synthetic_folder)[:1], 32, transform=eval_transform(24))
    with pytest.raises(ValueError, match="32x32"):
        ds[0]


@pytest.mark.needs_data
@pytest.mark.parametrize("folder", ["ecu_subset", "clinical_fitz17k"])
def test_dataset_on_real_pairs(shared_data: Path, folder: str) -> None:
    pairs = folder_pairs(shared_data / folder)
    assert len(pairs) >= 10
    few = pairs[:3]
    for transform in (None, train_transform(64, "strong")):
        ds = SkinDataset(few, 64, transform=transform)
        for i in range(len(ds)):
            image, mask = ds[i]
            assert image.shape == (3, 64, 64) and mask.shape == (1, 64, 64)
            assert set(torch.unique(mask).tolist()) <= {0.0, 1.0}
    # Evaluation view: real masks have skin in them and keep a plausible skin fraction after squashing.
    ds = SkinDataset(few, 64)
    for i, pair in enumerate(few):
        full = np.asarray(Image.open(pair.mask).convert("L")) > 127
        assert abs(float(ds[i][1].mean()) - float(full.mean())) < 0.05
