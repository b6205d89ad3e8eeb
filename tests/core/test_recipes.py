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


def test_mistake_weights_mark_where_the_model_is_wrong(synthetic_folder, tiny_checkpoint):
    import numpy as np

    from skinseg_core.data import folder_pairs
    from skinseg_core.imageio import read_mask, read_photo
    from skinseg_core.inference import Segmenter
    from skinseg_core.recipes import mistake_weights

    pairs = folder_pairs(synthetic_folder)[:3]
    maps = mistake_weights(tiny_checkpoint, pairs, 3.0, long_side=1000)
    segmenter = Segmenter(tiny_checkpoint, device="cpu")
    for pair, weight in zip(pairs, maps):
        photo = read_photo(pair.image)
        wrong = segmenter.predict_photo(photo).mask(segmenter.loaded.threshold) != read_mask(pair.mask,
                                                                                           size=photo.full_size)
        assert weight.shape == wrong.shape and set(np.unique(weight)) <= {1.0, 3.0}
        assert np.array_equal(weight == 3.0, wrong)
    small = mistake_weights(tiny_checkpoint, pairs[:1], 3.0, long_side=32)
    assert max(small[0].shape) == 32
