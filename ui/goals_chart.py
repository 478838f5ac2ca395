"""A small chart of goal attainment scores (−2 … +2) over time, one line per goal."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from videofeedback.library.records import Goal

COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
MARGIN = 28


class GoalsChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.goals: list[Goal] = []
        self.setMinimumHeight(160)

    def set_goals(self, goals: list[Goal]) -> None:
        self.goals = list(goals)
        self.update()

    def dates(self) -> list[date]:
        found = {s.date for g in self.goals for s in g.scores}
        return sorted(found)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("white"))
        width, height = self.width() - 2 * MARGIN, self.height() - 2 * MARGIN - 16 * len(self.goals)
        if height < 20:
            return

        def y_of(score: int) -> float:
            return MARGIN + (2 - score) / 4 * height

        painter.setPen(QColor("#bbbbbb"))
        for score in range(-2, 3):
            painter.drawLine(QPointF(MARGIN, y_of(score)), QPointF(MARGIN + width, y_of(score)))
            painter.drawText(QPointF(4, y_of(score) + 4), f"{score:+d}")
        days = self.dates()
        if not days:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No goal scores yet")
            return
        first, span = days[0], max((days[-1] - days[0]).days, 1)

        def x_of(day: date) -> float:
            return MARGIN + (day - first).days / span * width

        for index, goal in enumerate(self.goals):
            colour = QColor(COLOURS[index % len(COLOURS)])
            painter.setPen(QPen(colour, 2))
            points = [QPointF(x_of(s.date), y_of(s.score)) for s in goal.scores]
            for a, b in zip(points, points[1:], strict=False):
                painter.drawLine(a, b)
            for point in points:
                painter.drawEllipse(point, 3, 3)
            painter.drawText(QPointF(MARGIN, MARGIN + height + 22 + 16 * index), goal.text)
