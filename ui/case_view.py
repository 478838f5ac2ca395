"""One family's case: participants and consent at a glance, sessions with their recordings,
and the goals with their scores over time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
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
from videofeedback.exports import safe_file_name
from videofeedback.library.cases import Case, Purpose, SessionKind
from videofeedback.library.overview import CaseOverview, SessionOverview, case_overview
from videofeedback.library.records import ConsentRow, MediaRecord, Participant, Session
from videofeedback.library.roles import Action, allowed
from videofeedback.library.sessions import session_title
from videofeedback.media import export_for_family
from videofeedback.operations import Changes, new_session, set_consent
from videofeedback.reels import RECORDINGS, reel_label
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
    reel_requested = Signal(str)  # the recording's media id: open the reel builder on it
    shared_review_requested = Signal(str)  # the reel's media id
    closed = Signal()

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.case: Case | None = None
        self.showing: Case | None = None  # the case whose overview the widgets show
        self.sessions_shown: tuple[SessionOverview, ...] = ()  # as last read, for the buttons
        self._stale = False  # changed while hidden
        self.wanted: str | None = None  # a session or media to select when next shown
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
        self.sessions.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.goals = GoalsChart()
        self.buttons = {
            "new": QPushButton("New recording session"),
            "record": QPushButton("Record / import…"),
            "review": QPushButton("Review and annotate"),
            "reel": QPushButton("Edit reel…"),
            "shared": QPushButton("Shared review…"),
            "family": QPushButton("Family copy…"),
            "report": QPushButton("Session report (PDF)…"),
        }
        self.buttons["new"].clicked.connect(lambda: self.new_recording_session())
        self.buttons["record"].clicked.connect(self._record_selected)
        self.buttons["review"].clicked.connect(self._review_selected)
        self.buttons["reel"].clicked.connect(self._reel_of_selected)
        self.buttons["shared"].clicked.connect(self._shared_review_of_selected)
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
        self.button_grid = buttons = QGridLayout()  # two rows: 1280×720 at 150 % (issue 14.4)
        for index, button in enumerate(self.buttons.values()):
            button.setMinimumHeight(44)
            buttons.addWidget(button, index // 4, index % 4)
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
        self.buttons["reel"].setVisible(allowed(role, Action.BUILD_REEL))
        self.buttons["shared"].setVisible(allowed(role, Action.RUN_REVIEW))
        self.buttons["family"].setVisible(allowed(role, Action.EXPORT))
        self._place_buttons()
        self.refresh()
        self.supervision.show_case(case)

    def _place_buttons(self) -> None:
        """The buttons this role has, four to a row: a supervisor's two share one row (each
        had a row of its own, and the audit table showed three entries at 1280×720)."""
        shown = [b for b in self.buttons.values() if b.isVisibleTo(self)]
        for button in self.buttons.values():
            self.button_grid.removeWidget(button)
        for index, button in enumerate(shown):
            self.button_grid.addWidget(button, index // 4, index % 4)

    def clear(self) -> None:
        self.case = self.showing = None
        self.sessions_shown = ()
        self.title.clear()
        self.details.clear()
        self.consent.setRowCount(0)
        self.sessions.blockSignals(True)
        self.sessions.clear()
        self.sessions.blockSignals(False)
        self._update_buttons()
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
        chosen = self._selected()
        wanted = self.wanted or (chosen[1] if chosen is not None else None)
        self.wanted = None
        self.sessions_shown = tuple(sessions)
        self.sessions.blockSignals(True)  # no currentItemChanged for items being deleted
        try:
            self._fill_sessions(sessions)
        finally:
            self.sessions.blockSignals(False)
        if wanted is not None:  # the selection survives a refresh
            self._select(wanted)
        self._update_buttons()

    def _fill_sessions(self, sessions: Sequence[SessionOverview]) -> None:
        self.sessions.clear()
        for shown in sessions:
            session = shown.session
            when = session.date.isoformat()
            details = when + (f" · {session.notes}" if session.notes else "")
            item = QTreeWidgetItem([session_title(session), session.kind.value, details])
            item.setData(0, ID_ROLE, ("session", session.id, session.kind.value))
            for record in shown.media:
                child = QTreeWidgetItem([record.kind, "", _media_details(record)])
                child.setData(0, ID_ROLE, ("media", record.id, record.kind))
                item.addChild(child)
            self.sessions.addTopLevelItem(item)
        self.sessions.expandAll()
        for column in range(3):
            self.sessions.resizeColumnToContents(column)

    def _select(self, ident: str) -> None:
        """Select the row of ``ident`` again. (No QTreeWidgetItemIterator: the model keeps a
        pointer to every iterator, and PySide's ``+=`` leaves one behind that ``clear()``
        then follows: a segfault.)"""
        tree = self.sessions
        for index in range(tree.topLevelItemCount()):
            top = tree.topLevelItem(index)
            if top is None:
                continue
            rows = [top, *(top.child(c) for c in range(top.childCount()))]
            for item in rows:
                if item is not None and item.data(0, ID_ROLE)[1] == ident:
                    tree.setCurrentItem(item)
                    return

    # --- what the selection offers -------------------------------------------------------

    def _selected(self) -> tuple[str, str, str] | None:
        item = self.sessions.currentItem()
        return item.data(0, ID_ROLE) if item is not None else None

    def _shown_around(self) -> SessionOverview | None:
        """The selected session (as last read), or the session of the selected media."""
        item = self.sessions.currentItem()
        if item is None or self.case is None:
            return None
        top = item.parent() or item
        ident = top.data(0, ID_ROLE)[1]
        return next((s for s in self.sessions_shown if s.session.id == ident), None)

    def _session_around(self) -> Session | None:
        shown = self._shown_around()
        return shown.session if shown is not None else None

    def _recording_around(self) -> str | None:
        """The selected recording, or the (first) recording of the session around."""
        chosen, shown = self._selected(), self._shown_around()
        if chosen and chosen[0] == "media" and chosen[2] in RECORDINGS:
            return chosen[1]
        if shown is None:
            return None
        film = next((r for r in shown.media if r.kind in RECORDINGS), None)
        return film.id if film else None

    def _reel_around(self) -> str | None:
        """The selected reel, the reel a selected shared review showed, or the newest reel of
        the session around."""
        chosen, shown = self._selected(), self._shown_around()
        if chosen and chosen[0] == "media" and chosen[2] == "reel":
            return chosen[1]
        if shown is None:
            return None
        if shown.session.reel:  # a shared review: the reel it showed
            return shown.session.reel
        reels = [r for r in shown.media if r.kind == "reel"]
        return reels[-1].id if reels else None

    def _exported_media(self) -> str | None:
        """The family copy's film: the selected reel or recording, else the session's reel."""
        chosen = self._selected()
        if chosen and chosen[0] == "media" and chosen[2] != "still":
            return chosen[1]
        return self._reel_around()

    def _recording_session(self) -> str | None:
        session = self._session_around()
        return session.id if session and session.kind == SessionKind.RECORDING else None

    def _update_buttons(self) -> None:
        """Each button greyed, with what it needs as its tooltip, until the selection has it."""
        needs = {
            "record": (self._recording_session(), "Select a recording session (or make one)"),
            "review": (self._recording_around(), "Select a session with a recording"),
            "reel": (self._recording_around(), "Select a session with a recording"),
            "shared": (self._reel_around(), "Select a session with a reel (build one first)"),
            "family": (self._exported_media(), "Select a reel or a recording"),
            "report": (self._session_around(), "Select a session"),
        }
        for name, (found, need) in needs.items():
            button = self.buttons[name]
            button.setEnabled(found is not None)
            button.setToolTip("" if found is not None else need)

    # --- actions -------------------------------------------------------------------------

    def new_recording_session(self, title: str | None = None) -> None:
        """Asks for the session's title (unless given), then makes it and opens the record
        page on it."""
        if self.case is None:
            return
        if title is None:
            self.title_dialog = ask_session_title(self, self._default_title())
            self.title_dialog.textValueSelected.connect(self.new_recording_session)
            return
        if not title.strip():
            show_error(self, "a session needs a title, e.g. 'Play with blocks'")
            return
        op = new_session(SessionKind.RECORDING, date.today(), title=title)
        CaseOp(self, self.case, op).success(self.record_requested.emit).run()

    def _default_title(self) -> str:
        taken = {s.session.title for s in self.sessions_shown}
        number = 1
        while (title := DEFAULT_TITLE + (f" {number}" if number > 1 else "")) in taken:
            number += 1
        return title

    def _record_selected(self) -> None:
        session = self._recording_session()
        if session is not None:
            self.record_requested.emit(session)

    def _review_selected(self) -> None:
        recording = self._recording_around()
        if recording is not None:
            self.review_requested.emit(recording)

    def _reel_of_selected(self) -> None:
        recording = self._recording_around()
        if recording is not None:
            self.reel_requested.emit(recording)

    def _shared_review_of_selected(self) -> None:
        reel = self._reel_around()
        if reel is not None:
            self.shared_review_requested.emit(reel)

    def _family_copy_of_selected(self) -> None:
        media_id = self._exported_media()
        if self.case is None or media_id is None:
            return
        session = next(
            (s.session for s in self.sessions_shown if any(r.id == media_id for r in s.media)),
            None,
        )
        if session is None:
            return
        self._export(
            media_id,
            FAMILY_WARNING,
            ("Family copy", self._file_name(session, [], "mp4"), "MP4 (*.mp4)"),
            ("Writing the family copy", export_for_family),
        )

    def _report_of_selected(self) -> None:
        session = self._session_around()
        if session is None:
            return
        self._export(
            session.id,
            REPORT_WARNING,
            ("Session report", self._file_name(session, ["report"], "pdf"), "PDF (*.pdf)"),
            ("Writing the session report", export_report),
        )

    def _file_name(self, session: Session, extra: list[str], extension: str) -> str:
        """ "Family A – Play with blocks – 2026-12-01.mp4" in the Documents folder."""
        assert self.case is not None
        parts = [self.case.label, session_title(session), session.date.isoformat(), *extra]
        documents = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        folder = Path(documents) if documents and Path(documents).is_dir() else Path.home()
        return str(folder / safe_file_name(parts, extension))

    def _export(
        self,
        ident: str,
        warning: str,
        dialog: tuple[str, str, str],
        job: tuple[str, Callable[[Case, str, Path], dict[str, Any]]],
    ) -> None:
        """A plaintext copy out of the library: after a warning, to a chosen file, in a job;
        when it is written, a note that offers to show it in its folder."""
        if self.case is None or not confirm_plaintext(self, warning):
            return
        title, name, pattern = dialog
        out, _ = QFileDialog.getSaveFileName(self, title, name, pattern)
        if out:
            case, (what, export) = self.case, job
            self.jobs.start(
                what,
                lambda _: _saved(case, export(case, ident, Path(out))),
                lambda _: self._exported(Path(out)),
                case=case,
                changes=Changes(audit=True),
            )

    def _exported(self, out: Path) -> None:
        self.export_done = show_exported(self, out)

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


DEFAULT_TITLE = "Play with blocks"


def ask_session_title(parent: QWidget, default: str) -> QInputDialog:
    """ "What is this session called?", the default chosen so typing replaces it (open, not
    exec: the window goes on; the answer comes by ``textValueSelected``)."""
    dialog = QInputDialog(parent)
    dialog.setObjectName("sessionTitleDialog")
    dialog.setWindowTitle("New recording session")
    dialog.setLabelText("What is this session called? (e.g. what you will film)")
    dialog.setTextValue(default)
    dialog.setOkButtonText("Create and record")
    dialog.open()
    return dialog


def show_exported(parent: QWidget, out: Path) -> QMessageBox:
    """ "Written to …" with "Show in folder" (opens the folder in the system's file manager)."""
    box = QMessageBox(
        QMessageBox.Icon.Information,
        "Export written",
        f"Written to {out.name}, in {out.parent}",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    box.setObjectName("exportDone")
    show = box.addButton("Show in folder", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    show.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(out.parent))))
    box.open()
    return box


def _media_details(record: MediaRecord) -> str:
    """A reel: "Final · 4 items · 20 s"; a recording: its length, state and markers."""
    if record.kind == "reel":
        return reel_label(record)
    details = record.info
    seconds = float(record.duration or 0)
    markers = len(details.get("markers", []))
    text = f"{int(seconds // 60)} min {seconds % 60:.0f} s · {details.get('state')}"
    return f"{text} · {markers} markers"


def _saved(case: Case, result: dict[str, Any]) -> dict[str, Any]:
    case.save()  # signs the export's audit entry
    return result
