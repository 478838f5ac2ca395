"""Supervision in the case view: the audit trail's verification shown plainly, comments,
signed sign-offs of a cycle (a film and its shared review), and the hand-over bundle."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.audit_table import AuditTable
from ui.eliding import elide_items
from ui.errors import show_error
from ui.jobs import Jobs
from ui.operations import CaseOp, CaseQuery, operations
from videofeedback.library.audit import AuditEntry, AuditReport
from videofeedback.library.bundle import export_bundle
from videofeedback.library.cases import Case
from videofeedback.library.records import Comment, Signoff
from videofeedback.library.roles import Action, Role, allowed
from videofeedback.library.supervision import SignOffChoices, sign_off_choices
from videofeedback.operations import Changes, Operation, add_comment, sign_off

VALID_STYLE = "font-size: 15pt; font-weight: bold; color: #2e7d32"
BROKEN_STYLE = "font-size: 15pt; font-weight: bold; color: #c62828"


def audit_text(report: AuditReport) -> str:
    if report.valid:
        return f"✔ The audit trail is valid: {report.entries} entries, every one signed."
    first = report.problems[0]
    return (
        f"✖ The audit trail is NOT valid: it breaks at entry {first.position} "
        f"({first.message}); {len(report.problems)} problem(s) in all."
    )


Read = tuple[list[Comment], list[Signoff], dict[str, str]]


def _bundle_choices(case: Case) -> tuple[list[str], list[str]]:
    """The supervisors who are members (from the signed trail), and the films to hand over."""
    members = case.members.names()
    supervisors = [
        name
        for name, user in case.session.library.manifest.users.items()
        if user.role == Role.SUPERVISOR.value and name in members and not user.removed
    ]
    media = [r[0] for r in case.db.execute("SELECT id FROM media WHERE kind != 'still'")]
    return supervisors, media


def _comments_and_signoffs(case: Case) -> Read:
    """Comments, sign-offs and what their ids are in words (sessions by title, moments by
    time), read together in the case's queue."""
    comments, signoffs = case.supervision.comments(), case.supervision.signoffs()
    ids = {c.target for c in comments}
    ids |= {s.recording_session for s in signoffs} | {s.review_session for s in signoffs}
    return comments, signoffs, {ident: case.describe(ident) for ident in ids}


def read_trail(case: Case) -> tuple[AuditReport, list[AuditEntry]]:
    """The verification and the entries, read in the case's queue (nothing changes meanwhile)."""
    return case.verify_audit(), case.audit_log().entries([case.identity])


def dated(when: str) -> str:
    """An ISO time as "2026-12-01 10:20" (to the minute)."""
    return when.replace("T", " ")[:16]


class SupervisionPanel(QWidget):
    changed = Signal()

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.case: Case | None = None
        self.audit = QLabel("")
        self.audit.setWordWrap(True)
        self.problems = QListWidget()
        elide_items(self.problems)
        self.problems.setMaximumHeight(80)
        self.trail = AuditTable()
        self._reading = False  # a read of the trail is under way
        self._read_again = False  # …and something changed since it began
        self._stale = False  # something changed while the panel was hidden
        self.comments = QListWidget()
        elide_items(self.comments)
        self.signoffs = QListWidget()
        elide_items(self.signoffs)
        self.buttons = {
            "verify": QPushButton("Verify the audit trail"),
            "signoff": QPushButton("Sign off a cycle…"),
            "comment": QPushButton("Comment on the case…"),
            "bundle": QPushButton("Hand-over bundle for a supervisor…"),
        }
        self.buttons["verify"].clicked.connect(self.verify)
        self.buttons["signoff"].clicked.connect(self.sign_off)
        self.buttons["comment"].clicked.connect(self.comment)
        self.buttons["bundle"].clicked.connect(self.export_bundle)
        row = QHBoxLayout()
        for button in self.buttons.values():
            button.setMinimumHeight(40)
            row.addWidget(button)
        for tall in (self.trail.table, self.comments, self.signoffs):
            # they take the room there is and ask for none: the case view fits the screen
            tall.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
            tall.setMinimumHeight(60)
        audit = QVBoxLayout()  # the verification, and beside it who did what, when
        audit.addWidget(self.audit)
        audit.addWidget(self.problems)
        audit.addWidget(self.trail, 1)
        self.lists = QTabWidget()  # comments and sign-offs, one above the other would not fit
        self.lists.addTab(self.comments, "Comments")
        self.lists.addTab(self.signoffs, "Sign-offs")
        columns = QHBoxLayout()
        columns.addLayout(audit, 3)
        columns.addWidget(self.lists, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addLayout(row)
        operations().changes.connect(self._on_changes)

    def show_case(self, case: Case | None) -> None:
        self.case = case
        self.audit.setText("")
        self.problems.clear()
        self.problems.hide()
        self.trail.show_entries([])
        self.refresh()
        if case is not None:
            role = case.session.role
            self.buttons["signoff"].setVisible(allowed(role, Action.SIGN_OFF))
            self.buttons["comment"].setVisible(allowed(role, Action.COMMENT))
            self.buttons["bundle"].setVisible(allowed(role, Action.EXPORT))
            self.verify()

    def refresh(self) -> None:
        """Comments and sign-offs, read in the case's queue (not on the GUI thread)."""
        case = self.case
        if case is None:
            self._show_lists(None, [], [], {})
            return
        CaseQuery(self, case, _comments_and_signoffs).success(
            lambda found: self._show_lists(case, *found)
        ).run()

    def _show_lists(
        self,
        case: Case | None,
        comments: list[Comment],
        signoffs: list[Signoff],
        names: dict[str, str],
    ) -> None:
        if case is not self.case:
            return
        self.comments.clear()
        self.signoffs.clear()
        for comment in comments:
            self.comments.addItem(
                f"{dated(comment.created_at)} {comment.author} on "
                f"{names.get(comment.target, comment.target)}: {comment.text}"
            )
        for row in signoffs:
            mark = "✔ signature valid" if row.valid else "✖ signature NOT valid"
            self.signoffs.addItem(
                f"{row.signed_at[:10]} {row.signed_by}: film "
                f"{names.get(row.recording_session, row.recording_session)} + review "
                f"{names.get(row.review_session, row.review_session)} — {mark}"
            )
        self.lists.setTabText(0, f"Comments ({self.comments.count()})")
        self.lists.setTabText(1, f"Sign-offs ({self.signoffs.count()})")

    # --- actions -------------------------------------------------------------------------

    def verify(self) -> None:
        """Verify the trail and read its entries, in the case's queue, off the GUI thread (a
        read under way is followed by one more, so the last change is always shown)."""
        case = self.case
        if case is None:
            return
        if self._reading:
            self._read_again = True
            return
        self._reading, self._read_again = True, False
        read = CaseQuery(self, case, read_trail).success(lambda got: self._on_trail_read(case, got))
        try:
            read.failure(lambda message: self._on_trail_failed(case, message)).run()
        except RuntimeError as exc:  # the case was closed meanwhile (locked): nothing to read
            self._on_trail_failed(case, str(exc))

    def _on_changes(self, _changes: Changes, _initiator: object) -> None:
        """Any change to a case may have added an entry: the count and the table follow (at
        once when shown; when next shown otherwise, since each read verifies the trail)."""
        if self.case is None:
            return
        if self.isVisible():
            self.verify()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale and self.case is not None:
            self._stale = False
            self.verify()

    def _on_trail_read(self, case: Case, read: tuple[AuditReport, list[AuditEntry]]) -> None:
        self._reading = False
        if case is self.case:
            report, entries = read
            self._show(report)
            self.trail.show_entries(entries)
        if self._read_again or (self.case is not None and case is not self.case):
            self.verify()

    def _on_trail_failed(self, case: Case, message: str) -> None:
        self._reading = False
        if case is self.case:
            self.audit.setText(f"✖ The audit trail could not be read: {message}")
            self.audit.setStyleSheet(BROKEN_STYLE)

    def _show(self, report: AuditReport) -> None:
        self.audit.setText(audit_text(report))
        self.audit.setStyleSheet(VALID_STYLE if report.valid else BROKEN_STYLE)
        self.problems.clear()
        for problem in report.problems:
            self.problems.addItem(f"at entry {problem.position}: {problem.message}")
        self.problems.setVisible(not report.valid)

    def comment(self) -> None:
        if self.case is None:
            return
        text, ok = QInputDialog.getMultiLineText(self, "Comment", "Your comment on this case:")
        if ok:
            self.case_op(add_comment(self.case.id, text))

    def sign_off(self) -> None:
        if self.case is None:
            return
        # what it offers is read in the case's queue (the film of each review replays the
        # signed trail): never on the GUI thread
        CaseQuery(self, self.case, sign_off_choices).success(self._ask_sign_off).run()

    def _ask_sign_off(self, choices: SignOffChoices) -> None:
        dialog = SignOffDialog(choices, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            film, review = dialog.chosen()
            self.case_op(sign_off(film, review))

    def export_bundle(self) -> None:
        case = self.case
        if case is not None:  # who may receive it is read in the case's queue (the trail)
            CaseQuery(self, case, _bundle_choices).success(
                lambda found: self._ask_bundle(case, *found)
            ).run()

    def _ask_bundle(self, case: Case, supervisors: list[str], media: list[str]) -> None:
        if case is not self.case:
            return
        if not supervisors:
            show_error(self, "no supervisor is a member of this case; add one first")
            return
        to, ok = QInputDialog.getItem(self, "Hand-over bundle", "For:", supervisors, 0, False)
        if not ok:
            return
        out, _ = QFileDialog.getSaveFileName(self, "Save the bundle", f"{case.id}-for-{to}.vfb")
        if out:
            self.jobs.start(
                "Writing the hand-over bundle",
                lambda _: export_bundle(case, to, Path(out), media),
                lambda _: self.changed.emit(),
                case=case,
                changes=Changes(audit=True),
            )

    def case_op(self, op: Operation) -> None:
        """Run ``op`` on the case's queue; the views refresh through the changes signal."""
        assert self.case is not None
        CaseOp(self, self.case, op).success(lambda _: self.changed.emit()).run()


class SignOffDialog(QDialog):
    """Choose the shared review and its film: the newest review first, and its film chosen
    with it (the film whose reel it showed); a review of another film is refused here, before
    the core refuses it too."""

    def __init__(self, choices: SignOffChoices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices = choices
        self.setWindowTitle("Sign off a cycle")
        self.film = QComboBox()
        self.review = QComboBox()
        for film in choices.films:
            self.film.addItem(choices.labels[film], film)
        for review in choices.reviews:  # the newest review first: the one just held
            self.review.addItem(choices.labels[review], review)
        self.problem = QLabel("")
        self.problem.setObjectName("signOffProblem")
        self.problem.setStyleSheet("color: #c62828")
        self.problem.setWordWrap(True)
        self.review.currentIndexChanged.connect(self._film_of_review)
        self.film.currentIndexChanged.connect(self._check)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Shared review session", self.review)
        form.addRow("Film (recording session)", self.film)
        form.addRow(self.problem)
        form.addRow(QLabel("Your sign-off is signed with your key and audited."))
        form.addRow(self.buttons)
        self._film_of_review()

    def _film_of_review(self) -> None:
        review = self.review.currentData()
        film = self.choices.film_of.get(review) if review else None
        if film is not None:
            self.film.setCurrentIndex(self.film.findData(film))
        self._check()

    def mismatch(self) -> str:
        """Why this film and review do not go together ('' if they do)."""
        film, review = self.chosen()
        if not film or not review:
            return "A cycle needs a film and its shared review."
        shown = self.choices.film_of.get(review)
        if shown is not None and shown != film:
            title = self.choices.titles
            return (
                f"This review showed a reel of {title[shown]!r}, not of "
                f"{title[film]!r}."
            )
        return ""

    def _check(self) -> None:
        problem = self.mismatch()
        self.problem.setText(problem)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

    def accept(self) -> None:
        if not self.mismatch():
            super().accept()

    def chosen(self) -> tuple[str, str]:
        return self.film.currentData() or "", self.review.currentData() or ""
