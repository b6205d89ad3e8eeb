"""Display versions of photos, decoded in the background before they are needed.

The open photo's neighbours in the list are decoded (at display resolution, which for JPEGs is a fast reduced
decode) while the user looks at the open one, so D / A shows the next photo at once. Decoded photos are kept in a
small LRU: a 3840 px display version is ~33 MB, so a handful bounds memory. Everything runs in the io pool.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from skinseg_core.imageio import Photo, read_photo

from app.workers import Worker, WorkerPool

CACHE_SIZE = 5
PRIORITY_SHOWN = 10
PRIORITY_PREFETCH = 1


def load_display_photo(path: Path, long_side: int | None) -> tuple[Path, Photo]:
    """Worker function: the photo decoded at display resolution (None: every pixel)."""
    return path, read_photo(path, min_long_side=long_side)


class PhotoCache(QObject):
    loaded = Signal(object, object)  # Path, Photo
    failed = Signal(object, object)  # Path, exception

    def __init__(self, pool: WorkerPool, long_side: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool
        self.long_side = long_side
        self._photos: OrderedDict[Path, Photo] = OrderedDict()
        self._pending: dict[Path, Worker] = {}

    def get(self, path: Path) -> Photo | None:
        photo = self._photos.get(path)
        if photo is not None:
            self._photos.move_to_end(path)
        return photo

    def pending(self, path: Path) -> bool:
        return path in self._pending

    def request(self, path: Path, priority: int = PRIORITY_SHOWN) -> None:
        """Decode `path` unless it is cached or on its way; a queued prefetch moves up to `priority`."""
        if path in self._photos:
            return
        worker = self._pending.get(path)
        if worker is not None:
            if priority > PRIORITY_PREFETCH and self.pool.try_take(worker):
                self.pool.start(worker, priority)
            return
        worker = Worker(load_display_photo, path, self.long_side)
        worker.signals.returned.connect(self._returned)
        worker.signals.errored.connect(self._errored)
        worker.signals.finished.connect(self._finished)
        self._pending[path] = worker
        self.pool.start(worker, priority)

    def prefetch(self, paths: Iterable[Path]) -> None:
        """Decode these photos at low priority; queued prefetches of other photos are dropped."""
        wanted = list(paths)
        for path, worker in list(self._pending.items()):
            if path not in wanted and self.pool.try_take(worker):
                del self._pending[path]
        for path in wanted:
            self.request(path, PRIORITY_PREFETCH)

    def clear(self) -> None:
        for path, worker in list(self._pending.items()):
            if self.pool.try_take(worker):
                del self._pending[path]
        self._photos.clear()

    def _path_of(self, signals: QObject | None) -> Path | None:
        return next((p for p, w in self._pending.items() if w.signals is signals), None)

    def _returned(self, result: tuple[Path, Photo]) -> None:
        path, photo = result
        self._photos[path] = photo
        self._photos.move_to_end(path)
        while len(self._photos) > CACHE_SIZE:
            self._photos.popitem(last=False)
        self.loaded.emit(path, photo)

    def _errored(self, error: BaseException) -> None:
        path = self._path_of(self.sender())
        if path is not None:
            self.failed.emit(path, error)

    def _finished(self) -> None:
        path = self._path_of(self.sender())
        if path is not None:
            del self._pending[path]
