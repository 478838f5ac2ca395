"""The families this user works with, by label. Other cases stay invisible."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.eliding import elide_items
from ui.errors import show_error
from ui.jobs import Jobs
from ui.state import AppState
from videofeedback.errors import VideofeedbackError
from videofeedback.library.bundle import open_bundle
from videofeedback.library.cases import Programme, create_case, list_cases
from videofeedback.library.records import CaseListing
from videofeedback.library.roles import Action, allowed


class CasesView(QWidget):
    case_chosen = Signal(str)
    bundle_opened = Signal(object)  # OpenedBundle

    def __init__(self, state: AppState, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.jobs = state, jobs
        self.heading = QLabel("Cases")
        self.heading.setStyleSheet("font-size: 20pt; font-weight: bold")
        self.cases = QListWidget()
        elide_items(self.cases)
        self.cases.setStyleSheet("font-size: 15pt")
        self.cases.itemActivated.connect(self._on_item_activated)
        open_button = QPushButton("Open")
        open_button.setMinimumHeight(44)
        open_button.clicked.connect(self._open_current)
        self.new_button = QPushButton("New case…")
        self.new_button.setMinimumHeight(44)
        self.new_button.clicked.connect(self.new_case)
        buttons = QHBoxLayout()
        buttons.addWidget(open_button)
        buttons.addWidget(self.new_button)
        self.bundle_button = QPushButton("Open a hand-over bundle…")
        self.bundle_button.setMinimumHeight(44)
        self.bundle_button.clicked.connect(self.choose_bundle)
        buttons.addWidget(self.bundle_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.cases, 1)
        layout.addLayout(buttons)
        state.unlocked.connect(self.refresh)
        state.locked.connect(self.cases.clear)

    def refresh(self) -> None:
        user = self.state.user
        if user is None:
            return
        self.heading.setText(f"Cases of {user.name} ({user.role.value})")
        self.new_button.setVisible(allowed(user.role, Action.CREATE_CASE))
        self.jobs.start("Listing cases", lambda _: list_cases(user), self._show)

    def _show(self, cases: list[CaseListing]) -> None:
        self.cases.clear()
        for case in sorted(cases, key=lambda c: str(c.label).lower()):
            closed = f" — closed {case.closed_date}" if case.closed_date else ""
            text = f"{case.label}   ({case.programme}, since {case.start_date}){closed}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, case.id)
            self.cases.addItem(item)
        if self.cases.count():
            self.cases.setCurrentRow(0)
            self.cases.setFocus()

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.case_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def _open_current(self) -> None:
        item = self.cases.currentItem()
        if item is not None:
            self._on_item_activated(item)

    def new_case(self) -> None:
        user = self.state.user
        if user is None:
            return
        label, ok = QInputDialog.getText(
            self, "New case", "Label of the family (a pseudonym or the service's reference):"
        )
        if not ok:
            return
        try:
            case = create_case(user, label, Programme.VIG, date.today())
        except VideofeedbackError as exc:
            show_error(self, str(exc))
            return
        self.refresh()
        self.case_chosen.emit(case.id)

    def choose_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a hand-over bundle", "", "Bundles (*.vfb)"
        )
        if path:
            self.open_bundle(Path(path))

    def open_bundle(self, path: Path) -> None:
        user = self.state.user
        if user is not None:
            self.jobs.start(
                f"Opening {path.name}", lambda _: open_bundle(user, path), self.bundle_opened.emit
            )
