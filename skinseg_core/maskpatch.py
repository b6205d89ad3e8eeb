"""Small, exact records of mask changes: a bounding box plus its pixels as packed bits, zlib-compressed.

The app's undo history keeps the XOR of a change (applying it twice restores the mask, and a brush stroke's XOR is
mostly zeros, so it compresses to a few hundred bytes); the journal keeps the pixels *after* a change (replaying
such records in order is idempotent, which makes crash recovery simple, see `journal`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["BBox", "Patch", "bbox_of", "clip_bbox", "union_bbox"]

BBox = tuple[int, int, int, int]  # x0, y0, x1, y1 (x1, y1 exclusive), full-resolution pixels


def clip_bbox(bbox: BBox, size: tuple[int, int]) -> BBox | None:
    """bbox clipped to a (width, height) image, or None when nothing is left."""
    x0, y0, x1, y1 = bbox
    width, height = size
    x0, y0, x1, y1 = max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1))
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def union_bbox(a: BBox | None, b: BBox | None) -> BBox | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def bbox_of(mask: np.ndarray) -> BBox | None:
    """Tight box around the nonzero pixels of a [H, W] array, or None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


@dataclass(frozen=True)
class Patch:
    """bits: zlib(packbits(values)) for the box `bbox`; values are 0/1 of shape (y1 - y0, x1 - x0)."""

    bbox: BBox
    bits: bytes

    @classmethod
    def from_array(cls, bbox: BBox, values: np.ndarray) -> Patch:
        x0, y0, x1, y1 = bbox
        if values.shape != (y1 - y0, x1 - x0):
            raise ValueError(f"values of shape {values.shape} do not fit the box {bbox}")
        return cls(bbox, zlib.compress(np.packbits(values.astype(bool, copy=False)).tobytes(), 1))

    def array(self) -> np.ndarray:
        """uint8 0/1 [y1 - y0, x1 - x0]."""
        x0, y0, x1, y1 = self.bbox
        count = (y1 - y0) * (x1 - x0)
        bits = np.unpackbits(np.frombuffer(zlib.decompress(self.bits), dtype=np.uint8), count=count)
        return bits.reshape(y1 - y0, x1 - x0)

    @property
    def nbytes(self) -> int:
        return len(self.bits)

    def xor_into(self, mask: np.ndarray) -> None:
        x0, y0, x1, y1 = self.bbox
        mask[y0:y1, x0:x1] ^= self.array()

    def write_into(self, mask: np.ndarray) -> None:
        x0, y0, x1, y1 = self.bbox
        mask[y0:y1, x0:x1] = self.array()
