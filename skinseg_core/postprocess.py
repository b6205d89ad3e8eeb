"""Mask clean-up after thresholding: fill holes, remove small islands. Masks are bool or 0/1 uint8 [H, W].

Connectivity is 8 for skin and 4 for background (the usual pairing, so that a diagonal gap never both separates two
skin regions and joins two background regions).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["fill_holes", "remove_small_islands", "threshold_mask"]


def threshold_mask(prob: np.ndarray, threshold: float) -> np.ndarray:
    """float32 [H, W] probabilities -> uint8 [H, W] 0/1 mask (p >= threshold)."""
    return (prob >= np.float32(threshold)).view(np.uint8) if prob.dtype == np.float32 else (
        (prob >= threshold).astype(np.uint8))


def _binary(mask: np.ndarray) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be a 2-D array [H, W], got shape {mask.shape}")
    return (mask > 0).astype(np.uint8)


def fill_holes(mask: np.ndarray, max_area: int | None = None) -> np.ndarray:
    """uint8 0/1 [H, W]: background regions that do not touch the border become skin.

    max_area: only holes of at most this many pixels are filled (None: every hole).
    """
    binary = _binary(mask)
    background = 1 - binary
    count, labels, stats, _ = cv2.connectedComponentsWithStats(background, connectivity=4)
    if count <= 1:
        return binary
    height, width = binary.shape
    x, y, w, h, area = (stats[:, i] for i in range(5))
    touches = (x == 0) | (y == 0) | (x + w == width) | (y + h == height)
    fill = ~touches
    fill[0] = False  # label 0 is the skin itself
    if max_area is not None:
        fill &= area <= max_area
    return (binary | fill[labels].astype(np.uint8)).astype(np.uint8)


def remove_small_islands(mask: np.ndarray, min_area: int) -> np.ndarray:
    """uint8 0/1 [H, W] without the skin regions (8-connected) smaller than `min_area` pixels."""
    binary = _binary(mask)
    if min_area <= 1:
        return binary
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    return keep[labels].astype(np.uint8)
