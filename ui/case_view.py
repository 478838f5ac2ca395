"""One family's case: participants and consent at a glance, sessions with their recordings,
and the goals with their scores over time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.eliding import scrolling_panel
from ui.errors import show_error
from ui.goals_chart import GoalsChart
from ui.jobs import Jobs
from ui.operations import CaseOp, CaseQuery, operations
from ui.supervision_panel import SupervisionPanel
from videofeedback.library.cases import Case, Purpose, SessionKind
from videofeedback.library.overview import CaseOverview, SessionOverview, case_overview
from videofeedback.library.records import ConsentRow, Participant
from videofeedback.library.roles import Action, allowed
from videofeedback.media import export_for_family
from videofeedback.operations import Changes, new_session, set_consent
from videofeedback.report import export_report

CONSENT_LOOK = {
    "given": ("✔ given", "#c8e6c9"),
    "withdrawn": ("✖ withdrawn", "#ffcdd2"),
    "not asked": ("– not asked", "#eeeeee"),
}
ID_ROLE = Qt.ItemDataRole.UserRole
SHOWN: tuple[str, ...] = ("consent", "participants", "sessions", "goals", "media", "reels")
SHOWN += ("members", "comments", "signoffs")  # the last two: the supervision panel's


class CaseView(QWidget):
    record_requested = Signal(str)  # session id
    review_requested = Signal(str)  # media id
    closed = Signal()

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.case: Case | None = None
        self.showing: Case | None = None  # the case whose overview the widgets show
        self._stale = False  # changed while hidden
        self.supervision = SupervisionPanel(jobs)
        operations().changes.connect(self._on_changes)
        self.title = QLabel("")
        self.title.setStyleSheet("font-size: 20pt; font-weight: bold")
        self.details = QLabel("")
        self.consent = QTableWidget(0, 2 + len(Purpose))
        self.consent.setHorizontalHeaderLabels(["Name", "Role", *[p.value for p in Purpose]])
        self.consent.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.consent.cellDoubleClicked.connect(self._on_consent_double_clicked)
        self.sessions = QTreeWidget()
        self.sessions.setHeaderLabels(["Session", "Kind", "Details"])
        self.sessions.itemActivated.connect(self._on_session_activated)
        self.goals = GoalsChart()
        self.buttons = {
            "new": QPushButton("New recording session"),
            "record": QPushButton("Record / import…"),
            "review": QPushButton("Review and annotate"),
            "family": QPushButton("Family copy…"),
            "report": QPushButton("Session report (PDF)…"),
        }
        self.buttons["new"].clicked.connect(self.new_recording_session)
        self.buttons["record"].clicked.connect(self._record_selected)
        self.buttons["review"].clicked.connect(self._review_selected)
        self.buttons["family"].clicked.connect(self._family_copy_of_selected)
        self.buttons["report"].clicked.connect(self._report_of_selected)
        self._build()

    def show_page(self, page: QWidget) -> None:
        """Bring the tab holding ``page`` to the front (each page scrolls in its own area)."""
        for index in range(self.tabs.count()):
            area = self.tabs.widget(index)
            if area is page or (isinstance(area, QScrollArea) and area.widget() is page):
                self.tabs.setCurrentIndex(index)
                return

    def _build(self) -> None:
        back = QPushButton("All cases")
        back.clicked.connect(self.closed.emit)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(back)
        buttons = QHBoxLayout()
        for button in self.buttons.values():
            button.setMinimumHeight(44)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.details)
        layout.addWidget(
            QLabel("<b>Participants and consent</b> (double-click to record a change)")
        )
        layout.addWidget(self.consent)
        layout.addWidget(QLabel("<b>Sessions</b>"))
        layout.addWidget(self.sessions, 2)
        layout.addLayout(buttons)
        self.tabs = QTabWidget()  # its pages scroll on their own: the view fits 1280×720
        self.tabs.addTab(scrolling_panel(self.goals), "Goals (attainment, −2 to +2)")
        self.tabs.addTab(scrolling_panel(self.supervision), "Supervision and audit trail")
        layout.addWidget(self.tabs, 3)

    def show_case(self, case: Case) -> None:
        self.case = case
        role = case.session.role
        self.buttons["new"].setVisible(allowed(role, Action.CREATE_SESSION))
        self.buttons["record"].setVisible(allowed(role, Action.RECORD))
        self.buttons["family"].setVisible(allowed(role, Action.EXPORT))
        self.refresh()
        self.supervision.show_case(case)

    def clear(self) -> None:
        self.case = self.showing = None
        self.title.clear()
        self.details.clear()
        self.consent.setRowCount(0)
        self.sessions.clear()
        self.goals.set_goals([])
        self.supervision.show_case(None)

    def refresh(self) -> None:
        """Read what the view shows in the case's queue (never on the GUI thread), then show
        it, unless another case is shown by then."""
        case = self.case
        if case is None:
            return
        self._stale = False
        CaseQuery(self, case, case_overview).success(lambda seen: self._show(case, seen)).run()
        self.supervision.refresh()

    def _show(self, case: Case, seen: CaseOverview) -> None:
        if case is not self.case:
            return
        self.title.setText(seen.label)
        members = ", ".join(f"{m.user} ({m.role})" for m in seen.members)
        closed = f" · closed {seen.closed_date}" if seen.closed_date else ""
        since = f"{seen.programme} since {seen.start_date}"
        self.details.setText(f"{since}{closed} · members: {members}")
        self._show_consent(seen.participants, seen.consent)
        self._show_sessions(seen.sessions)
        self.goals.set_goals(list(seen.goals))
        self.showing = case

    def _on_changes(self, changes: Changes, _initiator: object) -> None:
        if self.case is None or not any(getattr(changes, name) for name in SHOWN):
            return
        if self.isVisibleTo(self.window()):
            self.refresh()
        else:  # another view is in front (a shared review playing): refresh when shown
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale and self.case is not None:
            self._stale = False
            self.refresh()

    def _show_consent(
        self, people: Sequence[Participant], table: Sequence[ConsentRow]
    ) -> None:
        self.consent.setRowCount(len(people))
        for row, (person, consent) in enumerate(zip(people, table, strict=True)):
            name = QTableWidgetItem(person.name)
            name.setData(ID_ROLE, person.id)
            self.consent.setItem(row, 0, name)
            self.consent.setItem(row, 1, QTableWidgetItem(person.role))
            for column, purpose in enumerate(Purpose, start=2):
                text, colour = CONSENT_LOOK[consent.status[purpose]]
                cell = QTableWidgetItem(text)
                cell.setBackground(QColor(colour))
                self.consent.setItem(row, column, cell)
        self.consent.resizeColumnsToContents()
        self._fit_consent_rows()

    def _fit_consent_rows(self, most: int = 4) -> None:
        """As high as its rows (up to ``most``, then it scrolls): the space is the sessions'
        and the tabs' (at 1280×720 a taller table cut off the tabs)."""
        table = self.consent
        rows = sum(table.rowHeight(row) for row in range(min(table.rowCount(), most)))
        frame = 2 * table.frameWidth()
        table.setMaximumHeight(table.horizontalHeader().height() + max(rows, 30) + frame + 2)

    def _show_sessions(self, sessions: Sequence[SessionOverview]) -> None:
        self.sessions.clear()
        for shown in sessions:
            session = shown.session
            item = QTreeWidgetItem([session.date.isoformat(), session.kind, session.notes])
            item.setData(0, ID_ROLE, ("session", session.id, session.kind.value))
            for record in shown.media:
                details = record.info
                seconds = float(record.duration or 0)
                markers = len(details.get("markers", []))
                text = f"{int(seconds // 60)} min {seconds % 60:.0f} s · {details.get('state')}"
                child = QTreeWidgetItem(
                    [record.kind, record.id, f"{text} · {markers} markers"]
                )
                child.setData(0, ID_ROLE, ("media", record.id, record.kind))
                item.addChild(child)
            self.sessions.addTopLevelItem(item)
        self.sessions.expandAll()
        for column in range(3):
            self.sessions.resizeColumnToContents(column)

    # --- actions -------------------------------------------------------------------------

    def _selected(self) -> tuple[str, str, str] | None:
        item = self.sessions.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def new_recording_session(self) -> None:
        if self.case is None:
            return
        op = new_session(SessionKind.RECORDING, date.today())
        CaseOp(self, self.case, op).success(self.record_requested.emit).run()

    def _record_selected(self) -> None:
        chosen = self._selected()
        if chosen and chosen[0] == "session" and chosen[2] == SessionKind.RECORDING.value:
            self.record_requested.emit(chosen[1])
        else:
            show_error(self, "choose a recording session first (or make a new one)")

    def _review_selected(self) -> None:
        chosen = self._selected()
        if chosen and chosen[0] == "media":
            self.review_requested.emit(chosen[1])
        else:
            show_error(self, "choose a recording under its session first")

    def _family_copy_of_selected(self) -> None:
        self._export_selected(
            "media",
            "choose the reel (or recording) to give the family first",
            FAMILY_WARNING,
            ("Family copy", "{}.mp4", "MP4 (*.mp4)"),
            ("Writing the family copy", export_for_family),
        )

    def _report_of_selected(self) -> None:
        self._export_selected(
            "session",
            "choose the session to report on first",
            REPORT_WARNING,
            ("Session report", "report.pdf", "PDF (*.pdf)"),
            ("Writing the session report", export_report),
        )

    def _export_selected(
        self,
        kind: str,
        choose_first: str,
        warning: str,
        dialog: tuple[str, str, str],
        job: tuple[str, Callable[[Case, str, Path], dict[str, Any]]],
    ) -> None:
        """A plaintext copy out of the library: after a warning, to a chosen file, in a job."""
        chosen = self._selected()
        if self.case is None or not chosen or chosen[0] != kind:
            show_error(self, choose_first)
            return
        if not confirm_plaintext(self, warning):
            return
        title, name, pattern = dialog
        out, _ = QFileDialog.getSaveFileName(self, title, name.format(chosen[1]), pattern)
        if out:
            case, ident, (what, export) = self.case, chosen[1], job
            self.jobs.start(
                what,
                lambda _: _saved(case, export(case, ident, Path(out))),
                case=case,
                changes=Changes(audit=True),
            )

    def _on_session_activated(self, item: QTreeWidgetItem) -> None:
        kind, ident, _ = item.data(0, ID_ROLE)
        if kind == "media":
            self.review_requested.emit(ident)

    def _on_consent_double_clicked(self, row: int, column: int) -> None:
        if self.case is None or column < 2:
            return
        purpose = list(Purpose)[column - 2]
        person = self.consent.item(row, 0)
        if person is None:
            return
        status = self.case.consent.status(person.data(ID_ROLE), purpose)  # the model, not the cell
        given = status is not None and status.status == "given"
        verb = "withdraws" if given else "gives"
        answer = QMessageBox.question(
            self, "Consent", f"Record that {person.text()} {verb} consent to {purpose.value}?"
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        op = set_consent(person.data(ID_ROLE), purpose, not given)
        CaseOp(self, self.case, op).failure(self._refused).run()

    def _refused(self, message: str) -> None:
        show_error(self, message)
        self.refresh()


FAMILY_WARNING = (
    "The family copy is a plain, unencrypted video that anyone holding the file can watch. "
    "Give it to the family only, on their own device. It is recorded in the audit trail."
)
REPORT_WARNING = (
    "The report is written as an unencrypted PDF for the case record: keep it only where "
    "case records belong. It is recorded in the audit trail."
)


def confirm_plaintext(parent: QWidget, warning: str) -> bool:
    answer = QMessageBox.warning(
        parent,
        "Leaving the encrypted library",
        warning,
        QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel,
    )
    return answer == QMessageBox.StandardButton.Ok


def _saved(case: Case, result: dict[str, Any]) -> dict[str, Any]:
    case.save()  # signs the export's audit entry
    return result
