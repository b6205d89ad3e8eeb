"""An append-only journal of mask edits, so that a killed app loses no correction.

Each record sets a box of the mask to the pixels it had after an edit (a `maskpatch.Patch`). Replaying the records in
order on top of the last saved mask gives the mask as it was at the last record, whether or not the saved mask
already included some of them (a record is "set these pixels", so replaying it again is harmless). A record is
written whole with one write() and fsync'd; a record cut short by a crash fails its checksum and is ignored, as is
everything after it.

Record: magic b"SSJ1", uint32 header length, uint32 data length, JSON header, data, uint32 crc32 of header + data.
Header: {"seq": n, "bbox": [x0, y0, x1, y1], "size": [width, height]}.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from skinseg_core.maskpatch import BBox, Patch

__all__ = ["Journal"]

log = logging.getLogger(__name__)

MAGIC = b"SSJ1"
_HEAD = struct.Struct("<4sII")
_CRC = struct.Struct("<I")


class Journal:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, seq: int, size: tuple[int, int], patch: Patch) -> None:
        """Append one record and flush it to disk (raises OSError when the disk refuses)."""
        header = json.dumps({"seq": int(seq), "bbox": list(patch.bbox), "size": list(size)}).encode("utf-8")
        body = header + patch.bits
        record = _HEAD.pack(MAGIC, len(header), len(patch.bits)) + body + _CRC.pack(zlib.crc32(body))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0), 0o666)
        try:
            os.write(fd, record)
            os.fsync(fd)
        finally:
            os.close(fd)

    def records(self) -> Iterator[tuple[int, tuple[int, int], Patch]]:
        """(seq, (width, height), patch) for every complete record, in order."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        offset = 0
        while offset + _HEAD.size <= len(data):
            magic, header_len, data_len = _HEAD.unpack_from(data, offset)
            end = offset + _HEAD.size + header_len + data_len + _CRC.size
            if magic != MAGIC or end > len(data):
                log.warning("Journal %s ends with an incomplete record (ignored)", self.path)
                return
            body = data[offset + _HEAD.size : end - _CRC.size]
            (crc,) = _CRC.unpack_from(data, end - _CRC.size)
            if zlib.crc32(body) != crc:
                log.warning("Journal %s has a damaged record at byte %d (it and what follows are ignored)",
                            self.path, offset)
                return
            header = json.loads(body[:header_len])
            bbox: BBox = tuple(int(v) for v in header["bbox"])  # type: ignore[assignment]
            size = (int(header["size"][0]), int(header["size"][1]))
            yield int(header["seq"]), size, Patch(bbox, bytes(body[header_len:]))
            offset = end

    def replay(self, mask: np.ndarray | None, size: tuple[int, int]) -> tuple[np.ndarray | None, int]:
        """Apply every record for a photo of `size` (width, height) to `mask` (a copy; None: start from zeros when
        there is a record). Returns (mask, last seq or 0)."""
        last = 0
        for seq, record_size, patch in self.records():
            if record_size != tuple(size):
                log.warning("Journal %s was made for a %s photo, not %s: ignored", self.path, record_size, size)
                continue
            if mask is None:
                mask = np.zeros((size[1], size[0]), dtype=np.uint8)
            elif last == 0:
                mask = mask.copy()
            patch.write_into(mask)
            last = seq
        return mask, last

    def clear(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
