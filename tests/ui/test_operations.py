"""CaseOp: changes to a case run off the GUI thread, in the case's queue, and come back as one
``changes`` signal. A watchdog timer on the event loop shows the GUI thread never blocks on a
save, even of a case with 2,000 moments and 5,000 audit entries; imports dropped together
run one after another."""

from __future__ import annotations

import threading
import time
from datetime import date
from fractions import Fraction

import pytest
from PySide6.QtCore import QTimer

from annotations import Annotations, Editor
from annotations.model import Moment
from tests.ui.conftest import open_first_case, unlock
from ui.operations import CaseOp, operations, wait_for_operations
from videofeedback.library import Library, Programme, Purpose, Role, create_case
from videofeedback.library.annotating import AnnotationSession
from videofeedback.operations import Changes, save_annotations

MOMENTS, ENTRIES = 2_000, 5_000
BLOCKED_AT_MOST = 0.100  # seconds between two ticks of the event loop


@pytest.fixture(scope="module")
def big_case(tmp_path_factory):
    """A case with 5,000 audit entries and 2,000 moments on one recording."""
    folder = tmp_path_factory.mktemp("big") / "lib"
    library, alice = Library.create(folder, "alice", "alice-quiet-harbour-lantern", folder.parent / "r.age", 30)
    library.add_user(alice, "bob", Role.PRACTITIONER, "bob-quiet-harbour-lantern")
    bob = library.unlock("bob", "bob-quiet-harbour-lantern")
    case = create_case(bob, "Family B", Programme.VIG, date(2026, 1, 5))
    mother = case.participants.add("Bea", "mother")
    case.consent.set(mother, Purpose.FILMING, True)
    fill_audit(case, ENTRIES)
    case.save()
    moments = [
        Moment(f"mo-{n:05d}", Fraction(n), Fraction(2 * n + 1, 2), (), f"moment {n}", "", "bob")
        for n in range(MOMENTS)
    ]
    notes = Annotations("m-big", Fraction(30), None, None, moments)
    yield case, AnnotationSession(case, notes, Editor(notes, "bob"))
    library.close()


def fill_audit(case, count: int) -> None:
    """``count`` entries through AuditLog.append, without fsync while filling: the entries'
    durability is not what the tests here are about, and 10,000 fsyncs took ~30 s of a loaded
    disk (the save under test fsyncs as always)."""
    import os

    original = os.fsync
    os.fsync = lambda fd: None
    try:
        for n in range(count):
            case.audit("test.filler", f"x-{n}")
    finally:
        os.fsync = original


class Watchdog:
    """The longest time between two ticks of a 5 ms timer: how long the GUI thread was
    away from its event loop."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._last = time.monotonic()
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.monotonic()
        self.timer.start()


def test_a_big_save_never_blocks_the_gui_thread(qtbot, big_case):
    case, notes = big_case
    heard, threads, saved = [], [], []
    operations().changes.connect(lambda changes, _: heard.append(changes))
    original = type(case).save

    def save_watched(self):
        threads.append(threading.current_thread())
        original(self)

    type(case).save = save_watched
    watchdog = Watchdog()
    try:
        watchdog.start()
        qtbot.wait(50)
        CaseOp(None, case, save_annotations(notes)).success(saved.append).run()
        qtbot.waitUntil(lambda: bool(saved), timeout=120_000)
        qtbot.wait(50)
    finally:
        watchdog.timer.stop()
        type(case).save = original
    assert threads and threading.main_thread() not in threads  # saved on the case's thread
    assert Changes(moments=True) in heard
    stored = case.db.execute("SELECT data FROM annotations WHERE media_id = 'm-big'").fetchone()
    assert stored and stored[0].count('"id": "mo-') == MOMENTS
    assert watchdog.longest <= BLOCKED_AT_MOST, f"the GUI thread blocked {watchdog.longest:.3f} s"


def test_files_dropped_together_are_imported_one_at_a_time(qtbot, window, tmp_path, monkeypatch):
    import subprocess

    from clips.ffmpeg import ffmpeg_exe
    from videofeedback import media

    films = []
    for n in range(3):
        film = tmp_path / f"phone-{n}.mp4"
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=1",
             "-pix_fmt", "yuv420p", str(film)],
            check=True,
        )  # fmt: skip
        films.append(film)
    running, overlaps, real_import = [], [], media.import_file

    def import_watched(*args, **kwargs):
        running.append(1)
        overlaps.append(len(running))
        try:
            return real_import(*args, **kwargs)
        finally:
            running.pop()

    monkeypatch.setattr(media, "import_file", import_watched)
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    case = window.case
    before = case.db.execute("SELECT COUNT(*) FROM media").fetchone()[0]
    session = case.sessions.all()[0].id
    window.show_record(session)
    for film in films:
        window.record_view.import_file(film)
    qtbot.waitUntil(lambda: not window.jobs.running, timeout=120_000)
    assert overlaps == [1, 1, 1]  # never two at once on one case
    after = case.db.execute("SELECT COUNT(*) FROM media").fetchone()[0]
    assert after == before + 3
    report = case.verify_audit()
    assert report.valid, report.summary()


def test_the_changes_signal_refreshes_only_the_views_it_names(qtbot, window, monkeypatch):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    wait_for_operations()  # the opening's own operations deliver before the views are watched
    refreshed, comments = [], []
    monkeypatch.setattr(window.case_view, "refresh", lambda: refreshed.append(1))
    monkeypatch.setattr(window.review_view, "_show_comments", lambda: comments.append(1))
    hub = operations()
    for changes in (Changes(moments=True), Changes(audit=True), Changes()):
        hub.emit_changes(changes)
    assert refreshed == [] and comments == []  # nothing either view shows
    hub.emit_changes(Changes(consent=True))
    assert refreshed == [1] and comments == []
    hub.emit_changes(Changes(comments=True))
    assert refreshed == [1, 1] and comments == [1]
