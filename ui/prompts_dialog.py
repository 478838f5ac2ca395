"""Edit the reflective prompts of the case's codebook (one question per principle), asked in
shared review. They are the library's: every case using the codebook gets them."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from annotations import Codebook
from ui.errors import show_error
from videofeedback.errors import VideofeedbackError
from videofeedback.library.annotating import case_codebook, set_prompts
from videofeedback.library.cases import Case


class PromptsDialog(QDialog):
    def __init__(self, case: Case, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.case = case
        self.book: Codebook = case_codebook(case)
        self.setWindowTitle(f"Reflective prompts: {self.book.name}")
        self.resize(720, 360)
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout(self)
        form.addRow(QLabel("The question asked on each item of a shared review, by principle:"))
        for category in self.book.categories:
            field = QLineEdit(category.prompt)
            self.fields[category.id] = field
            form.addRow(category.label, field)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        changed = {
            category.id: self.fields[category.id].text().strip()
            for category in self.book.categories
            if self.fields[category.id].text().strip() != category.prompt
        }
        try:
            if changed:
                set_prompts(self.case.session.library, self.case.session, self.book.id, changed)
        except VideofeedbackError as exc:
            show_error(self, str(exc))
            return
        self.accept()
