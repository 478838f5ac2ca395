"""Edit the selected moment: its codes, the caption for the parent and the private note.
Every change goes through the annotation editor, so it can be undone."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotations import Codebook, Editor
from annotations.model import Moment
from ui.errors import show_error
from videofeedback.errors import VideofeedbackError

CODE_ROLE = Qt.ItemDataRole.UserRole


class MomentEditor(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor: Editor | None = None
        self.guard: Callable[[str | None], None] = lambda _: None  # raises if not allowed
        self.moment: Moment | None = None
        self._filling = False
        self.title = QLabel("No moment selected")
        self.title.setObjectName("momentTitle")
        self.codes = QTreeWidget()
        self.codes.setHeaderHidden(True)
        self.codes.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.codes.itemChanged.connect(self._on_code_toggled)
        self.caption = QLineEdit()
        self.caption.setPlaceholderText("For the parent: what went well, in their words")
        self.caption.editingFinished.connect(self._on_caption_edited)
        self.language = ""
        self.translation = QLineEdit()
        self.translation.editingFinished.connect(self._on_translation_edited)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Private note (not shown to the family)")
        self.note.setMaximumHeight(70)
        self.delete = QPushButton("Delete moment")
        self.delete.clicked.connect(self.delete_moment)
        self.translation_label = QLabel("")
        form = QFormLayout()
        form.addRow("Caption", self.caption)
        form.addRow(self.translation_label, self.translation)
        form.addRow("Note", self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.codes, 1)
        layout.addLayout(form)
        layout.addWidget(self.delete)
        self.set_language("")
        self.show_moment(None)

    def set_codebook(self, codebook: Codebook, editor: Editor) -> None:
        self.editor = editor
        self._filling = True
        self.codes.clear()
        for category in codebook.categories:
            top = QTreeWidgetItem([category.label])
            top.setForeground(0, QColor(category.colour).darker(130))
            self.codes.addTopLevelItem(top)
            for code in category.codes:
                key = f"  [{code.key}]" if code.key else ""
                item = QTreeWidgetItem([f"{code.label}{key}"])
                item.setData(0, CODE_ROLE, code.id)
                item.setCheckState(0, Qt.CheckState.Unchecked)
                top.addChild(item)
        self.codes.expandAll()
        self._filling = False

    def set_language(self, language: str) -> None:
        """The family's language: a caption in it is asked for unless it is English."""
        self.language = "" if language.lower() in ("", "en") else language
        self.translation_label.setText(f"Caption ({self.language})")
        self.translation_label.setVisible(bool(self.language))
        self.translation.setVisible(bool(self.language))

    def show_moment(self, moment: Moment | None) -> None:
        self.moment = moment
        self._filling = True
        for widget in (self.codes, self.caption, self.note, self.delete):
            widget.setEnabled(moment is not None)
        self.title.setText(f"Moment {moment.label()}" if moment else "No moment selected")
        self.caption.setText(moment.caption if moment else "")
        self.translation.setEnabled(moment is not None)
        self.translation.setText(dict(moment.translations).get(self.language, "") if moment else "")
        if self.note.toPlainText() != (moment.note if moment else ""):
            self.note.setPlainText(moment.note if moment else "")
        codes = set(moment.codes) if moment else set()
        for index in range(self.codes.topLevelItemCount()):
            top = self.codes.topLevelItem(index)
            for child in range(top.childCount()):
                item = top.child(child)
                checked = item.data(0, CODE_ROLE) in codes
                item.setCheckState(0, Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self._filling = False

    def commit_note(self) -> None:
        """The note is saved when the moment changes or the view closes (not per key)."""
        if self.moment and self.editor and self.note.toPlainText() != self.moment.note:
            self._edit(lambda e, m: e.note(m, self.note.toPlainText()))

    def _on_code_toggled(self, item: QTreeWidgetItem) -> None:
        code = item.data(0, CODE_ROLE)
        if self._filling or not code or not self.moment or not self.editor:
            return
        self._edit(lambda e, m: e.toggle_code(m, code))

    def _on_caption_edited(self) -> None:
        if self.moment and self.editor and self.caption.text() != self.moment.caption:
            self._edit(lambda e, m: e.caption(m, self.caption.text()))

    def _on_translation_edited(self) -> None:
        text = self.translation.text()
        if (
            self.moment
            and self.language
            and text != dict(self.moment.translations).get(self.language, "")
        ):
            self._edit(lambda e, m: e.translate(m, self.language, text))

    def delete_moment(self) -> None:
        self._edit(lambda e, m: e.delete(m))

    def _edit(self, change: Callable[[Editor, str], object]) -> None:
        if self.moment is None or self.editor is None:
            return
        try:
            self.guard(self.moment.id)
            change(self.editor, self.moment.id)
        except VideofeedbackError as exc:
            show_error(self, str(exc))
            self.show_moment(self.moment)
