"""The bundled recipe's splits: held-out test photos never reach training or validation."""

from __future__ import annotations

import pytest

from skinseg_core.recipes import FINETUNE, PRETRAIN, _weighted, dataset_splits


@pytest.mark.needs_data
def test_test_photos_are_never_trained_on(shared_data):
    splits = dataset_splits(shared_data)
    assert len(splits["lfw_parts"].test) == 927  # LFW's official test split
    for name, split in splits.items():
        train, val, test = ({p.image for p in part} for part in (split.train, split.val, split.test))
        assert not train & val, name
        if name != "clinical_fitz17k":  # clinical photos are scored by k-fold / direct transfer instead
            assert not (train | val) & test, name
    for stage in (PRETRAIN, FINETUNE):
        train, weights, val = _weighted(splits, stage)
        tests = {p.image for name, s in splits.items() if name != "clinical_fitz17k" for p in s.test}
        assert not {p.image for p in train} & tests
        assert len(weights) == len(train) and abs(sum(weights) - sum(stage.shares.values())) < 1e-9


@pytest.mark.needs_data
def test_splits_are_stable(shared_data):
    first, second = dataset_splits(shared_data), dataset_splits(shared_data)
    for name in first:
        assert [p.image for p in first[name].test] == [p.image for p in second[name].test]
