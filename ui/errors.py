"""Core errors become dialogs with their own message (the core never shows one)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget | None, message: str, title: str = "videofeedback") -> QMessageBox:
    """Shown without blocking; the box is returned (``finished``: where the cursor goes next)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent
    )
    box.setObjectName("errorDialog")
    box.open()  # not exec(): tests and jobs keep running while it is shown
    return box
