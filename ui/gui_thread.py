"""Handing a result from any thread to the GUI thread without a worker thread ever touching a
Qt object that a view may delete meanwhile.

A worker used to emit a signal of a short-lived QObject (a CaseOp's delivery object, a view's
own signal) from its own thread; if the GUI thread deleted that object during the emission
(``deleteLater`` once delivered, a view closed), the worker ran in freed memory: a rare
SIGSEGV. Here a worker only puts ``(function, value)`` on a thread-safe queue and emits the
signal of one hub made in the GUI thread at start-up and never deleted (a module reference
keeps it; it has no Qt parent). The GUI thread drains the queue; a call for a view that is
gone meanwhile is dropped there (``to_gui(owner, fn)``), in the GUI thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

T = TypeVar("T")


class _Hub(QObject):
    """Lives in the GUI thread for the whole process; only its signal is used off it."""

    wake = Signal()

    def __init__(self) -> None:
        super().__init__(None)  # no parent: Qt never deletes it; the module keeps it
        self.calls: queue.SimpleQueue[tuple[Callable[[Any], None], Any]] = queue.SimpleQueue()
        self.wake.connect(self._drain, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def _drain(self) -> None:  # the GUI thread
        while True:
            try:
                call, value = self.calls.get_nowait()
            except queue.Empty:
                return
            try:
                call(value)
            except BaseException:
                if not self.calls.empty():
                    self.wake.emit()  # what is left is delivered on the next pass
                raise


_hub: _Hub | None = None
_hub_lock = threading.Lock()


def start() -> None:
    """Make the hub (in the GUI thread: where the application lives), once."""
    global _hub
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("ui.gui_thread.start() runs in the GUI thread, after the QApplication")
    with _hub_lock:
        if _hub is None:
            _hub = _Hub()


def call_in_gui(call: Callable[[T], None], value: T) -> None:
    """Run ``call(value)`` in the GUI thread, soon (from any thread; in order of the calls).
    Needs ``start()`` first; without a hub (no application) nothing can be shown: dropped."""
    with _hub_lock:
        if _hub is None:
            return
        _hub.calls.put((call, value))
        _hub.wake.emit()


def to_gui(owner: QObject, call: Callable[[T], None]) -> Callable[[T], None]:
    """A function any thread may call: it runs ``call`` in the GUI thread, unless ``owner``
    (the view the result is for) was deleted by then."""
    start()

    def alive_then_call(value: T) -> None:
        if shiboken6.isValid(owner):
            call(value)

    return lambda value: call_in_gui(alive_then_call, value)
