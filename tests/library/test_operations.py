"""Operations serialised per case (videofeedback.operations): many threads and jobs on one
case at once (imports, moments, a parent's words and goals — comments are a supervisor's, and
one user holds a case —, consent changes, draft reels), repeated: every operation's audit
entry is there, the trail verifies, no change is lost."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import date
from fractions import Fraction

import pytest

from annotations.reel import ReelItem, ReelPlan
from clips.ffmpeg import ffmpeg_exe
from videofeedback import media
from videofeedback.library import Purpose, SessionKind, open_case
from videofeedback.library.annotating import open_annotations
from videofeedback.library.errors import NotFoundError, PermissionDeniedError
from videofeedback.operations import (
    NOTHING,
    Changes,
    Outcome,
    add_comment,
    add_goal,
    add_parent_words,
    runner_for,
    save_annotations,
    set_consent,
)

ROUNDS = 2
COMMENTS = MOMENTS = CONSENTS = 8


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    path = tmp_path_factory.mktemp("film") / "phone.mp4"
    subprocess.run(
        [
            ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=30:d=2",
            "-f", "lavfi", "-i", "sine=f=440:r=48000:d=2", "-pix_fmt", "yuv420p",
            "-c:v", "libx264", "-c:a", "aac", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def test_an_operation_saves_once_and_gives_its_value(world, family):
    case, mother = family
    saves = []
    original = type(case).save
    runner = runner_for(case)
    assert runner_for(case) is runner  # one queue per case
    try:
        type(case).save = lambda self: saves.append(1) or original(self)
        batch = runner.batch([add_goal("one"), add_goal("two")])
        assert len(batch.result().value) == 2 and saves == [1]  # a batch saves once
        assert runner.run(lambda c: NOTHING).value is None and saves == [1]  # nothing: no save
        outcome = runner.run(lambda c: Outcome(Changes(goals=True), c.goals.add("walk")))
        assert outcome.value.startswith("g") and saves == [1, 1]
    finally:
        type(case).save = original
    with pytest.raises(NotFoundError, match="no participant p-nobody"):
        runner.run(set_consent("p-nobody", Purpose.TRAINING, True))
    with pytest.raises(PermissionDeniedError, match="may not comment"):  # a practitioner
        runner.run(add_comment(case.id, "a supervisor's job"))


def test_a_failed_operation_leaves_the_database_as_it_was(world, family):
    case, _ = family
    before = case.supervision.comments()

    def half_done(c):
        c.db.execute("INSERT INTO comments VALUES ('k-x', 't', 'text', 'bob', 'now')")
        raise ValueError("failed after writing")

    with pytest.raises(ValueError):
        runner_for(case).run(half_done)
    assert case.supervision.comments() == before


def test_many_threads_and_jobs_on_one_case_lose_nothing(world, family, film):
    case, mother = family
    case.consent.set(mother, Purpose.SHARED_REVIEW, True)
    session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 2, 1))
    case.save()
    runner = runner_for(case)
    for _ in range(ROUNDS):
        _one_round(case, runner, mother, session_id, film)
    reopened = open_case(world.bob, case.id)  # what was stored: every change, a valid trail
    reopened.save()  # signs the entry of this opening
    assert {g.id for g in reopened.goals.all()} == {g.id for g in case.goals.all()}
    report = reopened.verify_audit()
    assert report.valid, report.summary()


def _one_round(case, runner, mother, session_id, film):
    notes = runner.read(lambda c: open_annotations(c, _first_or_import(c, session_id, film)))
    notes = notes.result()
    before = _actions(case)
    errors: list[BaseException] = []
    comment_ids: list[str] = []
    media_ids: list[str] = []
    reels: list[str] = []

    def comments():
        for n in range(COMMENTS):
            comment_ids.append(runner.run(add_parent_words(session_id, "item", f"w {n}")).value)
            comment_ids.append(runner.run(add_goal(f"goal {n}")).value)

    def consents():
        for n in range(CONSENTS):
            runner.run(set_consent(mother, Purpose.TRAINING, n % 2 == 0))

    def moments():
        for n in range(MOMENTS):
            notes.editor.add_moment(Fraction(n, 10), Fraction(n + 1, 10))
            runner.submit(save_annotations(notes))  # not waited for: queued behind the others

    def imports():
        for _ in range(2):
            job = runner.job(lambda c: _import(c, session_id, film))
            media_ids.append(job.result())

    def reel():
        plan = ReelPlan((ReelItem("clip", notes.annotations.media_id, Fraction(0), Fraction(1)),))
        reels.append(runner.job(lambda c: _draft(c, session_id, plan)).result())

    def guarded(work):
        def run():
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - the test reports it
                errors.append(exc)

        return run

    threads = [
        threading.Thread(target=guarded(w))
        for w in (comments, consents, moments, imports, imports, reel)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runner.read(lambda c: None).result()  # everything queued has run
    assert not errors, errors
    after = _actions(case)
    added = {action: after.get(action, 0) - before.get(action, 0) for action in after}
    assert added["review.words"] == added["goal.add"] == COMMENTS
    assert added["consent.give"] + added["consent.withdraw"] == CONSENTS
    assert added["media.import"] == 4
    assert added["media.reel"] == added["reel.build"] == len(reels) == 1
    stored = {g.id for g in case.goals.all()}
    stored |= {r[0] for r in case.db.execute("SELECT id FROM parent_words")}
    assert set(comment_ids) <= stored
    entries = case.audit_log().entries([case.identity])
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))  # none overwritten
    objects = {e.object for e in entries}
    assert set(comment_ids) | set(media_ids) | set(reels) <= objects
    row = case.db.execute(
        "SELECT data FROM annotations WHERE media_id = ?", (notes.annotations.media_id,)
    ).fetchone()
    saved = {m["id"] for m in json.loads(row[0])["moments"]}
    assert {m.id for m in notes.annotations.moments} == saved  # the last save has every moment
    report = case.verify_audit()
    assert report.valid, report.summary()


def _actions(case) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in case.audit_log().entries([case.identity]):
        counts[entry.action] = counts.get(entry.action, 0) + 1
    return counts


def _import(case, session_id, film) -> str:
    media_id = media.import_file(case, session_id, film)
    case.save()
    return media_id


def _first_or_import(case, session_id, film) -> str:
    row = case.db.execute("SELECT id FROM media WHERE kind = 'import' LIMIT 1").fetchone()
    return row[0] if row else _import(case, session_id, film)


def _draft(case, session_id, plan) -> str:
    reel_id = media.draft_reel(case, session_id, plan)
    case.save()
    return reel_id
