"""A photo's skin probability map in its compact form: the Segmenter's compact map plus the photo's size.

`Segmenter.predict_photo` makes the full-resolution map by resizing its compact map bilinearly to the photo's size
(the network's S x S output, or that output refined with the photo at up to 2S on the long side). Keeping the compact
map instead (at most 800 KB at S = 224) loses nothing: `full()` rebuilds exactly the same float32 map, a
display-sized uint8 version costs one resize, and it is small enough to cache on disk for every photo of a folder.
The skin area for every threshold step is counted once on the full-resolution map, so an area shown while a
threshold slider moves is exact without touching the full map again.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from skinseg_core.errors import SkinSegError

__all__ = [
    "THRESHOLD_STEPS",
    "ProbabilityMap",
    "predict_map",
    "threshold_from_step",
]

# Thresholds are chosen in steps of 1/THRESHOLD_STEPS (0.00, 0.01, ... 1.00): fine enough for a user, and it lets
# the area at every possible threshold be counted in one pass.
THRESHOLD_STEPS = 100

_ROW_BAND = 1024  # rows of the full-resolution map processed at a time when counting areas (bounds peak memory)


def threshold_from_step(step: int) -> float:
    """The threshold value of slider step `step` (0..THRESHOLD_STEPS), e.g. 37 -> 0.37."""
    if not 0 <= step <= THRESHOLD_STEPS:
        raise ValueError(f"a threshold step must be within 0..{THRESHOLD_STEPS}, not {step}")
    return step / THRESHOLD_STEPS


def _step_thresholds() -> np.ndarray:
    # float32 like the maps: `map >= 0.37` compares against float32(0.37) under numpy's promotion rules, so the
    # counts below match a plain `prob >= threshold` on the float32 map exactly.
    return np.array([threshold_from_step(k) for k in range(THRESHOLD_STEPS + 1)], dtype=np.float32)


@dataclass(eq=False)
class ProbabilityMap:
    """small: float32 [h, w] compact probabilities (Segmenter.compact_probabilities); full_size: (width, height) of
    the photo.

    area_counts: int64 [THRESHOLD_STEPS + 1], pixels of the full-resolution map with p >= step / THRESHOLD_STEPS
    (computed on demand, then kept).
    """

    small: np.ndarray
    full_size: tuple[int, int]
    area_counts: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        small = np.asarray(self.small, dtype=np.float32)
        if small.ndim != 2 or small.size == 0:
            raise ValueError(f"a probability map must be a non-empty 2-D array, got shape {small.shape}")
        self.small = np.ascontiguousarray(small)
        width, height = (int(v) for v in self.full_size)
        if width < 1 or height < 1:
            raise ValueError(f"full_size must be (width, height) with positive values, not {self.full_size}")
        self.full_size = (width, height)

    @property
    def pixels(self) -> int:
        return self.full_size[0] * self.full_size[1]

    def resized(self, size: tuple[int, int]) -> np.ndarray:
        """float32 [h, w] probabilities at size (width, height), as `Segmenter.predict_photo` resizes them."""
        out = cv2.resize(self.small, (int(size[0]), int(size[1])), interpolation=cv2.INTER_LINEAR)
        return np.clip(out, 0.0, 1.0, out=out)

    def full(self) -> np.ndarray:
        """float32 [H, W] at the photo's full size: identical to `Segmenter.predict(path).probabilities`."""
        return self.resized(self.full_size)

    def display_u8(self, size: tuple[int, int]) -> np.ndarray:
        """uint8 [h, w] probabilities * 255 (rounded) at a display size (width, height), for fast overlays."""
        return np.rint(self.resized(size) * 255.0).astype(np.uint8)

    def mask(self, threshold: float) -> np.ndarray:
        """bool [H, W] at full size: p >= threshold."""
        return self.full() >= np.float32(threshold)

    def _full_bands(self) -> Iterator[np.ndarray]:
        # cv2.resize is separable and samples each output row independently, so resizing the whole map then slicing
        # equals what we yield; resizing once keeps it simple and the bands only bound the counting's temporaries.
        full = self.full()
        for top in range(0, full.shape[0], _ROW_BAND):
            yield full[top : top + _ROW_BAND]

    def counts(self) -> np.ndarray:
        """int64 [THRESHOLD_STEPS + 1]: full-resolution pixels with p >= each step's threshold."""
        if self.area_counts is None:
            thresholds = _step_thresholds()
            histogram = np.zeros(THRESHOLD_STEPS + 2, dtype=np.int64)
            for band in self._full_bands():
                # Number of thresholds <= p: a pixel counted under index i is >= thresholds[0..i-1].
                index = np.searchsorted(thresholds, band.ravel(), side="right")
                histogram += np.bincount(index, minlength=THRESHOLD_STEPS + 2)
            # counts[k] = pixels whose index > k, i.e. p >= thresholds[k].
            self.area_counts = np.cumsum(histogram[::-1])[::-1][1:].copy()
        return self.area_counts

    def area(self, step: int) -> int:
        """Skin pixels at the full resolution for threshold step `step`."""
        threshold_from_step(step)  # validates
        return int(self.counts()[step])

    # ---- storage ----------------------------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """An uncompressed .npz (numpy's own format, no pickle) holding small, full_size and area counts."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            small=self.small,
            full_size=np.array(self.full_size, dtype=np.int64),
            area_counts=self.counts(),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "probability map") -> ProbabilityMap:
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as archive:
                small = archive["small"]
                width, height = (int(v) for v in archive["full_size"])
                counts = archive["area_counts"] if "area_counts" in archive.files else None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise SkinSegError(
                f"The cached {source} is damaged ({exc}). Delete it and segment the photo again."
            ) from exc
        if counts is not None and counts.shape != (THRESHOLD_STEPS + 1,):
            counts = None
        return cls(small=small, full_size=(width, height), area_counts=counts)

    @classmethod
    def load(cls, path: str | Path) -> ProbabilityMap:
        return cls.from_bytes(Path(path).read_bytes(), source=str(path))


def predict_map(segmenter: object, path: str | Path) -> ProbabilityMap:
    """Run `segmenter` (a `skinseg_core.inference.Segmenter`) on one photo and keep its compact map.

    Uses the Segmenter's own read and compact-map step (network, then guided filter), so
    `predict_map(s, p).full()` equals `s.probabilities(p)`.
    The area counts are computed here too, so a worker thread pays for them, not the caller's GUI thread.
    """
    photo = segmenter.read(path)  # type: ignore[attr-defined]
    compact = segmenter.compact_probabilities(photo.rgb)  # type: ignore[attr-defined]
    result = ProbabilityMap(small=compact, full_size=photo.full_size)
    result.counts()
    return result
