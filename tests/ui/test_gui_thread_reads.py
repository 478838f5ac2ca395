"""The case view's reads and the shared review's new session run in the case's queue, not on
the GUI thread. Each test holds the read (or the session) until a timer on the GUI thread has
ticked twice: run on the GUI thread, the call would wait out its timeout (the loop cannot
tick while it waits), so "the GUI thread's loop ticked while the call ran" is what is checked,
besides the thread it ran on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PySide6.QtCore import QTimer

from tests.ui.conftest import PASSPHRASE, open_first_case, shared_review_of, unlock
from tests.ui.test_operations import BLOCKED_AT_MOST, Watchdog
from tests.ui.test_review_and_supervision import _reel
from ui.operations import wait_for_operations
from videofeedback.library.sessions import Sessions

HELD_AT_MOST = 3.0  # seconds a held call waits for a tick of the GUI thread's loop


@dataclass
class Held:
    threads: list[threading.Thread] = field(default_factory=list)
    loop_ran: list[bool] = field(default_factory=list)  # did the GUI loop tick meanwhile?
    timer: QTimer | None = None


def _held(monkeypatch, name: str) -> Held:
    """Make ``Sessions.<name>`` wait for two ticks of a timer on the GUI thread."""
    original, held, ticks = getattr(Sessions, name), Held(), threading.Semaphore(0)
    held.timer = QTimer(interval=20)
    held.timer.timeout.connect(ticks.release)
    held.timer.start()

    def waiting(self, *args, **kwargs):
        held.threads.append(threading.current_thread())
        while ticks.acquire(blocking=False):  # ticks from before the call count not
            pass
        held.loop_ran.append(all(ticks.acquire(timeout=HELD_AT_MOST) for _ in range(2)))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Sessions, name, waiting)
    return held


def test_the_case_view_reads_the_case_off_the_gui_thread(qtbot, window, monkeypatch):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view, case = window.case_view, window.case
    held = _held(monkeypatch, "all")
    view.showing = None
    watchdog = Watchdog()
    watchdog.start()
    try:
        view.refresh()
        qtbot.waitUntil(lambda: view.showing is case, timeout=10_000)
    finally:
        watchdog.timer.stop()
    assert held.threads and threading.main_thread() not in held.threads
    assert held.loop_ran == [True] * len(held.threads)
    assert view.sessions.topLevelItemCount() > 0
    assert view.consent.rowCount() == 2  # the demo family: mother and child
    assert watchdog.longest <= BLOCKED_AT_MOST, f"the GUI thread blocked {watchdog.longest:.3f} s"


def test_a_read_that_comes_back_after_the_case_was_left_is_not_shown(qtbot, window, monkeypatch):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view = window.case_view
    held = _held(monkeypatch, "all")
    view.refresh()
    view.clear()  # the user left the case before the read came back
    qtbot.waitUntil(lambda: bool(held.loop_ran), timeout=10_000)
    wait_for_operations()
    assert view.showing is None and view.title.text() == ""
    assert view.sessions.topLevelItemCount() == 0 and view.consent.rowCount() == 0


def test_the_shared_review_session_is_made_off_the_gui_thread(qtbot, window, monkeypatch):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    _review, reel = _reel(qtbot, window)
    held = _held(monkeypatch, "new")
    reel.share_button.click()
    reel.share_button.click()  # a second click while the first is pending makes nothing
    shared = shared_review_of(qtbot, window)
    assert len(held.threads) == 1 and held.threads[0] is not threading.main_thread()
    assert held.loop_ran == [True]
    assert window.case.sessions.get(shared.session_id).kind == "review"
    qtbot.waitUntil(lambda: shared.counter.text() == "1 of 2", timeout=10_000)
    shared.try_leave(PASSPHRASE)
    qtbot.waitUntil(lambda: not shared.isVisible(), timeout=15_000)


def test_a_hidden_case_view_reads_when_it_is_shown_again(qtbot, window, monkeypatch):
    """A change while another view is in front (a shared review playing) costs the GUI thread
    nothing then; the case view reads the case when it is shown again."""
    from ui.operations import CaseOp
    from videofeedback.library import Purpose
    from videofeedback.operations import set_consent

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    view, case = window.case_view, window.case
    window.stack.setCurrentWidget(window.reel_view)
    held = _held(monkeypatch, "all")
    mother = case.participants.all()[0].id
    done = []
    CaseOp(None, case, set_consent(mother, Purpose.TRAINING, False)).success(done.append).run()
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    wait_for_operations()
    assert held.threads == []  # nothing read for a view nobody sees
    window.stack.setCurrentWidget(view)
    column = 2 + list(Purpose).index(Purpose.TRAINING)
    qtbot.waitUntil(lambda: view.consent.item(0, column).text() == "✖ withdrawn", timeout=10_000)
    assert held.threads and threading.main_thread() not in held.threads


def test_the_sign_off_dialog_reads_its_choices_off_the_gui_thread(qtbot, window, monkeypatch):
    """Which film each review showed replays the signed trail: the dialog's choices are read
    in the case's queue and the dialog opens with them."""
    from PySide6.QtWidgets import QDialog

    from ui.supervision_panel import SignOffDialog

    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    open_first_case(qtbot, window)
    panel = window.case_view.supervision
    opened: list[SignOffDialog] = []

    def look(dialog):
        opened.append(dialog)
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(SignOffDialog, "exec", look)
    held = _held(monkeypatch, "all")
    panel.sign_off()
    qtbot.waitUntil(lambda: bool(opened), timeout=10_000)
    assert held.threads and threading.main_thread() not in held.threads
    assert held.loop_ran == [True] * len(held.threads)
    assert opened[0].film.count() >= 1  # the demo's recording session
