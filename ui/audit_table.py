"""The case's audit trail as a table for the supervisor: who did what, when (exports
included), newest first, filtered by person, by action and by any text in the entry."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from videofeedback.library.audit import AuditEntry

EVERYONE = "Everyone"
ALL_ACTIONS = "All actions"
COLUMNS = ("When (UTC)", "Who", "What", "On", "Details")


def entry_row(entry: AuditEntry) -> tuple[str, str, str, str, str]:
    """One entry as the table shows it (the time to the second, UTC)."""
    when = entry.time.replace("T", " ")[:19]
    details = ", ".join(f"{key} {value}" for key, value in sorted(entry.detail.items()))
    return when, entry.user, entry.action, entry.object, details


def matches(entry: AuditEntry, user: str, action: str, text: str) -> bool:
    """``user``/``action`` "" for any; ``text`` anywhere in the row, in any case."""
    if user and entry.user != user:
        return False
    if action and entry.action != action:
        return False
    needle = text.strip().lower()
    return not needle or any(needle in cell.lower() for cell in entry_row(entry))


class AuditTable(QWidget):
    """The entries (``show_entries``), newest first, and three filters above them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[AuditEntry] = []
        self.user = QComboBox()
        self.action = QComboBox()
        self.text = QLineEdit()
        self.text.setPlaceholderText("Filter: any text in the entry")
        self.text.setClearButtonEnabled(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(90)
        for combo in (self.user, self.action):
            combo.activated.connect(self.apply_filter)
        self.text.textChanged.connect(self.apply_filter)
        filters = QHBoxLayout()
        filters.addWidget(self.user)
        filters.addWidget(self.action)
        filters.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        self.show_entries([])

    def show_entries(self, entries: Sequence[AuditEntry]) -> None:
        """The trail as read now; the filters chosen stay chosen."""
        self.entries = sorted(entries, key=lambda e: e.seq, reverse=True)
        _fill(self.user, EVERYONE, sorted({e.user for e in self.entries}))
        _fill(self.action, ALL_ACTIONS, sorted({e.action for e in self.entries}))
        self.apply_filter()

    def chosen(self) -> tuple[str, str, str]:
        user, action = self.user.currentData() or "", self.action.currentData() or ""
        return user, action, self.text.text()

    def shown(self) -> list[AuditEntry]:
        user, action, text = self.chosen()
        return [e for e in self.entries if matches(e, user, action, text)]

    def apply_filter(self, *_: object) -> None:
        rows = self.shown()
        self.table.setRowCount(len(rows))
        for number, entry in enumerate(rows):
            for column, value in enumerate(entry_row(entry)):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.table.setItem(number, column, item)


def _fill(combo: QComboBox, everything: str, values: list[str]) -> None:
    """The combo's choices; the current one is kept if it is still there."""
    current = combo.currentData() or ""
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(everything, "")
    for value in values:
        combo.addItem(value, value)
    combo.setCurrentIndex(max(combo.findData(current), 0) if current else 0)
    combo.blockSignals(False)
