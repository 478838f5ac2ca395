"""Changes to a case from the GUI: ``CaseOp(parent, case, op).success(fn).failure(fn).run()``;
reads that need a consistent view: ``CaseQuery(parent, case, query).success(fn).run()``.

The operation runs on the case's own queue (videofeedback.operations: one worker thread per
case, which saves and signs once per operation), never on the GUI thread. When it is done,
in the GUI thread: the one app-wide ``changes`` signal tells every view what changed (each
refreshes only if the Changes names what it shows), then ``success`` gets the value. A
failure goes to ``failure``, or becomes an error dialog over ``parent``. In the style of
Anki's CollectionOp (qt/aqt/operations/__init__.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, Signal
from PySide6.QtWidgets import QWidget

from ui import gui_thread
from ui.errors import show_error
from videofeedback.errors import VideofeedbackError
from videofeedback.library.cases import Case
from videofeedback.operations import Changes, Operation, Outcome, runner_for

T = TypeVar("T")


class Operations(QObject):
    """The app-wide object views listen to: ``changes`` (what changed, who asked)."""

    changes = Signal(object, object)  # Changes, the initiating widget (or None)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pending: set[CaseOp | CaseQuery[Any]] = set()

    def emit_changes(self, changes: Changes, initiator: object = None) -> None:
        if changes:
            self.changes.emit(changes, initiator)


_operations: Operations | None = None


def operations() -> Operations:
    """The one Operations object (made on first use, owned by the application)."""
    global _operations
    if _operations is None:
        _operations = Operations(QCoreApplication.instance())
        _operations.destroyed.connect(_forget)
    return _operations


def _forget() -> None:
    global _operations
    _operations = None


def describe(exc: BaseException) -> str:
    """A failure as one line for a dialog (the project's errors say what to do next)."""
    if isinstance(exc, VideofeedbackError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}"
    return f"internal error ({type(exc).__name__}: {exc}); please report it"


def _deliver(call: Callable[[Any], None]) -> Callable[[Future[Any]], None]:
    """The future's done-callback (it runs on the case's worker thread): ``call`` gets the
    future in the GUI thread (ui.gui_thread: no Qt object but the app-long hub is touched
    from the worker)."""
    gui_thread.start()
    return lambda future: gui_thread.call_in_gui(call, future)


class CaseOp:
    """One operation on a case, run off the GUI thread through the case's queue."""

    def __init__(self, parent: QWidget | None, case: Case, op: Operation) -> None:
        self._parent = parent
        self._case = case
        self._op = op
        self._success: Callable[[Any], None] = lambda _: None
        self._failure: Callable[[str], object] | None = None
        self._delivery = _deliver(self._on_finished)

    def success(self, on_success: Callable[[Any], None]) -> CaseOp:
        self._success = on_success
        return self

    def failure(self, on_failure: Callable[[str], object]) -> CaseOp:
        self._failure = on_failure
        return self

    def run(self) -> Future[Outcome[Any]]:
        operations().pending.add(self)
        future = runner_for(self._case).submit(self._op)
        future.add_done_callback(self._delivery)  # on the worker thread
        return future

    def _on_finished(self, future: Future[Outcome[Any]]) -> None:  # the GUI thread
        hub = operations()
        hub.pending.discard(self)
        exc = future.exception()
        if exc is not None:
            if self._failure is not None:
                self._failure(describe(exc))
            else:
                show_error(self._parent if _alive(self._parent) else None, describe(exc))
            return
        outcome = future.result()
        hub.emit_changes(outcome.changes, self._parent)
        if self._parent is None or _alive(self._parent):  # a view closed meanwhile hears nothing
            self._success(outcome.value)


class CaseQuery(Generic[T]):
    """A read of a case that needs a consistent view, run in the case's queue (nothing
    changes under it) and delivered to ``success`` in the GUI thread; nothing is saved and
    no ``changes`` are sent. Anki's QueryOp."""

    def __init__(self, parent: QWidget | None, case: Case, query: Callable[[Case], T]) -> None:
        self._parent = parent
        self._case = case
        self._query = query
        self._success: Callable[[T], None] = lambda _: None
        self._failure: Callable[[str], object] | None = None
        self._delivery = _deliver(self._on_finished)

    def success(self, on_success: Callable[[T], None]) -> CaseQuery[T]:
        self._success = on_success
        return self

    def failure(self, on_failure: Callable[[str], object]) -> CaseQuery[T]:
        self._failure = on_failure
        return self

    def run(self) -> Future[T]:
        operations().pending.add(self)
        future = runner_for(self._case).read(self._query)
        future.add_done_callback(self._delivery)  # on the worker thread
        return future

    def _on_finished(self, future: Future[T]) -> None:  # the GUI thread
        operations().pending.discard(self)
        if self._parent is not None and not _alive(self._parent):
            return  # a view closed meanwhile hears nothing
        exc = future.exception()
        if exc is not None:
            if self._failure is not None:
                self._failure(describe(exc))
            else:
                show_error(self._parent, describe(exc))
            return
        self._success(future.result())


def _alive(widget: QObject | None) -> bool:
    return widget is not None and shiboken6.isValid(widget)


def wait_for_operations(timeout: float = 30.0) -> None:
    """Let every pending operation finish and deliver (closing the window, tests)."""
    deadline = time.monotonic() + timeout
    app = QCoreApplication.instance()
    while operations().pending and time.monotonic() < deadline:
        if app is not None:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
