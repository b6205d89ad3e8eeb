"""The compact probability map: exact full-resolution rebuild, exact area counts, storage round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skinseg_core.inference import Segmenter
from skinseg_core.probmap import THRESHOLD_STEPS, ProbabilityMap, predict_map


def _map(width: int = 63, height: int = 33, seed: int = 0) -> ProbabilityMap:
    rng = np.random.default_rng(seed)
    return ProbabilityMap(small=rng.random((16, 16), dtype=np.float32), full_size=(width, height))


def test_full_equals_segmenter_output(tiny_checkpoint: Path, tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (45, 77, 3), dtype=np.uint8)).save(photo)
    segmenter = Segmenter(tiny_checkpoint, device="cpu")
    prob = predict_map(segmenter, photo)
    assert prob.full_size == (77, 45)
    np.testing.assert_array_equal(prob.full(), segmenter.probabilities(photo))


@pytest.mark.parametrize("size", [(63, 33), (1, 1), (200, 7)])
def test_counts_match_thresholding(size: tuple[int, int]) -> None:
    prob = _map(*size)
    full = prob.full()
    for step in (0, 1, 37, 50, 99, THRESHOLD_STEPS):
        threshold = step / THRESHOLD_STEPS
        assert prob.area(step) == int(np.count_nonzero(full >= threshold)) == int(prob.mask(threshold).sum())


def test_bytes_round_trip_and_damage() -> None:
    prob = _map()
    again = ProbabilityMap.from_bytes(prob.to_bytes())
    np.testing.assert_array_equal(again.small, prob.small)
    assert again.full_size == prob.full_size
    np.testing.assert_array_equal(again.counts(), prob.counts())
    with pytest.raises(Exception, match="damaged"):
        ProbabilityMap.from_bytes(b"not a map")


def test_display_u8_is_rounded_probability() -> None:
    prob = _map()
    display = prob.display_u8((31, 17))
    assert display.dtype == np.uint8 and display.shape == (17, 31)
    np.testing.assert_array_equal(display, np.rint(prob.resized((31, 17)) * 255).astype(np.uint8))
