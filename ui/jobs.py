"""Every long operation goes through one helper: it runs off the GUI thread, reports progress,
can be cancelled, and calls back on success or failure (in the GUI thread). A job on a case
(``case=``) runs in that case's queue (videofeedback.operations), so no two jobs, and no job
and a short operation, change one case at once; its ``changes`` are announced when it ends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from clips.errors import CancelledError
from clips.ffmpeg import Cancel
from ui.operations import operations
from videofeedback.errors import VideofeedbackError
from videofeedback.library.cases import Case
from videofeedback.operations import Changes, runner_for


@dataclass
class JobContext:
    """What a job's work function gets: a cancel switch and a progress reporter (0‥1)."""

    cancel: Cancel = field(default_factory=Cancel)
    report: Callable[[float], None] = lambda _: None


class Job(QThread):
    """One operation on a worker thread. Connect to the signals, then ``start()``."""

    progressed = Signal(float)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self,
        title: str,
        work: Callable[[JobContext], Any],
        parent: QObject,
        on_cancel: Callable[[], None] | None = None,
        case: Case | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self._work = work
        self._on_cancel = on_cancel
        self._case = case
        self.context = JobContext(report=self.progressed.emit)

    def cancel(self) -> None:
        """Stop the work: by default it is abandoned and leaves nothing; a job that must keep
        what it did (a recording) gives its own ``on_cancel``."""
        if self._on_cancel is not None:
            self._on_cancel()
        else:
            self.context.cancel.cancel()

    def run(self) -> None:  # the worker thread
        try:
            result = self._run_work()
        except CancelledError:
            self.cancelled.emit()
        except VideofeedbackError as exc:
            self.failed.emit(str(exc))
        except OSError as exc:
            self.failed.emit(f"{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}")
        except Exception as exc:  # noqa: BLE001 - shown as a dialog, never lost in a thread
            self.failed.emit(f"internal error ({type(exc).__name__}: {exc}); please report it")
        else:
            if self.context.cancel.cancelled:
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)

    def _run_work(self) -> Any:
        if self._case is None:
            return self._work(self.context)
        # in the case's queue: this thread waits its turn, then for the work to end
        return runner_for(self._case).job(lambda _: self._work(self.context)).result()


class Jobs(QObject):
    """Starts jobs and tells the window what runs (for its progress bar and Cancel button)."""

    started = Signal(object)  # Job
    ended = Signal(object)  # Job
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.running: list[Job] = []

    def start(
        self,
        title: str,
        work: Callable[[JobContext], Any],
        on_success: Callable[[Any], None] = lambda _: None,
        on_failure: Callable[[str], object] | None = None,
        on_cancel: Callable[[], None] | None = None,
        case: Case | None = None,
        changes: Changes | None = None,
    ) -> Job:
        """Start ``work`` on a worker thread; with ``case``, in that case's queue, and the
        ``changes`` it makes are announced on success (ui.operations)."""
        job = Job(title, work, self, on_cancel, case)
        if changes:
            job.succeeded.connect(lambda _: operations().emit_changes(changes))
        job.succeeded.connect(on_success)
        job.failed.connect(on_failure or self.error.emit)
        job.finished.connect(lambda: self._end(job))
        self.running.append(job)
        self.started.emit(job)
        job.start()
        return job

    def _end(self, job: Job) -> None:
        if job in self.running:
            self.running.remove(job)
        self.ended.emit(job)
        job.deleteLater()

    def cancel_all(self) -> None:
        for job in self.running:
            job.cancel()

    def wait_all(self) -> None:
        for job in list(self.running):
            job.wait()
