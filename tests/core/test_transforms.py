"""Resizing for the network and joint augmentation: alignment of photo and mask, nearest masks, output sizes."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest

from skinseg_core.transforms import eval_transform, resize_for_network, train_transform

ODD_SIZES = [(33, 57), (57, 33), (500, 300), (64, 64), (1, 7)]  # (height, width)


def _random_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _shape_mask(h: int, w: int) -> np.ndarray:
    """uint8 0/1: an off-centre disc plus a bar on the left, so flips and rotations cannot map it onto itself."""
    yy, xx = np.mgrid[0:h, 0:w]
    disc = (xx - 0.62 * w) ** 2 + (yy - 0.4 * h) ** 2 <= (0.22 * min(h, w)) ** 2
    bar = (xx > 0.1 * w) & (xx < 0.25 * w) & (yy > 0.3 * h) & (yy < 0.9 * h)
    return (disc | bar).astype(np.uint8)


# --- resize_for_network ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("h", "w"), ODD_SIZES)
@pytest.mark.parametrize("size", [128, 33])
def test_resize_for_network_shape(h: int, w: int, size: int) -> None:
    out = resize_for_network(_random_photo(h, w), size)
    assert out.shape == (size, size, 3) and out.dtype == np.uint8


def test_resize_for_network_interpolation() -> None:
    big = _random_photo(300, 500)
    assert np.array_equal(resize_for_network(big, 128), cv2.resize(big, (128, 128), interpolation=cv2.INTER_AREA))
    small = _random_photo(33, 57)
    assert np.array_equal(
        resize_for_network(small, 128), cv2.resize(small, (128, 128), interpolation=cv2.INTER_LINEAR)
    )
    # Mixed: shrinking axis is averaged. A 1-pixel stripe pattern along the shrunk width averages to grey, where
    # point sampling would alias to pure black or white.
    stripes = np.zeros((20, 400, 3), np.uint8)
    stripes[:, ::2] = 255
    out = resize_for_network(stripes, 100)
    assert np.abs(out.astype(int) - 127).max() <= 2


def test_resize_for_network_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        resize_for_network(np.zeros((10, 10), np.uint8), 8)
    with pytest.raises(ValueError):
        resize_for_network(np.zeros((10, 10, 3), np.float32), 8)
    with pytest.raises(ValueError):
        resize_for_network(np.zeros((10, 10, 3), np.uint8), 0)


# --- pipelines ------------------------------------------------------------------------------------------------


def _pipelines(size: int) -> dict[str, object]:
    return {"eval": eval_transform(size), "paper": train_transform(size, "paper"),
            "strong": train_transform(size, "strong")}


@pytest.mark.parametrize(("h", "w"), ODD_SIZES)
def test_output_size_always_square(h: int, w: int) -> None:
    for name, t in _pipelines(48).items():
        for seed in range(4):
            if hasattr(t, "set_random_seed"):
                t.set_random_seed(seed)
            out = t(image=_random_photo(h, w, seed), mask=_shape_mask(h, w))
            assert out["image"].shape == (48, 48, 3), name
            assert out["image"].dtype == np.uint8
            assert out["mask"].shape == (48, 48), name


@pytest.mark.parametrize("strength", ["paper", "strong"])
def test_masks_stay_nearest(strength: str) -> None:
    # 0/255 uint8 and 0/1 float32 masks: any linear/area interpolation would create values in between.
    t = train_transform(64, strength)
    h, w = 91, 67
    mask = _shape_mask(h, w)
    for seed in range(25):
        t.set_random_seed(seed)
        out = t(image=_random_photo(h, w, seed), mask=mask * 255, masks=[mask.astype(np.float32)])
        assert out["mask"].dtype == np.uint8
        assert set(np.unique(out["mask"])) <= {0, 255}
        assert set(np.unique(out["masks"][0])) <= {0.0, 1.0}
        assert np.array_equal(out["mask"] // 255, out["masks"][0].astype(np.uint8))
    out = eval_transform(64)(image=_random_photo(h, w), mask=mask * 255)
    assert set(np.unique(out["mask"])) <= {0, 255}


def _misaligned_fraction(image: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of pixels, away from mask edges, where the bright 'skin' in the photo disagrees with the mask."""
    grey = image.mean(axis=2).astype(np.uint8)
    _, bright = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    # Edges are blurred by interpolation, blur and JPEG on the photo but hard in the mask: ignore a 2-pixel band.
    kernel = np.ones((5, 5), np.uint8)
    band = cv2.dilate(mask, kernel) != cv2.erode(mask, kernel)
    disagree = (bright != mask) & ~band
    return float(disagree.mean())


@pytest.mark.parametrize("strength", ["paper", "strong"])
def test_photo_and_mask_stay_aligned(strength: str) -> None:
    # White skin on a black background: colour transforms move both colours but keep white brighter than black,
    # and zoom-out padding (black or mirrored) stays consistent with the mask.
    h, w = 150, 110
    mask = _shape_mask(h, w)
    photo = np.zeros((h, w, 3), np.uint8)
    photo[mask == 1] = 255
    t = train_transform(64, strength)
    checked = 0
    for seed in range(40):
        t.set_random_seed(seed)
        out = t(image=photo, mask=mask)
        m = out["mask"]
        if m.all() or not m.any():
            continue  # a crop with one class only has nothing to align
        checked += 1
        assert _misaligned_fraction(out["image"], m) < 0.01, f"seed {seed}"
    assert checked >= 30


def test_misalignment_is_detected() -> None:
    # The alignment check itself must fail when the mask is flipped relative to the photo.
    mask = _shape_mask(64, 64)
    photo = np.zeros((64, 64, 3), np.uint8)
    photo[mask == 1] = 255
    assert _misaligned_fraction(photo, mask) == 0.0
    assert _misaligned_fraction(photo, np.ascontiguousarray(mask[:, ::-1])) > 0.05


def test_strong_augmentation_varies_scale() -> None:
    # Over many draws the skin fraction must spread widely: zoomed out (small people) and zoomed in.
    h, w = 128, 128
    mask = _shape_mask(h, w)
    t = train_transform(64, "strong")
    fractions = []
    for seed in range(60):
        t.set_random_seed(seed)
        fractions.append(t(image=_random_photo(h, w, seed), mask=mask)["mask"].mean())
    base = float(mask.mean())
    assert min(fractions) < 0.5 * base
    assert max(fractions) > 1.5 * base


def test_eval_transform_matches_inference_resize() -> None:
    photo = _random_photo(300, 500)
    out = eval_transform(128)(image=photo, mask=_shape_mask(300, 500))
    assert np.array_equal(out["image"], resize_for_network(photo, 128))


def test_unknown_strength() -> None:
    with pytest.raises(ValueError, match="paper"):
        train_transform(64, "medium")  # type: ignore[arg-type]


def test_pipelines_pickle() -> None:
    # DataLoader workers on spawn platforms receive the dataset (and its transform) by pickling.
    for t in _pipelines(32).values():
        clone = pickle.loads(pickle.dumps(t))
        out = clone(image=_random_photo(40, 50), mask=_shape_mask(40, 50))
        assert out["image"].shape == (32, 32, 3)
