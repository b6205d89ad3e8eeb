"""Running a fine-tuning job from the app: the child process (skinseg_core.finetune_job) polled from a timer.

The training runs in its own process, so the window stays responsive and a crash (or a kill) cannot take the app
down; the job's result appears in one rename only when it is complete, so a dead process leaves nothing half-written
and the model in use is never touched until the user adopts the new one.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from skinseg_core.finetune_job import FinetuneProcess, JobSpec
from skinseg_core.paths import user_data_dir

log = logging.getLogger(__name__)

POLL_MS = 100
KILL_AFTER_MS = 3000  # a stop request is honoured at the next training step; past this the process is killed


@dataclass(frozen=True)
class FinetuneResult:
    """A finished job: the new model (result/model.json) and the active-vs-new comparison on held-out photos."""

    job_dir: Path
    model_path: Path
    comparison: dict[str, Any]

    @property
    def result_dir(self) -> Path:
        return self.model_path.parent


def jobs_dir() -> Path:
    return user_data_dir() / "jobs"


class FinetuneController(QObject):
    """One fine-tuning job at a time. `progress` carries each progress line (a dict) of the child process."""

    progress = Signal(object)
    succeeded = Signal(object)  # FinetuneResult
    failed = Signal(str)
    cancelled = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: FinetuneProcess | None = None
        self._outcome: dict[str, Any] | None = None
        self._cancel_requested = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.setInterval(KILL_AFTER_MS)
        self._kill_timer.timeout.connect(self._kill)

    @property
    def running(self) -> bool:
        return self.process is not None

    def start(self, spec: JobSpec) -> Path:
        """Start a job in a new folder under the user data folder; returns the job folder."""
        if self.process is not None:
            raise RuntimeError("a fine-tuning job is already running")
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        job_dir = jobs_dir() / f"{stamp}-{secrets.token_hex(3)}"
        job_dir.mkdir(parents=True)
        self.process = FinetuneProcess(job_dir)
        self._outcome = None
        self._cancel_requested = False
        self.process.start(spec)
        self._timer.start()
        self.running_changed.emit(True)
        return job_dir

    def cancel(self) -> None:
        """Ask the process to stop (it does at its next training step); kill it if it has not after a few seconds."""
        if self.process is None or self._cancel_requested:
            return
        self._cancel_requested = True
        self.process.request_stop()
        self._kill_timer.start()

    def _kill(self) -> None:
        if self.process is not None:
            log.info("The fine-tuning process did not stop in time; killing it")
            self.process.kill()

    def _poll(self) -> None:
        process = self.process
        if process is None:
            return
        status = process.poll()  # read the exit status first, so every line written before the exit is read below
        for event in process.read_events():
            if event.get("event") in ("done", "error", "cancelled"):
                self._outcome = event
            self.progress.emit(event)
        if status is None:
            return
        self._timer.stop()
        self._kill_timer.stop()
        self.process = None
        self.running_changed.emit(False)
        outcome = self._outcome or {}
        result = process.result_dir()
        if self._cancel_requested:
            shutil.rmtree(process.job_dir, ignore_errors=True)
            self.cancelled.emit()
        elif status == 0 and result is not None and outcome.get("event") == "done":
            comparison = json.loads((result / "comparison.json").read_text(encoding="utf-8"))
            self.succeeded.emit(FinetuneResult(process.job_dir, result / "model.json", comparison))
        else:
            message = outcome.get("message") if outcome.get("event") == "error" else None
            if not message:
                message = (f"The fine-tuning process stopped unexpectedly (exit status {status}). The model in use "
                           f"is unchanged; the process's output is in {process.job_dir / 'child.log'}.")
            elif outcome.get("details"):
                log.error("Fine-tuning failed:\n%s", outcome["details"])
            self.failed.emit(str(message))

    def shutdown(self) -> None:
        """Stop the job at once (on quit): nothing of it is kept."""
        process = self.process
        if process is None:
            return
        self._timer.stop()
        self._kill_timer.stop()
        self.process = None
        process.kill()
        process.wait(10)
        shutil.rmtree(process.job_dir, ignore_errors=True)


def discard(result: FinetuneResult) -> None:
    shutil.rmtree(result.job_dir, ignore_errors=True)
