"""The start screen: choose (or create) a library, pick the user, enter the passphrase."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.errors import show_error
from ui.jobs import Jobs
from ui.state import AppState
from videofeedback.errors import VideofeedbackError


class UnlockView(QWidget):
    create_requested = Signal()

    def __init__(self, state: AppState, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state, self.jobs = state, jobs
        self._preparing = ""
        self.folder = QLabel("No library chosen")
        self.folder.setWordWrap(True)
        self.user = QComboBox()
        self.user.setMinimumHeight(36)
        self.user.activated.connect(self._on_user_chosen)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setMinimumHeight(36)
        self.passphrase.setPlaceholderText("Your passphrase")
        self.passphrase.returnPressed.connect(self.unlock)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setMinimumHeight(48)
        self.unlock_button.clicked.connect(self.unlock)
        self.demo = QLabel("")
        self.demo.setObjectName("demoHint")
        self.demo.setWordWrap(True)
        self.demo.setStyleSheet("background: #fff8e1; padding: 10px; border-radius: 6px")
        self.demo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        choose = QPushButton("Choose library…")
        choose.clicked.connect(self.choose_library)
        create = QPushButton("New library…")
        create.clicked.connect(self.create_requested.emit)
        self._build(choose, create)
        state.library_changed.connect(self._on_library_changed)
        state.locked.connect(self._on_locked)

    def _build(self, choose: QPushButton, create: QPushButton) -> None:
        title = QLabel("videofeedback")
        title.setStyleSheet("font-size: 26pt; font-weight: bold")
        subtitle = QLabel("Reflective video feedback, encrypted end to end")
        library_row = QHBoxLayout()
        library_row.addWidget(self.folder, 1)
        library_row.addWidget(choose)
        library_row.addWidget(create)
        form = QFormLayout()
        form.addRow("Library", library_row)
        form.addRow("User", self.user)
        form.addRow("Passphrase", self.passphrase)
        box = QWidget()
        box.setMaximumWidth(640)
        column = QVBoxLayout(box)
        column.addStretch(1)
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addSpacing(20)
        column.addLayout(form)
        column.addWidget(self.unlock_button)
        column.addWidget(self.demo)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 3)
        outer.addStretch(1)

    def show_preparing(self, text: str) -> None:
        """While the demo library is built on first run: what happens, no unlocking yet."""
        self.folder.setText("The demo library is being prepared…")
        self.demo.setText(text)
        self.demo.setVisible(True)
        self.unlock_button.setEnabled(False)
        self._preparing = text

    def show_preparing_step(self, step: str) -> None:
        self.demo.setText(f"{self._preparing}<br><i>Now: {step}…</i>")

    def choose_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a videofeedback library")
        if folder:
            self.open_library(Path(folder))

    def open_library(self, folder: Path) -> None:
        try:
            self.state.open_library(folder)
        except VideofeedbackError as exc:
            show_error(self, str(exc))

    def unlock(self) -> None:
        name, secret = self.user.currentText(), self.passphrase.text()
        if not name:
            show_error(self, "choose a library and a user first")
            return
        self.unlock_button.setEnabled(False)
        self.jobs.start(
            f"Unlocking {name}",
            lambda _: self.state.unlock(name, secret),
            self._on_unlocked,
            self._on_unlock_failed,
        )

    def _on_unlocked(self, user: object) -> None:
        self.passphrase.clear()
        self.unlock_button.setEnabled(True)
        self.state.set_user(user)  # type: ignore[arg-type]
        if self.state.swept_exports:
            files = "\n".join(self.state.swept_exports)
            show_error(
                self,
                "An export was stopped before it finished. Its unfinished plaintext copy was "
                f"removed (the case's audit trail records it):\n{files}",
                "Unfinished export removed",
            )

    def _on_unlock_failed(self, message: str) -> None:
        self.unlock_button.setEnabled(True)
        self._back_to_passphrase()
        show_error(self, message).finished.connect(self._back_to_passphrase)

    def _back_to_passphrase(self) -> None:
        """The cursor in the passphrase, all of it selected: typing again replaces it."""
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)
        self.passphrase.selectAll()

    def _on_user_chosen(self, _index: int) -> None:
        self.passphrase.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_library_changed(self) -> None:
        self.unlock_button.setEnabled(True)
        library = self.state.library
        path = str(library.folder) if library else "No library chosen"
        metrics = self.folder.fontMetrics()  # a long path is cut in the middle, whole on hover
        self.folder.setText(metrics.elidedText(path, Qt.TextElideMode.ElideMiddle, 320))
        self.folder.setToolTip(path)
        self.user.clear()
        self.user.addItems(self.state.user_names())
        demo = self.state.demo_passphrases()
        practitioner = next((n for n in demo if n != "admin"), "")
        if practitioner:
            self.user.setCurrentText(practitioner)
        lines = "".join(
            f"<br><b>{user}</b>: <code>{secret}</code>" for user, secret in demo.items()
        )
        self.demo.setText(
            f"This is the <b>demo library</b> (made-up family, synthetic video).{lines}"
            if demo
            else ""
        )
        self.demo.setVisible(bool(demo))
        self.passphrase.setFocus()

    def _on_locked(self) -> None:
        self.passphrase.clear()
        self.passphrase.setFocus()
