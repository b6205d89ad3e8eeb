"""A colour cast far outside the training photos of people is undone before the network, where a face is found."""

from __future__ import annotations

import numpy as np
import pytest

from skinseg_core.colour_balance import balance_estimate, balance_gains, fit_balance, rebalance
from skinseg_core.face_colour import FaceColourGate
from skinseg_core.lighting import relight

CENTRE = np.array([0.0, 0.0])
UNIT = np.eye(2) * 100.0  # one Mahalanobis unit = 0.1 in log(R/G) or log(B/G)


def _scene(seed: int = 0) -> np.ndarray:
    """A many-coloured scene whose shades-of-grey light is about neutral."""
    rng = np.random.default_rng(seed)
    return rng.integers(20, 230, (60, 80, 3), dtype=np.uint8)


def test_the_estimate_reads_the_light_off_the_photo():
    neutral = balance_estimate(_scene())
    warm = balance_estimate(relight(_scene(), "warm"))
    assert np.abs(neutral).max() < 0.05
    # A 4000 K lamp: red over green up, blue over green down, by about its gains.
    assert warm[0] - neutral[0] == pytest.approx(np.log(1 / 0.82), abs=0.03)
    assert warm[1] - neutral[1] == pytest.approx(np.log(0.64 / 0.82), abs=0.03)


def test_a_photo_with_almost_nothing_unclipped_cannot_be_told():
    assert balance_estimate(np.full((50, 50, 3), 255, np.uint8)) is None
    photo = np.full((50, 50, 3), 255, np.uint8)
    assert rebalance(photo, CENTRE, UNIT, 2.0) is photo


def test_within_the_range_nothing_moves_and_beyond_it_the_distance_d_becomes_r_squared_over_d():
    assert balance_gains(np.array([0.1, -0.1]), CENTRE, UNIT, 2.0) is None  # distance 1.41
    gains = balance_gains(np.array([0.4, 0.0]), CENTRE, UNIT, 2.0)  # distance 4 -> 1
    assert np.prod(gains) == pytest.approx(1.0)  # brightness stays
    moved = np.array([0.4 + np.log(gains[0] / gains[1]), np.log(gains[2] / gains[1])])
    assert moved == pytest.approx([0.1, 0.0])


def test_a_warm_cast_is_mostly_undone_and_a_photo_in_range_is_left_alone():
    scene = _scene()
    assert rebalance(scene, CENTRE, UNIT, 2.0) is scene
    warm = relight(scene, "warm")
    back = rebalance(warm, CENTRE, UNIT, 2.0)
    before = np.linalg.norm(balance_estimate(warm) - balance_estimate(scene))
    after = np.linalg.norm(balance_estimate(back) - balance_estimate(scene))
    assert after < 0.45 * before


def test_each_set_weighs_the_same_in_the_fit():
    big = np.tile([[0.0, 0.0], [0.2, 0.0]], (50, 1))
    small = np.array([[0.0, 0.2], [0.0, 0.4]])
    centre, inverse = fit_balance([big, small])
    assert centre == pytest.approx([0.05, 0.15])
    assert np.all(np.linalg.eigvalsh(np.array(inverse)) > 0)


def test_the_gate_re_balances_only_photos_where_a_face_was_found():
    gate = FaceColourGate()
    warm = relight(_scene(), "warm")
    assert gate.balanced(warm, []) is warm
    assert gate.balanced(warm, [(10, 10, 30, 30)]) is not warm
    off = FaceColourGate(balance_radius=0.0)
    assert off.balanced(warm, [(10, 10, 30, 30)]) is warm


def test_the_range_round_trips_and_older_model_files_get_the_fitted_one():
    gate = FaceColourGate(balance_radius=2.5, balance_centre=(0.1, -0.2),
                          balance_inverse_covariance=((50.0, 5.0), (5.0, 60.0)))
    assert FaceColourGate.from_dict(gate.to_dict()) == gate
    older = {key: value for key, value in FaceColourGate().to_dict().items() if not key.startswith("balance_")}
    assert FaceColourGate.from_dict(older) == FaceColourGate()
    with pytest.raises(ValueError, match="out of range"):
        FaceColourGate(balance_inverse_covariance=((1.0, 2.0), (2.0, 1.0)))  # not positive definite


@pytest.mark.needs_data
def test_the_segmenter_undoes_a_warm_lamp_on_a_web_photo_and_leaves_a_clinical_close_up_alone(shared_data):
    from dataclasses import replace

    from skinseg_core.imageio import read_photo
    from skinseg_core.inference import Segmenter
    from skinseg_core.recipes import dataset_splits

    splits = dataset_splits(shared_data)
    on = Segmenter(None, device="cpu")
    off = Segmenter(None, device="cpu", face_gate=replace(on.face_gate, balance_radius=0.0))
    web = relight(read_photo(splits["ecu_subset"].test[0].image).rgb, "warm")
    assert on.face_gate.first_faces(web)
    # Under the lamp the network calls more of the scene skin; re-balanced, less of it.
    assert (on.compact_probabilities(web) >= 0.5).mean() < (off.compact_probabilities(web) >= 0.5).mean()
    close_up = relight(read_photo(splits["clinical_fitz17k"].test[0].image).rgb, "warm")
    assert np.array_equal(on.compact_probabilities(close_up), off.compact_probabilities(close_up))


@pytest.mark.needs_data
def test_the_shipped_range_is_the_one_the_fit_script_gives(shared_data):
    import importlib.util

    from skinseg_core.paths import repo_root

    spec = importlib.util.spec_from_file_location("fit_colour_balance", repo_root() / "scripts" / "fit_colour_balance.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    fitted = script.people_balance(shared_data)
    gate = FaceColourGate()
    assert tuple(fitted["balance_centre"]) == gate.balance_centre
    assert tuple(tuple(row) for row in fitted["balance_inverse_covariance"]) == gate.balance_inverse_covariance
