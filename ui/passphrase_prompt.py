"""Asking for a new passphrase (strength rule, typed twice) and showing the recovery secret."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox, QWidget

from videofeedback.library.passphrases import EXAMPLE, passphrase_problem

FIRST_PROMPT = f"New passphrase ({EXAMPLE}):"


def ask_new_passphrase(parent: QWidget | None, title: str, known: Sequence[str]) -> str | None:
    """A new passphrase that passes the strength rule, typed twice; None if cancelled."""
    label = FIRST_PROMPT
    while True:
        first, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Password)
        if not ok:
            return None
        problem = passphrase_problem(first, known)
        if problem:
            label = f"{problem.capitalize()}.\nChoose a stronger one ({EXAMPLE}):"
            continue
        again, ok = QInputDialog.getText(
            parent, title, "Type the passphrase again:", QLineEdit.EchoMode.Password
        )
        if not ok:
            return None
        if again == first:
            return first
        label = f"The two passphrases differ; type a new one ({EXAMPLE}):"


def show_recovery_secret(parent: QWidget | None, key_file: Path, secret: str) -> QMessageBox:
    """Show the recovery secret once (it is stored nowhere): write it down, keep it offline."""
    box = QMessageBox(
        QMessageBox.Icon.Information,
        "Recovery secret: write it down now",
        f"The organisation's recovery key is in {key_file}.\n\nIts secret, shown only now:\n\n"
        f"    {secret}\n\nWrite it on paper (or split it: groups 1-4 to one person, 5-8 to "
        "another) and keep it offline, apart from the key file. With both, every case can be "
        "opened; the administrator's passphrase does not open the recovery key.",
        QMessageBox.StandardButton.Ok,
        parent,
    )
    box.setObjectName("recoverySecretDialog")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    return box
