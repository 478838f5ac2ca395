"""The timeline's geometry, zoom and waveform columns, and what clicks on it do."""

from fractions import Fraction

import numpy as np
from PySide6.QtCore import QPoint, Qt

from annotations import builtin_codebook
from annotations.model import Moment
from clips.overview import Peaks
from ui.timeline import (
    HEIGHT,
    MAX_PIXELS_PER_FRAME,
    RULER,
    STRIP,
    WAVE,
    Timeline,
    TimelineData,
    column_peaks,
)


def test_column_peaks_take_min_and_max_under_each_pixel():
    minimum = np.array([-1, -5, -2, -9, -3, -4], np.int16)
    maximum = np.array([1, 5, 2, 9, 3, 4], np.int16)
    peaks = Peaks(2, minimum, maximum)  # 2 buckets a second: 3 s
    low, high = column_peaks(peaks, 0.0, 1.0, 3)  # one pixel a second
    assert low.tolist() == [-5, -9, -4] and high.tolist() == [5, 9, 4]
    low, high = column_peaks(peaks, 1.0, 4.0, 4)  # zoomed in: one bucket spans two pixels
    assert high.tolist() == [2, 2, 9, 9]
    low, high = column_peaks(peaks, 0.0, 1.0, 10)  # wider than the recording
    assert len(high) == 3


def _timeline(qtbot, seconds=60):
    timeline = Timeline()
    qtbot.addWidget(timeline)
    timeline.resize(600, HEIGHT)
    timeline.set_data(TimelineData(duration=Fraction(seconds), fps=Fraction(30)))
    return timeline


def test_zoom_goes_from_the_whole_session_to_single_frames(qtbot):
    timeline = _timeline(qtbot)
    assert timeline.pixels_per_second == 10  # 600 px for 60 s
    assert timeline.time_at(300) == 30
    for _ in range(20):
        timeline.zoom(2, around=30.0)
    assert timeline.pixels_per_second == 30 * MAX_PIXELS_PER_FRAME
    assert abs(timeline.x_of(30) - 300) < 1  # zoomed around the anchor, which stays put
    assert timeline.time_at(timeline.x_of(Fraction(901, 30)) + 1) == Fraction(901, 30)
    for _ in range(20):
        timeline.zoom(0.5)
    assert timeline.pixels_per_second == 10 and timeline.offset == 0


def test_clicks_select_a_moment_or_seek(qtbot):
    timeline = _timeline(qtbot)
    moment = Moment("mo-1", Fraction(10), Fraction(20), ("attentive",))
    timeline.set_annotations([moment], [], builtin_codebook("vig"))
    assert timeline.colour_of(moment).name() == "#e69f00"
    y = RULER + STRIP + WAVE + 10
    with qtbot.waitSignal(timeline.moment_selected) as selected:
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(150, y))
    assert selected.args == ["mo-1"]
    with qtbot.waitSignal(timeline.seek_requested) as sought:
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(400, 30))
    assert sought.args == [Fraction(40)]
    timeline.set_playhead(Fraction(59))
    timeline.grab()  # paints every layer without error


def test_one_moment_changed_repaints_only_where_it_was_and_is(qtbot, monkeypatch):
    """Bound to the annotations and the review state, the timeline follows each event and
    asks to repaint only the rectangles it changed (never the whole widget)."""
    from annotations import Annotations, Editor
    from annotations.review_state import ReviewState

    timeline = _timeline(qtbot)
    book = builtin_codebook("vig")
    model = Annotations("m-1", Fraction(30), Fraction(60), book)
    editor = Editor(model, "pat")
    for n in range(50):
        editor.add_moment(Fraction(n), Fraction(n) + Fraction(1, 2), ("attentive",))
    timeline.watch(model)
    state = ReviewState()
    timeline.bind(state)
    asked = []
    monkeypatch.setattr(timeline, "update", lambda *area: asked.append(area))
    changed = model.moments[30]
    editor.trim(changed.id, Fraction(40), Fraction(41))
    assert len(asked) == 2 and all(area for area in asked)  # old and new place, not all
    old, new = (area[0] for area in asked)
    assert old.left() <= timeline.x_of(30) <= old.right()
    assert new.left() <= timeline.x_of(40) <= new.right() and new.width() < 30
    assert changed.id in [m.id for m in timeline.moments_between(40, 41)]
    assert timeline.moments == sorted(timeline.moments, key=lambda m: (m.start, m.end, m.id))
    asked.clear()
    state.selected = changed.id
    state.playhead = Fraction(5)
    state.mark_in(Fraction(2))
    assert asked and all(area and area[0].width() < 40 for area in asked)
    asked.clear()
    state.show_lanes(["pat", "sam"], set())
    assert asked == [()]  # lanes change every moment's height: everything
    editor.undo()
    assert [m.start for m in timeline.moments].count(Fraction(30)) == 1
    monkeypatch.undo()
    state.zoom_by(4)  # the state's zoom is a factor over "all of it fits"
    assert timeline.pixels_per_second == 4 * timeline.fit_pixels_per_second()
    state.zoom_by(1000)  # clamped at 16 px a frame, and the state hears how far it went
    assert state.zoom == timeline.max_pixels_per_second() / timeline.fit_pixels_per_second()
    timeline.zoom_fit()
    assert state.zoom == 1.0
    timeline.grab()  # paints (a part, then all) without error
