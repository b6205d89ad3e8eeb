"""Long work off the GUI thread: QRunnable workers whose signals live on a separate QObject.

A worker wraps a plain function or a generator function from skinseg_core (or a small app helper). Generators
report progress by yielding and can be stopped between yields; the generator's return value is what `returned`
carries. Every pool is registered so the app (and the tests) can cancel and wait for all of them on quit.
"""

from __future__ import annotations

import inspect
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

_pools: weakref.WeakSet[WorkerPool] = weakref.WeakSet()


class WorkerSignals(QObject):
    started = Signal()
    progress = Signal(object)
    returned = Signal(object)
    errored = Signal(object)  # the exception, with its __traceback__
    finished = Signal()


class Cancelled(Exception):
    """Raised inside a worker's function (via `check`) when the worker was cancelled."""


class Worker(QRunnable):
    """Runs `fn(*args, **kwargs)` on a pool thread. Create it on the GUI thread, so its signals are delivered there.

    If `fn` takes a keyword argument `cancel_check`, it gets a function that raises `Cancelled` once the worker is
    cancelled; generator functions are simply not resumed after a cancel.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns it (the pool keeps a reference until `finished`)
        self.signals = WorkerSignals()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._cancel = threading.Event()
        if "cancel_check" in inspect.signature(fn).parameters:
            self._kwargs["cancel_check"] = self.check

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled

    def run(self) -> None:  # noqa: D102 - QRunnable override
        signals = self.signals
        if self._cancel.is_set():
            signals.finished.emit()
            return
        signals.started.emit()
        try:
            # A plain function that has started runs to the end and its result is delivered (a model call
            # cannot be interrupted, and its result is still useful); a generator stops at its next yield.
            result = self._fn(*self._args, **self._kwargs)
            completed = True
            if inspect.isgenerator(result):
                generator = result
                result = None
                while True:
                    if self._cancel.is_set():
                        generator.close()
                        completed = False
                        break
                    try:
                        item = next(generator)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    signals.progress.emit(item)
            if completed:
                signals.returned.emit(result)
        except Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the GUI, never die silently
            log.debug("Worker %s failed", getattr(self._fn, "__name__", self._fn), exc_info=True)
            signals.errored.emit(exc)
        finally:
            signals.finished.emit()


class WorkerPool(QObject):
    """A QThreadPool that keeps its workers alive until they finish, and can cancel and wait for all of them."""

    def __init__(self, name: str, max_threads: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._pool.setObjectName(name)
        self._workers: set[Worker] = set()
        self._shut_down = False
        _pools.add(self)

    def start(self, worker: Worker, priority: int = 0) -> Worker:
        """Queue `worker`; after `shutdown` it is dropped (never runs nor signals)."""
        if self._shut_down:
            # Results that were already queued to the GUI thread when the window closed are still delivered, and
            # their slots may ask for more work (the next photo's prefetch, say): no thread may outlive the window.
            log.debug("Pool %s is shut down: a worker was not started", self.name)
            return worker
        self._workers.add(worker)
        # A bound method of a QObject (not a lambda), so the connection is queued to this object's (GUI) thread.
        worker.signals.finished.connect(self._forget)
        self._pool.start(worker, priority)
        return worker

    def _forget(self) -> None:
        sender = self.sender()
        self._workers = {w for w in self._workers if w.signals is not sender}

    @property
    def pending(self) -> int:
        """Workers started and not yet finished."""
        return len(self._workers)

    def try_take(self, worker: Worker) -> bool:
        """Remove a worker that has not started yet from the queue (it will never run nor signal)."""
        if self._pool.tryTake(worker):
            self._workers.discard(worker)
            return True
        return False

    def cancel_all(self) -> None:
        for worker in list(self._workers):
            worker.cancel()

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    @property
    def busy(self) -> bool:
        try:
            return self._pool.activeThreadCount() > 0
        except RuntimeError:  # the C++ pool is gone, and its destructor waited for its threads
            return False

    def shutdown(self) -> None:
        """Cancel everything and wait: used on quit, so no thread outlives the window. Later `start`s do nothing."""
        self._shut_down = True
        self.cancel_all()
        self._pool.clear()
        self._pool.waitForDone()


def all_pools() -> list[WorkerPool]:
    return list(_pools)
