"""Long texts in lists end in "…" instead of widening the view or adding a sideways scroll bar;
the whole text is the item's tooltip (issue 14.4: nothing clipped at 150 %)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
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
