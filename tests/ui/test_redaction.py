"""Redaction in the app, driven as a person does: Find people (a job), a real mouse click on a
box over the video and "who is this?", the family copy refused while the review is pending
(the message the person sees), the review mode stepped through with N, a mute from the in and
out marks, Approve review; then the family copy hides the brother. Nothing of the film
(frames, crops, thumbnails) is written in plaintext, in TMPDIR or in the library."""

import tempfile
import time
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tests import plaintext
from tests.media.redact_scenes import GRACE, two_people
from tests.ui.conftest import open_first_case, unlock
from videofeedback import media, redaction
from videofeedback.library.cases import Purpose, SessionKind
from videofeedback.operations import runner_for

pytestmark = pytest.mark.skipif(not GRACE.exists(), reason=f"no faces corpus at {GRACE.parent}")
#: Plaintext a leak of the film would hold: MP4 and PNG (tests/plaintext.py), JPEG (JFIF),
#: and the H.264 the scene was written with (x264's "ftypisom" box).
LEAKS = (*plaintext.MEDIA, b"\xff\xd8\xff\xe0\x00\x10JFIF", b"ftypisom")


def _add_film(case, folder: Path):
    """The older brother (filming consent only) and a film of him and the mother imported."""
    film = two_people(fps=30).write(folder / "two.mp4")

    def setup(case):
        theo = case.participants.add("Theodore", "older brother")
        case.consent.set(theo, Purpose.FILMING, True)
        session = case.sessions.new(SessionKind.RECORDING, date.today(), "Home visit")
        media_id = media.import_file(case, session, film)
        case.save()
        return theo, media_id

    try:
        return runner_for(case).job(setup).result()
    finally:
        film.unlink()


def _case_with_film(qtbot, window, folder: Path):
    """Unlocked, the first case open, ``_add_film`` imported from ``folder``: (case, the
    brother's participant id, media id)."""
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    folder.mkdir(exist_ok=True)
    return (window.case, *_add_film(window.case, folder))


def _mark_in_out(qtbot, review, first, last):
    """The in mark at ``first``, the out mark at ``last`` (the keys I and O)."""
    for frame, key in ((first, Qt.Key.Key_I), (last, Qt.Key.Key_O)):
        review.player.seek_frame(frame)
        qtbot.waitUntil(lambda f=frame: review.player.frame() == f, timeout=10_000)
        qtbot.keyClick(review, key)


def _select_media(window, media_id):
    tree = window.case_view.sessions
    for index in range(tree.topLevelItemCount()):
        session = tree.topLevelItem(index)
        for child in range(session.childCount()):
            if session.child(child).data(0, Qt.ItemDataRole.UserRole)[1] == media_id:
                tree.setCurrentItem(session.child(child))
                return True
    return False


def _open(qtbot, window, media_id):
    window.case_view.refresh()  # read in the case's queue, then shown
    qtbot.waitUntil(lambda: _select_media(window, media_id), timeout=30_000)
    window.case_view.buttons["review"].click()
    review = window.review_view
    qtbot.waitUntil(lambda: review.notes is not None, timeout=30_000)
    qtbot.waitUntil(lambda: review.player.duration() > 0, timeout=15_000)
    return review


def _click_box_and_say(qtbot, panel, track_id, who_id):
    overlay = panel.overlay
    [rect] = [r for t, r, _ in overlay.boxes() if t == track_id]
    qtbot.mouseClick(overlay, Qt.MouseButton.LeftButton, pos=rect.center().toPoint())
    qtbot.waitUntil(lambda: panel.who is not None and panel.who.isVisible(), timeout=5_000)
    button = panel.who.findChild(type(panel.find_button), f"who-{who_id}")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.review.plan.mark_of(track_id) == who_id, timeout=10_000)


def _family_copy(qtbot, window, media_id, out, monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    window.case_view.refresh()  # read in the case's queue, then shown
    qtbot.waitUntil(lambda: _select_media(window, media_id), timeout=30_000)
    window.case_view.buttons["family"].click()


def _leaks(folders, since):
    found = []
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime >= since:
                data = path.read_bytes()
                found += [(str(path), m) for m in LEAKS if m in data]
    return found


def test_find_name_review_mute_approve_then_the_family_copy_hides_the_brother(
    qtbot, window, library, tmp_path, monkeypatch
):
    case, theo, media_id = _case_with_film(qtbot, window, tmp_path / "film")
    mother = next(p.id for p in case.participants.all() if p.role == "parent")
    started = time.time() - 1  # everything the test writes is newer

    review = _open(qtbot, window, media_id)
    panel = review.redaction
    assert panel.status.text() == "People not looked for yet"
    qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.review.plan is not None, timeout=120_000)
    plan = panel.review.plan
    assert len(plan.tracks) == 2 and panel.lane.plan is plan
    left, right = sorted(plan.tracks, key=lambda t: t.boxes[0].x)

    review.player.seek_frame(20)
    qtbot.waitUntil(lambda: panel.overlay.frame == 20, timeout=10_000)
    assert [hidden for _, _, hidden in panel.overlay.boxes()] == [True, True]  # nobody named
    _click_box_and_say(qtbot, panel, right.id, theo)
    _click_box_and_say(qtbot, panel, left.id, mother)
    shown = {t: not hidden for t, _, hidden in panel.overlay.boxes()}
    assert shown == {left.id: True, right.id: False}  # he has no family-copy consent
    panel.purpose.setCurrentText(Purpose.SUPERVISION.value)
    assert panel.overlay.visible == {left.id}

    review.close_media()
    out = tmp_path / "family.mp4"
    _family_copy(qtbot, window, media_id, out, monkeypatch)
    qtbot.waitUntil(lambda: bool(_dialogs(window)), timeout=30_000)
    assert "not been reviewed since it last changed" in _dialogs(window)[0].text()
    _dialogs(window)[0].close()
    assert not out.exists()

    review = _open(qtbot, window, media_id)
    panel = review.redaction
    assert panel.review.plan.mark_of(right.id) == theo  # stored: read back from the case
    _mark_in_out(qtbot, review, 30, 44)
    qtbot.mouseClick(panel.mute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.review.plan.mutes) == 1, timeout=10_000)
    assert len(panel.lane.band.ranges()) == 1
    assert panel.review.plan.mutes[0].seconds() == (1, 1.5)
    review.player.seek_frame(36)
    qtbot.waitUntil(lambda: review.player.frame() == 36, timeout=10_000)
    qtbot.mouseClick(panel.unmute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.review.plan.mutes, timeout=10_000)
    assert panel.lane.band.ranges() == []
    qtbot.mouseClick(panel.bleep_button, Qt.MouseButton.LeftButton)  # the marks were used
    qtbot.waitUntil(lambda: bool(_dialogs(review)), timeout=5_000)
    assert "set the in and out marks" in _dialogs(review)[0].text()
    _dialogs(review)[0].close()

    assert not panel.approve_button.isEnabled()  # nothing looked at yet
    qtbot.mouseClick(panel.mode_button, Qt.MouseButton.LeftButton)
    stops = panel.review.stops
    assert len(stops) >= 4  # each track's start and end at least
    for index in range(1, len(stops)):
        qtbot.keyClick(review, Qt.Key.Key_N)
        qtbot.waitUntil(lambda i=index: review.player.frame() == stops[i].frame, timeout=10_000)
    qtbot.keyClick(review, Qt.Key.Key_P)
    assert panel.review.current == len(stops) - 2 and panel.review.all_seen
    qtbot.mouseClick(panel.approve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.review.pending, timeout=10_000)
    assert "reviewed" in panel.status.text()
    entries = case.audit_log().entries([case.identity])
    assert [e for e in entries if e.action == "redact.approve" and e.object == media_id]

    review.close_media()
    _family_copy(qtbot, window, media_id, out, monkeypatch)
    qtbot.waitUntil(lambda: out.exists() and not window.jobs.running, timeout=120_000)
    done = [e for e in case.audit_log().entries([case.identity]) if e.action == "media.export"]
    assert done[-1].detail["to"] == "family-copy" and done[-1].detail["hidden"] == "1"
    out.unlink()

    assert _leaks([tempfile.gettempdir(), library], started) == []


def _dialogs(widget):
    return [w for w in widget.window().findChildren(QMessageBox) if w.isVisible()]


def test_find_people_shows_progress_and_cancel_keeps_the_plan_as_it_was(qtbot, window):
    """The demo's 30 s recording (its empty plan approved in tests/ui/conftest.py): Find
    people is a job with progress; Cancel stops it and the stored plan is untouched."""
    from tests.ui.conftest import open_review

    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    panel = review.redaction
    before = panel.review.plan
    assert before is not None and not panel.review.pending
    progress = []
    started = []
    window.jobs.started.connect(lambda job: started.append(job))
    qtbot.mouseClick(panel.find_button, Qt.MouseButton.LeftButton)
    [job] = started
    job.progressed.connect(progress.append)
    qtbot.waitUntil(lambda: bool(progress), timeout=60_000)
    with qtbot.waitSignal(job.cancelled, timeout=60_000):
        window.jobs.cancel_all()
    case = window.case
    assert redaction.load_plan(case, before.media) == before
    assert 0 < progress[-1] < 1
    finds = [e for e in case.audit_log().entries([case.identity]) if e.action == "redact.find"]
    assert len(finds) == 1  # the template's own run only


def test_a_review_written_into_the_plan_without_a_signed_approval_shows_pending(
    qtbot, window, tmp_path
):
    """A plan file that says "approved by pat" (synced from a member who edited it, say) with
    no ``redact.approve`` of that digest in the signed trail: the panel says review pending
    and the family copy is refused (docs/FORMAT.md §12.7)."""
    from clips.redact.plan import RedactionPlan

    case, _, media_id = _case_with_film(qtbot, window, tmp_path / "film")

    def forge(case):
        record = case.media.get(media_id)
        plan = RedactionPlan(media_id, "30", record.size[0], record.size[1], 30, 5)
        redaction.save_plan(case, plan.approved("pat", "2026-12-01T10:00:00Z"))
        return redaction.review_pending(case, redaction.load_plan(case, media_id))

    assert runner_for(case).job(forge).result() is True
    panel = _open(qtbot, window, media_id).redaction
    qtbot.waitUntil(lambda: panel.review.plan is not None, timeout=10_000)
    assert panel.status.text().endswith("review pending"), panel.status.text()
