"""Redaction plans travel through the store (docs/FORMAT.md §12.7), against the real server:
a plan made and approved on one laptop exports the same way on another; and the attacks —
a supervisor who edits a plan, a member who edits it after the approval and writes a review
in the approver's name, a store that swaps or rolls back a plan, a removed member."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import date
from fractions import Fraction

import numpy as np
import pytest

from clips.ffmpeg import ffmpeg_exe
from clips.redact.plan import RedactionPlan
from tests.team.laptops import first_laptop
from tests.team.laptops import sync as _sync
from tests.team.laptops import sync_ok as _ok
from tests.team.test_review_attacks import _patched_push, _raw_put
from videofeedback import media, redaction
from videofeedback.library.cases import Purpose, SessionKind
from videofeedback.library.errors import LibraryError
from videofeedback.redaction import ReviewPendingError
from videofeedback.team.heads import CaseNames
from videofeedback.team.plan_sync import PlanSync, plan_name
from videofeedback.team.sync import open_for_sync

W, H = 160, 120
BOX = (8.0, 8.0, 48.0, 48.0)


def _film(folder):
    out = folder / "film.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size={W}x{H}:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", "-c:v", "libx264",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(out)],
        check=True,
    )  # fmt: skip
    return out


def _plan(laptop, case_id, media_id, act):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        result = act(case)
        case.save()
        return result


def _state(laptop, case_id, media_id, user=None):
    """(digest, pending by the signed trail) of the recording's plan on ``laptop``."""
    with laptop.session(user) as (_, session):
        case = open_for_sync(session, case_id)
        plan = redaction.load_plan(case, media_id)
        return None if plan is None else (plan.digest(), redaction.review_pending(case, plan))


def _export(laptop, case_id, media_id, out):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        info = redaction.export_redacted(case, media_id, out, Purpose.FAMILY_COPY)
        case.save()
        return info


@pytest.fixture
def team(tmp_path, store):
    """pat's laptop (a) with a recording whose plan hides a drawn box and mutes a second,
    approved by pat; cat's (b, a practitioner) and sam's (s, the supervisor) synced."""
    a, case_id = first_laptop(tmp_path, store, members=("pat", "sam", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    s = a.copy(tmp_path / "lib-s", tmp_path / "state-s", "sam")
    film = _film(tmp_path)

    def make(case):
        session = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        media_id = media.import_file(case, session, film)
        redaction.save_plan(case, RedactionPlan(media_id, "30", W, H, 60, 5))
        redaction.add_box(case, media_id, Fraction(0), Fraction(2), BOX)
        redaction.mute(case, media_id, Fraction(1, 2), Fraction(1))
        redaction.approve(case, media_id)
        return media_id

    media_id = _plan(a, case_id, None, make)
    for laptop in (a, b, s):
        _ok(laptop)
    return a, b, s, case_id, media_id, film


def _frame(path, at=0.5):
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    return np.frombuffer(raw, np.uint8).reshape(H, W).astype(float)


def test_a_plan_made_and_approved_on_one_laptop_exports_the_same_on_another(team, tmp_path):
    a, b, _, case_id, media_id, film = team
    assert _state(b, case_id, media_id) == _state(a, case_id, media_id)
    assert _state(b, case_id, media_id)[1] is False  # approved, by pat's signed entry
    on_a = _export(a, case_id, media_id, tmp_path / "a.mp4")
    on_b = _export(b, case_id, media_id, tmp_path / "b.mp4")
    assert {k: on_b[k] for k in ("frames", "hidden_tracks")} == {
        k: on_a[k] for k in ("frames", "hidden_tracks")
    }
    original, fa, fb = _frame(film), _frame(tmp_path / "a.mp4"), _frame(tmp_path / "b.mp4")
    x, y, w, h = (int(v) for v in BOX)
    inside = (slice(y + 4, y + h - 4), slice(x + 4, x + w - 4))
    outside = (slice(70, 110), slice(70, 150))
    assert np.abs(fa[outside] - fb[outside]).mean() < 3  # the same film around the box
    assert np.abs(fb[inside] - original[inside]).mean() > 20  # and the box hidden on b too


def test_a_laptop_without_the_plan_refuses_the_export(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    film = _film(tmp_path)

    def make(case):
        session = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        return media.import_file(case, session, film)

    media_id = _plan(a, case_id, None, make)
    _ok(a)
    _ok(b)
    with pytest.raises(LibraryError, match="people find"):
        _export(b, case_id, media_id, tmp_path / "b.mp4")


def test_a_supervisors_edit_of_a_plan_is_merged_nowhere(team):
    a, b, s, case_id, media_id, _ = team
    approved = _state(a, case_id, media_id)

    def unhide(case):  # a patched program: the box taken out, written straight to the file
        plan = redaction.load_plan(case, media_id)
        redaction.save_plan(case, RedactionPlan(**{**plan.__dict__, "manual": ()}))

    _plan(s, case_id, media_id, unhide)
    report = _ok(s)
    assert any("outside their author's role" in n for c in report.cases for n in c.notes)
    for laptop in (a, b):
        _ok(laptop)
        assert _state(laptop, case_id, media_id) == approved
    assert _state(s, case_id, media_id, "sam") == approved  # hers reverts to the merge


def test_an_edit_after_the_approval_needs_a_new_one_whatever_review_it_carries(team, tmp_path):
    a, b, _, case_id, media_id, _ = team

    def unhide_and_forge(case):  # cat may annotate: the edit counts, the forged review not
        plan = redaction.load_plan(case, media_id)
        edited = RedactionPlan(**{**plan.__dict__, "manual": (), "reviews": ()})
        redaction.save_plan(case, edited.approved("pat", "2026-12-01T10:00:00Z"))

    _plan(b, case_id, media_id, unhide_and_forge)
    _ok(b)
    _ok(a)
    digest, pending = _state(a, case_id, media_id)
    assert digest == _state(b, case_id, media_id)[0] and pending is True
    for laptop in (a, b):
        with pytest.raises(ReviewPendingError):
            _export(laptop, case_id, media_id, tmp_path / "out.mp4")
    _plan(a, case_id, media_id, lambda case: redaction.approve(case, media_id))  # pat looks
    _ok(a)
    _ok(b)
    assert _state(b, case_id, media_id) == (digest, False)
    _export(b, case_id, media_id, tmp_path / "out.mp4")


def _plan_bytes(laptop, case_id, media_id):
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        return CaseNames.of(case.identity), redaction.plan_file(case, media_id).read_bytes()


def test_the_store_cannot_swap_or_roll_back_a_plan(team, store):
    a, b, _, case_id, media_id, _ = team
    old = _state(b, case_id, media_id)
    names, first = _plan_bytes(a, case_id, media_id)
    assert store.get(plan_name(names, media_id, _digest(first))) == first

    def second_box(case):
        redaction.add_box(case, media_id, Fraction(0), Fraction(2), (100.0, 60.0, 40.0, 40.0))
        redaction.approve(case, media_id)

    _plan(a, case_id, media_id, second_box)
    _ok(a)
    _, second = _plan_bytes(a, case_id, media_id)
    _raw_put(store, plan_name(names, media_id, _digest(second)), first)  # the older plan
    report = _sync(b)
    assert report.cases[0].error and case_id in report.cases[0].error
    assert "redaction plan" in report.cases[0].error
    # the plan there kept, untouched, but no longer exportable: the merged record names the
    # newer plan (FORMAT §12.7, "behind")
    assert _state(b, case_id, media_id) == (old[0], True)


def _digest(data):
    return hashlib.sha256(data).hexdigest()


def test_a_removed_members_plan_is_merged_nowhere(team, store):
    a, b, _, case_id, media_id, _ = team
    approved = _state(a, case_id, media_id)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        case.members.remove("cat")
        case.save()
    _ok(a)

    def unhide(case):
        plan = redaction.load_plan(case, media_id)
        redaction.save_plan(case, RedactionPlan(**{**plan.__dict__, "manual": ()}))

    _patched_push(b, case_id, store, unhide, batch=True)
    _sync(a)
    assert _state(a, case_id, media_id) == approved


def test_a_plan_record_naming_a_path_or_no_recording_is_never_written(team, store):
    a, _, _, case_id, media_id, _ = team
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        names = CaseNames.of(case.identity)
        data = redaction.plan_file(case, media_id).read_bytes()
        for key in ("../../../escaped", "m-not-a-recording"):
            _raw_put(store, plan_name(names, key, _digest(data)), data)
        sync = PlanSync(case, store, names, report=_Report(), fail=LibraryError)
        stamp = {"sha256": _digest(data), "bytes": len(data)}
        sync.settle({("plan", "../../../escaped"): {"file": stamp},
                     ("plan", "m-not-a-recording"): {"file": stamp}})  # fmt: skip
        found = {p.name for p in case.folder.parent.rglob("*escaped*")}
        found |= {p.name for p in (case.folder / "media").glob("m-not-a-recording*")}
    assert found == set()


class _Report:
    pulled = pushed = bytes_up = bytes_down = pending_media = 0

    def __init__(self):
        self.notes = []


def test_concurrent_edits_of_a_plan_are_a_conflict_that_a_member_resolves(team):
    from videofeedback.team.conflicts import list_conflicts, resolve_conflict

    a, b, _, case_id, media_id, _ = team

    def box_at(x):
        def act(case):
            redaction.add_box(case, media_id, Fraction(0), Fraction(1), (x, 60.0, 20.0, 20.0))
            redaction.approve(case, media_id)

        return act

    _plan(a, case_id, media_id, box_at(100.0))  # both offline
    _plan(b, case_id, media_id, box_at(120.0))
    by_b = _state(b, case_id, media_id)
    _ok(a)
    _ok(b)
    report = _ok(a)
    (conflict,) = report.cases[0].conflicts
    assert conflict["record"] == ["plan", media_id]
    assert _state(a, case_id, media_id) == _state(b, case_id, media_id)  # one provisional
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        (found,) = list_conflicts(case)
        mine = next(o for o in found.ops if o.author == "cat")  # pat keeps cat's version
        resolve_conflict(case, "plan", media_id, "file", mine.id)
    for laptop in (a, b, a):
        _ok(laptop)
    assert _state(a, case_id, media_id) == by_b == _state(b, case_id, media_id)
    assert not _ok(b).cases[0].conflicts


def test_a_supervisors_signed_approval_does_not_make_a_plan_exportable(team, tmp_path):
    a, b, s, case_id, media_id, _ = team

    def unhide_for_sam(case):  # cat edits, and writes a review in sam's name
        plan = redaction.load_plan(case, media_id)
        edited = RedactionPlan(**{**plan.__dict__, "manual": (), "reviews": ()})
        redaction.save_plan(case, edited.approved("sam", "2026-12-01T10:00:00Z"))
        return edited.digest()

    digest = _plan(b, case_id, media_id, unhide_for_sam)
    _ok(b)
    _ok(s)

    def approve_as_supervisor(case):  # sam's patched program signs an approval of it
        case.audit("redact.approve", media_id, digest=digest[:16], plan=digest)

    _plan(s, case_id, media_id, approve_as_supervisor)
    _ok(s)
    _ok(a)
    assert _state(a, case_id, media_id) == (digest, True)  # she may not approve
    with pytest.raises(ReviewPendingError):
        _export(a, case_id, media_id, tmp_path / "out.mp4")


def test_a_plan_edit_sealed_without_the_store_goes_up_at_the_next_sync(team, store, tmp_path):
    """pat edits and approves the plan while the store cannot be reached: his failed sync
    seals the edit (signed by him, op recorded, the plan's ciphertext kept in the outbox) and
    the plan still exports here; his next sync uploads that version, so cat's laptop gets it
    (not "not in the store yet" for ever) and exports it too."""
    from videofeedback.team.errors import StoreUnreachableError
    from videofeedback.team.remotes import Remote, save_remote
    from videofeedback.team.store import StoreLocation
    from videofeedback.team.sync import sync_library

    a, b, _, case_id, media_id, _ = team

    def second_box(case):
        redaction.add_box(case, media_id, Fraction(0), Fraction(2), (100.0, 60.0, 40.0, 40.0))
        redaction.approve(case, media_id)

    _plan(a, case_id, media_id, second_box)
    with a.session() as (library, pat):
        save_remote(
            pat, Remote("away", StoreLocation("http://127.0.0.1:9", "team"), store._credentials)
        )
        with pytest.raises(StoreUnreachableError):
            sync_library(library, pat, "away")
        outbox = library.case_folder(case_id) / "sync" / "plans"
        assert len(list(outbox.glob("*.age"))) == 1  # the sealed version, waiting
    edited = _state(a, case_id, media_id)
    assert edited[1] is False  # his own sealed edit is not "behind"
    _export(a, case_id, media_id, tmp_path / "a.mp4")
    _ok(a)
    assert not list(outbox.glob("*.age"))
    report = _sync(b)
    assert not any("not in the store yet" in n for c in report.cases for n in c.notes)
    assert _state(b, case_id, media_id) == edited
    _export(b, case_id, media_id, tmp_path / "b.mp4")
