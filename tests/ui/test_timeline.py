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
