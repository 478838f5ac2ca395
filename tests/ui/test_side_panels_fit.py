"""Panels that scroll only up and down (the review's side panel, the case view's tabs) must
not be wider than the room they get: their horizontal scrollbar is off, so what does not fit
is cut off unseen (the code palette's "2  Encouraging initiatives" cut off the caption and
"Delete moment" at 1280×720; found in the screenshots)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QScrollArea

from tests.ui.conftest import open_first_case, open_review, unlock

SCREENS = [(1280, 720), (1366, 768)]
SCALES = [1.0, 1.5]


def _cut_off(view) -> dict[str, tuple[int, int]]:
    cut = {}
    for area in view.findChildren(QScrollArea):
        if area.horizontalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            continue
        if not area.isVisible() or area.widget() is None:
            continue
        need = area.widget().minimumSizeHint().width()
        room = area.viewport().width()
        if need > room:
            cut[type(area.widget()).__name__] = (need, room)
    return cut


def test_no_side_panel_is_cut_off_sideways(qtbot, window):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    open_review(qtbot, window)
    review = window.review_view
    qtbot.waitUntil(lambda: len(review.editor.codes.buttons) == 6, timeout=10_000)
    cut = {}
    for width, height in SCREENS:
        for scale in SCALES:
            window.resize(int(width / scale), int(height / scale))
            for _ in range(3):
                QApplication.processEvents()
            for name, sizes in _cut_off(review).items():
                cut[f"{name} {width}×{height} {scale:.0%}"] = sizes
    assert not cut, f"panels wider than their room (needed, room): {cut}"
    texts = [b.text() for b in review.editor.codes.buttons.values()]
    assert [t[0] for t in texts] == list("123456")  # elided, never without the key
    assert any(t.endswith("…") for t in texts), texts  # 150 %: elided, not cut off
    tips = [b.toolTip() for b in review.editor.codes.buttons.values()]
    assert "Encouraging initiatives (key 2)" in tips
    review.close_media()


def test_a_supervisors_case_buttons_share_one_row(qtbot, window):
    """Sam has two of the case view's seven buttons: they sit side by side, not a row each
    (two rows of one button took the audit table's room at 1280×720)."""
    unlock(qtbot, window, "sam", "sam-demo-passphrase")
    open_first_case(qtbot, window)
    view = window.case_view
    shown = [b for b in view.buttons.values() if b.isVisible()]
    assert [b.text() for b in shown] == ["Review and annotate", "Session report (PDF)…"]
    assert shown[0].y() == shown[1].y() and shown[0].x() < shown[1].x()
    window.state.lock()
    unlock(qtbot, window)  # pat again: all seven, four to a row, none left out
    open_first_case(qtbot, window)
    rows = {b.y() for b in view.buttons.values() if b.isVisible()}
    assert len([b for b in view.buttons.values() if b.isVisible()]) == 7 and len(rows) == 2
