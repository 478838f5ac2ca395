"""Fitting small screens (issue 14.4: nothing clipped at 1280×720, nor at 150 %): long texts in
lists end in "…" with the whole text as the item's tooltip, and panels that scroll up and down
on their own instead of making the whole view taller than the screen."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
)
from PySide6.QtGui import QHelpEvent, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QToolTip,
    QWidget,
)


class FullTextTooltips(QStyledItemDelegate):
    """Shows an item's whole text as its tooltip when it has no tooltip of its own."""

    def helpEvent(  # noqa: N802 - Qt's name
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if event.type() == QEvent.Type.ToolTip and not index.data(Qt.ItemDataRole.ToolTipRole):
            text = index.data(Qt.ItemDataRole.DisplayRole)
            if text:
                QToolTip.showText(event.globalPos(), str(text), view)
                return True
        return super().helpEvent(event, view, option, index)


def elide_items(view: QAbstractItemView) -> None:
    """Items' texts elided at the right edge, whole in their tooltips; no sideways scrolling."""
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setItemDelegate(FullTextTooltips(view))


def tooltip_text(model: QAbstractItemModel, row: int) -> str:
    """What an item's tooltip shows (for tests): its own tooltip, else its whole text."""
    index = model.index(row, 0)
    return str(index.data(Qt.ItemDataRole.ToolTipRole) or index.data(Qt.ItemDataRole.DisplayRole))


def scrolling_panel(panel: QWidget, min_width: int = 0) -> QScrollArea:
    """``panel`` in an area that scrolls up and down (never sideways): on a low screen the
    rest of the view keeps its height instead of the whole view scrolling."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click in the panel leaves the view's keys
    if min_width:  # the panel's width, and the scrollbar's beside it (at 150 % the redaction
        # buttons' rows were cut off by the scrollbar's 14 px)
        bar = area.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        area.setMinimumWidth(min_width + bar)
    area.setWidget(panel)
    return area


class ElidedLabel(QLabel):
    """One line of plain text that ends in "…" when the label is narrower than the text (a
    word-wrapped label's height depends on its width, which layouts do not ask for: at 150 % it
    pushed into the widgets above it); the whole text is the tooltip."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.fontMetrics().horizontalAdvance("…") * 4
        return QSize(width, super().minimumSizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.drawText(rect, int(self.alignment()), text)


class ElidedToolButton(QToolButton):
    """A tool button whose text ends in "…" when the button is narrower than it (the code
    palette's two columns in the review's side panel: "2  Encouraging initiatives" made the
    panel wider than its 300 px and cut off the caption and "Delete moment"); the whole text
    is the tooltip unless one is set."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        if not self.toolTip():
            self.setToolTip(text)
        self.setText(text)
        if self.isVisible():  # else when it is laid out and shown (resizeEvent)
            self._elide()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.fontMetrics().horizontalAdvance(self.full_text) + self._chrome()
        return QSize(width, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.fontMetrics().horizontalAdvance("1  …") + self._chrome()
        return QSize(width, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._elide()

    def _chrome(self) -> int:
        """The width beside the text: padding, and the menu's arrow when there is one."""
        menu = 20 if self.popupMode() == QToolButton.ToolButtonPopupMode.MenuButtonPopup else 0
        return 16 + menu

    def _elide(self) -> None:
        room = max(self.width() - self._chrome(), 0)
        text = self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, room)
        if text != self.text():
            self.setText(text)
