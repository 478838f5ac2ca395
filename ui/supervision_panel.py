"""Supervision in the case view: the audit trail's verification shown plainly, comments,
signed sign-offs of a cycle (a film and its shared review), and the hand-over bundle."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
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
    QVBoxLayout,
    QWidget,
)

from ui.errors import show_error
from ui.jobs import Jobs
from ui.operations import CaseOp
from videofeedback.library.audit import AuditReport
from videofeedback.library.bundle import export_bundle
from videofeedback.library.cases import Case, SessionKind, session_title
from videofeedback.library.roles import Action, Role, allowed
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


class SupervisionPanel(QWidget):
    changed = Signal()

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.case: Case | None = None
        self.audit = QLabel("")
        self.audit.setWordWrap(True)
        self.problems = QListWidget()
        self.problems.setMaximumHeight(80)
        self.comments = QListWidget()
        self.signoffs = QListWidget()
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
        lists = QHBoxLayout()
        for title, widget in (("Comments", self.comments), ("Sign-offs", self.signoffs)):
            column = QVBoxLayout()
            column.addWidget(QLabel(f"<b>{title}</b>"))
            column.addWidget(widget)
            lists.addLayout(column)
        layout = QVBoxLayout(self)
        layout.addWidget(self.audit)
        layout.addWidget(self.problems)
        layout.addLayout(lists, 1)
        layout.addLayout(row)

    def show_case(self, case: Case | None) -> None:
        self.case = case
        self.audit.setText("")
        self.problems.clear()
        self.problems.hide()
        self.refresh()
        if case is not None:
            role = case.session.role
            self.buttons["signoff"].setVisible(allowed(role, Action.SIGN_OFF))
            self.buttons["comment"].setVisible(allowed(role, Action.COMMENT))
            self.buttons["bundle"].setVisible(allowed(role, Action.EXPORT))
            self.verify()

    def refresh(self) -> None:
        self.comments.clear()
        self.signoffs.clear()
        if self.case is None:
            return
        for comment in self.case.comments():
            self.comments.addItem(
                f"{comment['created_at'][:10]} {comment['author']} on "
                f"{self.case.describe(comment['target'])}: "
                f"{comment['text']}"
            )
        for row in self.case.signoffs():
            mark = "✔ signature valid" if row["valid"] else "✖ signature NOT valid"
            self.signoffs.addItem(
                f"{row['signed_at'][:10]} {row['signed_by']}: film "
                f"{self.case.session_title(row['recording_session'])} + review "
                f"{self.case.session_title(row['review_session'])} — {mark}"
            )

    # --- actions -------------------------------------------------------------------------

    def verify(self) -> None:
        case = self.case
        if case is not None:
            self.jobs.start(
                "Verifying the audit trail", lambda _: case.verify_audit(), self._show, case=case
            )

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
        dialog = SignOffDialog(self.case, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            film, review = dialog.chosen()
            self.case_op(sign_off(film, review))

    def export_bundle(self) -> None:
        case = self.case
        if case is None:
            return
        supervisors = [
            name
            for name, user in case.session.library.manifest.users.items()
            if user.role == Role.SUPERVISOR.value and name in case.member_names()
        ]
        if not supervisors:
            show_error(self, "no supervisor is a member of this case; add one first")
            return
        to, ok = QInputDialog.getItem(self, "Hand-over bundle", "For:", supervisors, 0, False)
        if not ok:
            return
        out, _ = QFileDialog.getSaveFileName(self, "Save the bundle", f"{case.id}-for-{to}.vfb")
        if out:
            media = [r[0] for r in case.db.execute("SELECT id FROM media WHERE kind != 'still'")]
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

    def __init__(self, case: Case, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.case = case
        self.setWindowTitle("Sign off a cycle")
        self.film = QComboBox()
        self.review = QComboBox()
        sessions = case.sessions()
        for session in sessions:
            label = f"{session_title(session)} · {session['date']}"
            if session["kind"] == SessionKind.RECORDING.value:
                self.film.addItem(label, session["id"])
        for session in reversed(sessions):  # the newest review first: the one just held
            if session["kind"] == SessionKind.REVIEW.value:
                label = f"{session_title(session)} · {session['date']}"
                self.review.addItem(label, session["id"])
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
        film = self.case.film_of_review(review) if review else None
        if film is not None:
            self.film.setCurrentIndex(self.film.findData(film))
        self._check()

    def mismatch(self) -> str:
        """Why this film and review do not go together ('' if they do)."""
        film, review = self.chosen()
        if not film or not review:
            return "A cycle needs a film and its shared review."
        shown = self.case.film_of_review(review)
        if shown is not None and shown != film:
            return (
                f"This review showed a reel of {self.case.session_title(shown)!r}, not of "
                f"{self.case.session_title(film)!r}."
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
