"""Edit the selected moment: its codes, the caption for the parent and the private note.
Every change goes through the annotation editor, so it can be undone.

The caption, its translation and the note are kept as you type (debounced, SAVE_AFTER_MS), when
the box loses focus (a click on the video, then S or 1–6) and before another moment is shown;
text typed and not yet kept is never overwritten by a refresh. A label says when it is kept."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from annotations import Codebook, Editor
from annotations.model import Moment
from ui.code_palette import CodePalette
from ui.errors import show_error
from videofeedback.errors import VideofeedbackError

SAVE_AFTER_MS = 700  # a pause in typing this long keeps the text (one undo step)


class TypedText(QObject):
    """One text box whose text is kept after a pause in typing or when it loses focus."""

    def __init__(
        self,
        box: QLineEdit | QPlainTextEdit,
        keep: Callable[[str], None],
        on_dirty: Callable[[], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.box, self.keep = box, keep
        self.dirty = False
        self.timer = QTimer(self, singleShot=True, interval=SAVE_AFTER_MS)
        self.timer.timeout.connect(self.flush)
        self._on_dirty = on_dirty
        if isinstance(box, QLineEdit):
            box.textEdited.connect(self._typed)
            box.editingFinished.connect(lambda: self.flush(force=True))
        else:
            box.textChanged.connect(self._typed)
        box.installEventFilter(self)

    def text(self) -> str:
        box = self.box
        return box.text() if isinstance(box, QLineEdit) else box.toPlainText()

    def set_text(self, text: str) -> None:
        """Shown from the model; typed text not yet kept stays (it is kept soon)."""
        if self.dirty or self.text() == text:
            return
        was = self.box.blockSignals(True)
        if isinstance(self.box, QLineEdit):
            self.box.setText(text)
            self.box.setCursorPosition(0)  # a long caption shows its start, not its end
            self.box.setToolTip(text)
        else:
            self.box.setPlainText(text)
        self.box.blockSignals(was)

    def _typed(self, *_: object) -> None:
        self.dirty = True
        self.timer.start()
        self._on_dirty()

    def flush(self, force: bool = False) -> None:
        """Keep the text if it was typed (or, ``force``, whenever it differs from the model)."""
        self.timer.stop()
        if self.box.isReadOnly():
            self.dirty = False  # another coder's moment: nothing is kept, nothing "saved"
        elif self.dirty or force:
            self.dirty = False
            self.keep(self.text())

    def forget(self) -> None:
        self.timer.stop()
        self.dirty = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.FocusOut:
            self.flush()
        elif event.type() == QEvent.Type.KeyPress and self.box.isReadOnly():
            text = event.text()  # type: ignore[attr-defined]
            return bool(text) and text.isprintable()  # typed into a read-only box: nothing
        return False


class MomentEditor(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor: Editor | None = None
        self.guard: Callable[[str | None], None] = lambda _: None  # raises if not allowed
        self.moment: Moment | None = None
        self._filling = False
        self.title = QLabel("No moment selected")
        self.title.setObjectName("momentTitle")
        self.codes = CodePalette()  # principles 1–6, the ticked codes as chips
        self.codes.toggled.connect(self._on_code_toggled)
        self.caption = QPlainTextEdit()  # several lines: what went well, in the parent's words
        self.caption.setPlaceholderText("For the parent: what went well, in their words")
        self.caption.setTabChangesFocus(True)
        self.caption.setMaximumHeight(64)
        self.language = ""
        self.translation = QLineEdit()
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Private note (not shown to the family)")
        self.note.setMaximumHeight(70)
        self.saved = QLabel("")
        self.saved.setObjectName("savedState")
        self.saved.setStyleSheet("color: #2e7d32")
        self.typed = {
            "caption": TypedText(self.caption, self._keep_caption, self._on_dirty, self),
            "translation": TypedText(
                self.translation, self._keep_translation, self._on_dirty, self
            ),
            "note": TypedText(self.note, self._keep_note, self._on_dirty, self),
        }
        self.delete = QPushButton("Delete moment")
        self.delete.clicked.connect(self.delete_moment)
        self.badge = QLabel("")
        self.badge.setObjectName("coderBadge")
        self.badge.setStyleSheet(
            "background: #eceff1; color: #37474f; border-radius: 4px; padding: 2px 8px"
        )
        self.badge.hide()
        self.translation_label = QLabel("")
        form = QFormLayout()
        form.addRow("Caption", self.caption)
        form.addRow(self.translation_label, self.translation)
        form.addRow("Note", self.note)
        layout = QVBoxLayout(self)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.badge)
        layout.addLayout(header)
        layout.addWidget(self.codes)
        layout.addLayout(form)
        bottom = QHBoxLayout()
        bottom.addWidget(self.saved, 1)
        bottom.addWidget(self.delete)
        layout.addLayout(bottom)
        self.set_language("")
        self.show_moment(None)

    def may_edit(self, moment_id: str) -> bool:
        """The model's rule (the guard is the annotation session's ``require_change``)."""
        try:
            self.guard(moment_id)
        except VideofeedbackError:
            return False
        return True

    def set_codebook(self, codebook: Codebook, editor: Editor) -> None:
        self.editor = editor
        self.codes.set_codebook(codebook)

    def set_language(self, language: str) -> None:
        """The family's language: a caption in it is asked for unless it is English."""
        self.language = "" if language.lower() in ("", "en") else language
        self.translation_label.setText(f"Caption ({self.language})")
        self.translation_label.setVisible(bool(self.language))
        self.translation.setVisible(bool(self.language))

    def show_moment(self, moment: Moment | None) -> None:
        if self.moment is not None and (moment is None or moment.id != self.moment.id):
            self.commit_note()  # another moment: what was typed for this one is kept first
        if moment is None or self.moment is None or moment.id != self.moment.id:
            self.saved.setText("")
        self.moment = moment
        self._filling = True
        editable = moment is not None and self.may_edit(moment.id)
        for widget in (self.codes, self.caption, self.note, self.delete):
            widget.setEnabled(moment is not None)
        self.codes.setEnabled(editable)
        self.delete.setEnabled(editable)
        for box in (self.caption, self.translation, self.note):
            box.setReadOnly(not editable)
        self.badge.setVisible(moment is not None and not editable)
        if moment is not None and not editable:
            self.badge.setText(f"🔒 coded by {moment.coder or 'someone else'} · read-only")
            self.badge.setToolTip("You may comment on it; only its coder can change it")
        self.title.setText(f"Moment {moment.label()}" if moment else "No moment selected")
        self.typed["caption"].set_text(moment.caption if moment else "")
        self.translation.setEnabled(moment is not None)
        self.typed["translation"].set_text(
            dict(moment.translations).get(self.language, "") if moment else ""
        )
        self.typed["note"].set_text(moment.note if moment else "")
        self.codes.show_codes(set(moment.codes) if moment else set())
        self._filling = False
        if moment is None:
            self.saved.setText("")

    def commit_note(self) -> None:
        """Keep whatever was typed and not yet kept (caption, translation, note)."""
        for field in self.typed.values():
            field.flush()

    def _on_dirty(self) -> None:
        self.saved.setText("Saving…")

    def _kept(self) -> None:
        self.saved.setText("✔ Saved")

    def _keep_note(self, text: str) -> None:
        if self.moment and text != self.moment.note:
            self._edit(lambda e, m: e.note(m, text))
        self._kept()

    def _keep_caption(self, text: str) -> None:
        if self.moment and text != self.moment.caption:
            self._edit(lambda e, m: e.caption(m, text))
        self._kept()

    def _keep_translation(self, text: str) -> None:
        if (
            self.moment
            and self.language
            and text != dict(self.moment.translations).get(self.language, "")
        ):
            self._edit(lambda e, m: e.translate(m, self.language, text))
        self._kept()

    def _on_code_toggled(self, code: str) -> None:
        if self._filling or not self.moment or not self.editor:
            return
        self._edit(lambda e, m: e.toggle_code(m, code))

    def delete_moment(self) -> None:
        self._edit(lambda e, m: e.delete(m))

    def _edit(self, change: Callable[[Editor, str], object]) -> None:
        if self.moment is None or self.editor is None:
            return
        try:
            self.guard(self.moment.id)
            change(self.editor, self.moment.id)
        except VideofeedbackError as exc:
            for field in self.typed.values():
                field.forget()
            show_error(self, str(exc))
            self.show_moment(self.moment)
