"""Fill holes, remove small islands; mask patches; the edit journal (replay, torn records)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skinseg_core.journal import Journal
from skinseg_core.maskpatch import Patch, bbox_of
from skinseg_core.postprocess import fill_holes, remove_small_islands


def ring(size: int = 63) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    r = np.hypot(xx - size / 2, yy - size / 2)
    return ((r < size / 3) & (r > size / 8)).astype(np.uint8)


def test_fill_holes_fills_enclosed_background_only() -> None:
    mask = ring()
    mask[:, :3] = 1
    mask[10, 1] = 0  # background touching the border is not a hole... nor is this notch at the edge
    filled = fill_holes(mask)
    assert filled[31, 31] == 1 and filled[0, 31] == 0 and filled[10, 1] == 1 - (mask[10, 0] == 0)
    assert fill_holes(mask, max_area=10)[31, 31] == 0  # the hole is larger than 10 px


def test_remove_small_islands() -> None:
    mask = ring()
    mask[2:4, 2:4] = 1  # 4 px
    cleaned = remove_small_islands(mask, 5)
    assert cleaned[2, 2] == 0 and np.array_equal(cleaned, ring())
    assert remove_small_islands(mask, 1)[2, 2] == 1


def test_patch_round_trip_and_xor() -> None:
    rng = np.random.default_rng(0)
    mask = (rng.random((33, 47)) > 0.5).astype(np.uint8)
    patch = Patch.from_array((3, 4, 20, 30), mask[4:30, 3:20])
    assert np.array_equal(patch.array(), mask[4:30, 3:20])
    target = np.zeros_like(mask)
    patch.xor_into(target)
    patch.xor_into(target)
    assert target.sum() == 0
    assert bbox_of(np.zeros((5, 5))) is None and bbox_of(np.eye(5)[1:3]) == (1, 0, 3, 2)


def test_journal_replays_in_order_and_ignores_a_torn_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j" / "photo.jpg.journal")
    size = (40, 30)
    full = np.zeros((30, 40), np.uint8)
    journal.append(1, size, Patch.from_array((0, 0, 40, 30), full))
    a = np.ones((10, 10), np.uint8)
    journal.append(2, size, Patch.from_array((5, 5, 15, 15), a))
    journal.append(3, size, Patch.from_array((10, 10, 12, 12), np.zeros((2, 2), np.uint8)))
    mask, last = journal.replay(None, size)
    expected = np.zeros((30, 40), np.uint8)
    expected[5:15, 5:15] = 1
    expected[10:12, 10:12] = 0
    assert last == 3 and np.array_equal(mask, expected)
    # replaying onto a state that already holds some of the records gives the same result
    again, _ = journal.replay(expected, size)
    assert np.array_equal(again, expected)
    # a record cut short by a crash is ignored, the ones before it are kept
    data = journal.path.read_bytes()
    journal.append(4, size, Patch.from_array((0, 0, 40, 30), np.ones((30, 40), np.uint8)))
    journal.path.write_bytes(journal.path.read_bytes()[: len(data) + 20])
    mask, last = journal.replay(None, size)
    assert last == 3 and np.array_equal(mask, expected)
    # records made for another photo size are ignored
    assert journal.replay(None, (41, 30))[0] is None
