"""A scroll area that fills its viewport with its view and scrolls only when the view's
minimum size does not fit. Qt's resizable scroll area takes the view's preferred height for
its width as a minimum as soon as a word-wrapped label is inside, so the case view scrolled
at 1366×768 with its audit table below the fold (issue 20's walkthrough)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, QTimer
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QScrollArea, QWidget

REFIT = (QEvent.Type.LayoutRequest, QEvent.Type.Resize, QEvent.Type.Show)


class FittingScrollArea(QScrollArea):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(False)  # sized here (``fit``), not by heightForWidth

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt's name
        super().setWidget(widget)
        widget.installEventFilter(self)
        self.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.widget() and event.type() in REFIT:
            # its minimum changed (a longer text, a lane more), or it was resized or shown
            # by someone else (Qt sizes a page when it is first shown): fitted again
            QTimer.singleShot(0, self.fit)
        return False

    def fit(self) -> None:
        view = self.widget()
        if view is not None:
            size = fitted(view, self.maximumViewportSize(), self.scrollbar_room())
            if size != view.size():
                view.resize(size)

    def scrollbar_room(self) -> QSize:
        return QSize(
            self.verticalScrollBar().sizeHint().width(),
            self.horizontalScrollBar().sizeHint().height(),
        )


def fitted(view: QWidget, room: QSize, bars: QSize) -> QSize:
    """The view's size in ``room``: all of it, never less than its minimum (less a scrollbar's
    width or height where the other direction scrolls)."""
    need = view.minimumSizeHint().expandedTo(view.minimumSize())
    width, height = room.width(), room.height()
    if need.height() > height:
        width -= bars.width()
    if need.width() > width:
        height -= bars.height()
    return QSize(max(width, need.width()), max(height, need.height()))
