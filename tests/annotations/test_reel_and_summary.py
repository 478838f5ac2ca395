"""Reel plans from moments, their JSON form, validation; summaries per session and case."""

import json
from datetime import date
from fractions import Fraction

import pytest

from annotations import (
    AnnotationError,
    Annotations,
    Editor,
    ReelPlan,
    TitleCard,
    default_codebook,
    plan_from,
)
from annotations.reel import with_item
from annotations.summary import case_progress, session_summary
from annotations.timebase import format_clock, parse_time, snap, to_frame


def annotated() -> tuple[Annotations, Editor]:
    model = Annotations("m-0123456789", Fraction(30), Fraction(120), default_codebook())
    editor = Editor(model, "bob")
    editor.add_moment(Fraction(10), Fraction(16), ("encouraging.waiting",), "You waited")
    editor.add_moment(Fraction(40), Fraction(43), ("receiving", "attuned.turns"), "She smiled")
    editor.add_moment(Fraction(50), None, ("guiding",), "Look here")
    editor.add_still(Fraction(41), "Her face")
    return model, editor


def test_plan_from_moments_and_stills_round_trips_as_json():
    model, _ = annotated()
    refs = [model.moments[1].id, model.stills[0].id, model.moments[0].id, model.moments[2].id]
    plan = plan_from(model, refs, TitleCard("Kasia and Ola"))
    assert [i.kind for i in plan.items] == ["clip", "still", "clip", "still"]
    assert plan.items[0].caption == "She smiled" and plan.items[1].hold == 4
    assert plan.length() == 3 + 3 + 4 + 6 + 4
    assert not plan.is_plain
    text = json.dumps(plan.to_dict())
    assert ReelPlan.from_dict(json.loads(text)) == plan
    slow = with_item(plan, 0, slow=Fraction(2))
    assert slow.length() == plan.length() + 3


def test_plain_plan_is_the_fast_path():
    model, _ = annotated()
    plan = ReelPlan(plan_from(model, [model.moments[0].id]).items, fade=Fraction(0))
    plain = with_item(plan, 0, caption="")
    assert plain.is_plain


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"kind": "clip", "media": "m-1", "start": 5, "end": 4}, "end after it starts"),
        ({"kind": "still", "media": "m-1", "time": 5, "hold": 0}, "hold of more than 0"),
        ({"kind": "clip", "media": "m-1", "start": 1, "end": 2, "slow": 9}, "from 1 to 8"),
        ({"kind": "gif", "media": "m-1", "start": 1, "end": 2}, "'clip' or 'still'"),
        ({"kind": "clip", "start": 1, "end": 2}, "malformed"),
    ],
)
def test_invalid_plans(item, message):
    with pytest.raises(AnnotationError, match=message):
        ReelPlan.from_dict({"items": [item]})


def test_plan_times_are_exact():
    plan = ReelPlan.from_dict(
        {"items": [{"kind": "clip", "media": "m-1", "start": "1001/30000", "end": 0.1}]}
    )
    assert plan.items[0].start == Fraction(1001, 30000)
    assert plan.items[0].end == Fraction(1, 10)


def test_timebase():
    assert parse_time("01:02.5") == Fraction(125, 2)
    assert parse_time("1:00:00") == 3600
    assert parse_time("1001/30000") == Fraction(1001, 30000)
    assert to_frame(Fraction(1), Fraction(30000, 1001)) == 29
    assert snap(Fraction(1001, 1000), Fraction(30)) == 1
    assert format_clock(Fraction(3723, 1)) == "1:02:03.000"
    with pytest.raises(AnnotationError):
        parse_time("soon")


def test_summaries():
    model, _ = annotated()
    totals = {t.category: t for t in session_summary(model.moments, model.codebook)}
    assert totals["encouraging"].moments == 1 and totals["encouraging"].seconds == 6
    assert totals["receiving"].moments == 1 and totals["attuned"].seconds == 3
    assert totals["guiding"].moments == 1 and totals["guiding"].seconds == 0
    assert totals["deepening"].moments == 0
    rows = case_progress(
        [(date(2026, 1, 19), model.moments), (date(2026, 1, 5), [])],
        model.codebook,
        date(2026, 1, 5),
    )
    assert [(r["week"], r["moments"]) for r in rows] == [(1, 0), (3, 3)]
