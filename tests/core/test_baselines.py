import numpy as np

from skinseg_core.baselines import chai_ngan_ycrcb, kovac_rgb


def _pixels(*colours):
    return np.array([colours], dtype=np.uint8)


def test_kovac_rule_by_hand():
    # A typical skin tone passes; grey, blue, dark and too-flat reddish pixels fail.
    result = kovac_rgb(_pixels((200, 150, 120), (128, 128, 128), (40, 60, 200), (90, 50, 30), (120, 110, 100)))
    assert result.tolist() == [[True, False, False, False, False]]


def test_chai_ngan_rule_by_hand():
    # (200,150,120): Cr ≈ 165, Cb ≈ 108 -> skin; pure green and grey are not.
    result = chai_ngan_ycrcb(_pixels((200, 150, 120), (0, 255, 0), (128, 128, 128)))
    assert result.tolist() == [[True, False, False]]
