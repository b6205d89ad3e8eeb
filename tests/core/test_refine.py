"""The guided filter that refines the network's map with the photo's colours (skinseg_core/refine.py)."""

from __future__ import annotations


import cv2
import numpy as np
import pytest
from PIL import Image

from skinseg_core.checkpoint import load_checkpoint
from skinseg_core.inference import Segmenter
from skinseg_core.metrics import confusion, jaccard
from skinseg_core.refine import GuidedFilter, guided_filter, refine_map, skin_region_size
from tests.model_files import refining_copy

SKIN = (205, 150, 125)
CLOTH = (60, 70, 150)


def _brute_force(guide: np.ndarray, src: np.ndarray, radius: int, eps: float, y: int, x: int) -> float:
    """He et al.'s definition at one pixel: the mean, over every window that covers it, of that window's ridge fit."""
    values = []
    for cy in range(y - radius, y + radius + 1):
        for cx in range(x - radius, x + radius + 1):
            window = (slice(cy - radius, cy + radius + 1), slice(cx - radius, cx + radius + 1))
            colours = guide[window].reshape(-1, 3).astype(np.float64)
            target = src[window].ravel().astype(np.float64)
            mean_c, mean_t = colours.mean(0), target.mean()
            cov = (colours - mean_c).T @ (colours - mean_c) / len(target)
            slope = np.linalg.solve(cov + eps * np.eye(3), (colours - mean_c).T @ (target - mean_t) / len(target))
            values.append(slope @ guide[y, x] + mean_t - slope @ mean_c)
    return float(np.mean(values))


def test_the_filter_is_he_et_als_definition():
    rng = np.random.default_rng(3)
    guide = rng.random((20, 22, 3), dtype=np.float32)
    src = rng.random((20, 22), dtype=np.float32)
    out = guided_filter(guide, src, radius=2, eps=0.01)
    # Away from the border every window lies inside the picture, so the definition needs no padding rule.
    for y, x in [(5, 5), (9, 14), (14, 17), (10, 8)]:
        assert out[y, x] == pytest.approx(_brute_force(guide, src, 2, 0.01, y, x), abs=1e-4)


def _cheek_and_collar(height=120, width=160):
    """A photo with skin on the left and blue cloth on the right, and a network map that blurs across the edge."""
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[:, : width // 2] = SKIN
    rgb[:, width // 2 :] = CLOTH
    rgb = np.clip(rgb + np.random.default_rng(0).normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
    truth = np.zeros((height, width), bool)
    truth[:, : width // 2] = True
    small = cv2.GaussianBlur(cv2.resize(truth.astype(np.float32), (28, 28), interpolation=cv2.INTER_AREA), (0, 0), 2)
    small = np.clip(small * 1.3, 0, 1)  # spills onto the cloth, as the network's map does onto collars
    return rgb, truth, small


def test_refining_takes_the_spill_off_the_cloth_and_keeps_the_skin():
    rgb, truth, small = _cheek_and_collar()
    plain = cv2.resize(small, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    assert GuidedFilter().radius(small) > 2.5  # one region half the photo wide: a wide window
    refined = refine_map(rgb, small, GuidedFilter(), long_side=400)
    assert refined.shape == truth.shape and refined.dtype == np.float32
    assert 0.0 <= refined.min() and refined.max() <= 1.0
    cloth_by_edge = (slice(None), slice(80, 83))
    assert (plain[cloth_by_edge] >= 0.5).all(), "the blurred map calls the cloth by the edge skin"
    assert (refined[cloth_by_edge] < 0.5).all() and (refined[~truth] < 0.5).all()
    assert (refined[truth] >= 0.5).all()
    assert jaccard(confusion(refined >= 0.5, truth)) > jaccard(confusion(plain >= 0.5, truth)) + 0.03


def _crowd(side=448, step=56):
    """Faces of 12 x 14 px on a striped backdrop whose two colours lie either side of the skin's: no one linear
    function of colour calls the faces skin and both stripes not, so a window wider than a face averages it away."""
    rgb = np.empty((side, side, 3), np.uint8)
    rgb[:] = np.where((np.arange(side) // 6 % 2)[None, :, None] == 0, (140, 95, 75), (255, 215, 190))
    truth = np.zeros((side, side), bool)
    for y in range(20, side - 20, step):
        for x in range(20, side - 20, step):
            rgb[y : y + 14, x : x + 12] = SKIN
            truth[y : y + 14, x : x + 12] = True
    small = cv2.GaussianBlur(cv2.resize(truth.astype(np.float32), (224, 224), interpolation=cv2.INTER_AREA), (0, 0),
                             1.5)
    return rgb, truth, np.clip(small * 1.6, 0, 1) * 0.8 + 0.1


def test_the_window_follows_the_size_of_the_skin_so_small_faces_survive():
    rgb, truth, small = _crowd()
    assert skin_region_size(small) == pytest.approx(7.2, abs=0.5)  # faces of ~7 network pixels
    assert GuidedFilter().radius(small) == 2.0  # the floor: a crowd gets narrow windows
    assert skin_region_size(np.zeros((32, 32), np.float32)) == 0.0
    adaptive = refine_map(rgb, small, GuidedFilter(), long_side=448)
    assert (adaptive[truth] >= 0.5).all() and jaccard(confusion(adaptive >= 0.5, truth)) > 0.9
    wide = refine_map(rgb, small, GuidedFilter(min_radius=16.0), long_side=448)  # a fixed portrait-size window
    assert (wide[truth] >= 0.5).mean() < 0.1, "a window wider than the faces averages them away"


@pytest.mark.parametrize("size, long_side, expected", [((640, 480), 448, (336, 448)), ((300, 500), 448, (448, 269)),
                                                        ((250, 200), 448, (200, 250))])
def test_the_refined_map_has_the_photos_aspect_at_most_the_working_size(size, long_side, expected):
    rgb = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    small = np.random.default_rng(1).random((32, 32), dtype=np.float32)
    refined = refine_map(rgb, small, GuidedFilter(), long_side)
    assert refined.shape == expected


@pytest.mark.parametrize("settings", [{"scale": 0, "min_radius": 2, "max_radius": 16, "eps": 0.001},
                                      {"scale": 0.15, "min_radius": 8, "max_radius": 4, "eps": 0.001},
                                      {"scale": 0.15, "min_radius": 2, "max_radius": 16, "eps": -1}])
def test_settings_must_make_sense(settings):
    with pytest.raises(ValueError, match="a guided filter needs"):
        GuidedFilter.from_dict(settings)


def test_a_model_file_that_asks_for_the_filter_gets_it_by_default(tmp_path, tiny_checkpoint):
    rgb, _, _ = _cheek_and_collar()
    path = tmp_path / "p.png"
    Image.fromarray(rgb).save(path)
    settings = GuidedFilter(scale=0.3, eps=0.002)
    refining = refining_copy(tiny_checkpoint, tmp_path / "refining.json", settings)
    assert load_checkpoint(refining).guided_filter == settings
    assert load_checkpoint(tiny_checkpoint).guided_filter is None
    default = Segmenter(refining, device="cpu")
    assert "edges refined" in default.device_description  # the app's status bar and `predict` say so
    assert "edges refined" not in Segmenter(tiny_checkpoint, device="cpu").device_description
    prob = default.probabilities(path)
    decoded = default.read(path).rgb  # the photo as decoded for the network and the filter
    compact = refine_map(decoded, default.network_probabilities(decoded), settings, default.refine_long_side)
    assert compact.shape == (48, 64)  # the tiny model's 2S is 64 px: the photo's aspect at that size
    expected = cv2.resize(compact, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
    assert prob.shape == rgb.shape[:2] and np.allclose(prob, expected, atol=1e-6)
    off = Segmenter(refining, device="cpu", refine=False).probabilities(path)
    plain = Segmenter(tiny_checkpoint, device="cpu").probabilities(path)
    assert np.array_equal(off, plain) and np.abs(prob - plain).max() > 1e-3
    forced = Segmenter(tiny_checkpoint, device="cpu", refine=True)
    assert forced.guided_filter == GuidedFilter()  # a file without settings gets the defaults when asked
