"""The review mode's state, headless (videofeedback/redaction_review.py): what needs a look,
stepping through it, and when "Approve review" may be pressed."""

from clips.redact.plan import RedactionPlan, Stretch, Track, TrackBox
from videofeedback.library.cases import Purpose
from videofeedback.redaction_review import RedactionReview, stops_of


def _plan(*tracks, stretches=()):
    made = tuple(
        Track(name, tuple(TrackBox(f, 10, 10, 20, 20, 0.9) for f in range(first, last + 1)))
        for name, first, last in tracks
    )
    return RedactionPlan("m-1", "30", 64, 48, 100, 5, made, stretches=tuple(stretches))


def test_the_stops_are_each_tracks_start_and_end_and_each_stretch_in_time_order():
    plan = _plan(("t1", 0, 40), ("t2", 10, 90), stretches=[Stretch("t1", 20, 25, "lost")])
    assert [(s.frame, s.track, s.reason) for s in stops_of(plan)] == [
        (0, "t1", "start"), (10, "t2", "start"), (20, "t1", "lost"),
        (40, "t1", "end"), (90, "t2", "end"),
    ]  # fmt: skip


def test_stepping_marks_stops_seen_and_a_new_plan_with_other_tracks_starts_again():
    review = RedactionReview()
    heard = []
    review.events.stop.connect(heard.append)
    plan = _plan(("t1", 0, 40))
    review.show(plan, lambda p, purpose: {"t1"} if purpose == Purpose.TRAINING else set())
    assert not review.all_seen and review.visible == frozenset()
    assert review.go(1).frame == 0 and not review.all_seen
    assert review.go(1).frame == 40 and review.all_seen
    assert review.go(1).frame == 40  # stays on the last
    assert review.go(-1).frame == 0 and heard[-1] == 0
    review.show(plan.marked("t1", "other"))  # the same tracks: what was seen stays seen
    assert review.all_seen
    review.set_purpose(Purpose.TRAINING)
    assert review.visible == {"t1"}
    review.show(_plan(("t1", 0, 40), ("t2", 5, 9)))
    assert not review.all_seen and review.current is None and heard[-1] is None


def test_a_plan_with_nobody_in_it_needs_no_stepping():
    review = RedactionReview()
    review.show(_plan())
    assert review.all_seen and review.pending and review.go(1) is None
    review.show(_plan().approved("pat", "2026-12-01T10:00:00Z"))
    assert not review.pending


def test_the_selected_track_and_the_box_being_drawn_are_dropped_when_they_leave_the_plan():
    from clips.redact.plan import Keyframe, ManualBox

    review = RedactionReview()
    picked, drawing = [], []
    review.events.selected.connect(picked.append)
    review.events.drawing.connect(drawing.append)
    box = ManualBox("b1", (Keyframe(3, 1, 1, 5, 5),))
    review.show(_plan(("t1", 0, 40), ("t2", 0, 9)).with_manual(box))
    review.select("t2")
    review.draw("b1")
    review.show(_plan(("t1", 0, 40), ("t2", 0, 9)).with_manual(box))  # still there: kept
    assert (review.selected, review.drawing) == ("t2", "b1")
    review.show(_plan(("t1", 0, 40)))  # merged away, the box gone: nothing chosen
    assert (review.selected, review.drawing) == (None, None)
    assert picked == ["t2", None] and drawing == ["b1", None]
