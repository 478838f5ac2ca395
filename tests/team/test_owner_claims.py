"""Owner claims ordered by causality, not by a claimed Lamport clock (team/admission.py
``_owners``, FORMAT §12.3): a supervisor cannot take over a practitioner's moment by
claiming it with a low clock. Real SeaweedFS, real crypto."""

from __future__ import annotations

from fractions import Fraction

import pytest

from tests.team.laptops import fake_recording, first_laptop
from tests.team.laptops import sync as _sync
from tests.team.laptops import sync_ok as _ok
from videofeedback.library.annotating import open_annotations
from videofeedback.team import case_files
from videofeedback.team.case_sync import CaseSync
from videofeedback.team.merge import Op, merge, op_id
from videofeedback.team.sync import open_for_sync


@pytest.fixture
def moment(tmp_path, store):
    """pat's moment on a recording (laptop a), synced to sam's laptop (b, a supervisor)."""
    a, case_id = first_laptop(tmp_path, store, members=("pat", "sam"))
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        media_id = fake_recording(case)
        case.save()
        work = open_annotations(open_for_sync(pat, case_id), media_id)
        work.editor.add_moment(Fraction(2), Fraction(3), caption="pat's caption")
        work.save()
    for laptop in (a, b):
        _ok(laptop)
    return a, b, case_id, media_id


def _steal(laptop, case_id, media_id):
    """sam's patched program: a batch claiming pat's moment ("coder" = sam) with Lamport 1,
    lower than pat's claim, and rewriting its caption (replacing pat's)."""
    with laptop.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        engine = CaseSync(case, None)
        merged = merge(engine.ops())
        record = next(r for r in merged.doc if r[0] == "moment")
        caption = merged.frontier[(record, "caption")]
        high = merged.lamport + 1
        engine.write_batch(
            [
                Op(op_id(1, engine.device, 0), record, "coder", "sam", (), "sam"),
                Op(
                    op_id(high, engine.device, 1),
                    record,
                    "caption",
                    "sam's caption",
                    tuple(o.id for o in caption),
                    "sam",
                ),
            ]
        )
        case.save()  # a change here: the next sync is not skipped as quiet


def _moments(laptop, case_id, media_id):
    with laptop.session() as (_, session):
        work = open_annotations(open_for_sync(session, case_id), media_id)
        return [(m.coder, m.caption) for m in work.annotations.moments]


def test_a_low_lamport_claim_does_not_take_over_a_moment_its_writer_had_seen(moment):
    a, b, case_id, media_id = moment
    _steal(b, case_id, media_id)
    assert _sync(b).cases[0].pushed
    _sync(a)
    assert _moments(a, case_id, media_id) == [("pat", "pat's caption")]
    assert _moments(b, case_id, media_id) == [("pat", "pat's caption")]


def test_a_claim_that_hides_what_its_writer_had_seen_is_disputed_not_taken(moment, monkeypatch):
    """The same with the batch's signed ``seen`` emptied (claiming not to have seen pat's
    moment): the claims are concurrent, so nobody owns the moment; sam's caption is still
    not merged, and pat (a practitioner: any coding is hers to change) keeps hers."""
    a, b, case_id, media_id = moment
    monkeypatch.setattr(case_files, "seen_vector", lambda *_: "")
    _steal(b, case_id, media_id)
    monkeypatch.undo()
    report = _sync(b)
    _sync(a)
    assert _moments(a, case_id, media_id) == [("pat", "pat's caption")]
    assert any("nobody owns it" in n for c in report.cases for n in c.notes), report.to_json()
