"""Results handed from worker threads to the GUI thread (ui/gui_thread.py, ui/operations.py):
no worker emits a signal of an object a view may delete; a result for a view closed meanwhile
is dropped in the GUI thread; nothing is lost or delivered twice. Two GUI test runs once died
of SIGSEGV as a case's worker thread emitted the delivery object of a CaseOp (deleted with
``deleteLater`` as soon as its result arrived)."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QThread
from PySide6.QtWidgets import QWidget

from ui import gui_thread
from ui.operations import CaseOp, CaseQuery, operations, wait_for_operations
from videofeedback.library import Library, Programme, Role, create_case
from videofeedback.operations import Changes, Outcome

COUNT = 300


@pytest.fixture
def case(tmp_path):
    folder = tmp_path / "lib"
    library, alice = Library.create(
        folder, "alice", "alice-quiet-harbour-lantern", tmp_path / "r.age", 30
    )
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    yield create_case(bob, "Family G", Programme.VIG, date(2026, 1, 5))
    library.close()


def test_results_arriving_while_their_views_close_reach_only_the_live_ones(qtbot, case):
    """Many operations and reads whose views close while they run (a view deleted outright,
    another with deleteLater as the results land): each live view hears its result once, a
    closed one nothing, no operation stays pending, and nothing crashes."""
    heard: list[int] = []
    kept: list[QWidget] = []
    for n in range(COUNT):
        view = QWidget()
        if n % 3 == 0:
            CaseQuery(view, case, lambda _, n=n: n).success(heard.append).run()
        else:
            op = CaseOp(view, case, lambda _, n=n: Outcome(Changes(), n))
            op.success(heard.append).run()
        if n % 3 == 1:
            shiboken6.delete(view)  # closed before its result arrives
        elif n % 3 == 2:
            view.deleteLater()  # closed as results land (processEvents below)
        else:
            kept.append(view)
        if n % 7 == 0:
            QCoreApplication.processEvents()
            time.sleep(0.001)  # the worker delivers while the GUI thread deletes
    wait_for_operations()
    assert not operations().pending
    assert sorted(heard) == heard  # one case, one queue: in order
    live = [n for n in range(COUNT) if n % 3 == 0]
    assert [n for n in heard if n % 3 != 2] == live  # each live view once, closed ones never
    assert len(set(heard)) == len(heard)


def test_calls_from_many_threads_arrive_in_the_gui_thread_in_order_and_skip_deleted_owners(qtbot):
    gui = QThread.currentThread()
    arrived: list[tuple[int, int]] = []
    threads_seen: set[bool] = set()
    live, gone = QObject(), QObject()

    def record(value: tuple[int, int]) -> None:
        threads_seen.add(QThread.currentThread() is gui)
        arrived.append(value)

    to_live, to_gone = gui_thread.to_gui(live, record), gui_thread.to_gui(gone, record)
    shiboken6.delete(gone)

    def worker(number: int) -> None:
        for k in range(200):
            to_live((number, k))
            to_gone((-1, k))

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    qtbot.waitUntil(lambda: len(arrived) == 800, timeout=10_000)
    QCoreApplication.processEvents()
    assert len(arrived) == 800 and threads_seen == {True}
    for number in range(4):
        assert [k for n, k in arrived if n == number] == list(range(200))


def test_the_hub_is_made_only_in_the_gui_thread(qtbot):
    failed: list[BaseException] = []

    def off_gui() -> None:
        try:
            gui_thread.start()
        except RuntimeError as exc:
            failed.append(exc)

    thread = threading.Thread(target=off_gui)
    thread.start()
    thread.join()
    assert len(failed) == 1
