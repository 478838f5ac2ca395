"""The principle palette of the moment editor: one button per principle, numbered as its key
(1–6), that ticks the principle's code; its arrow opens the finer codes. The codes ticked on the
moment show as chips beneath (a click on a chip's ✕ unticks it): nothing to scroll to."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QGridLayout,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from annotations import Codebook
from annotations.codebook import Category
from ui.eliding import ElidedToolButton

COLUMNS = 2


def main_code(category: Category) -> str:
    """The code a principle's button ticks: the one with a key, else its first."""
    keyed = [code for code in category.codes if code.key]
    return (keyed or category.codes)[0].id


class CodePalette(QWidget):
    toggled = Signal(str)  # a code id: tick it, or untick it if it is ticked

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.codebook: Codebook | None = None
        self.buttons: dict[str, QToolButton] = {}  # category id → its button
        self.finer: dict[str, QAction] = {}  # code id → its menu entry
        self.chips = QListWidget()  # the ticked codes, wrapped onto as many rows as they need
        self._chips_editable = True
        self.chips.setObjectName("codeChips")
        self.chips.setFlow(QListView.Flow.LeftToRight)
        self.chips.setWrapping(True)
        self.chips.setResizeMode(QListView.ResizeMode.Adjust)
        self.chips.setSpacing(3)
        self.chips.setFixedHeight(2 * self.fontMetrics().height() + 20)  # never jumps: a
        # click meant for a button must not land on a chip that just appeared
        self.chips.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.chips.itemClicked.connect(self._on_chip_clicked)
        self._grid = QGridLayout()
        self._grid.setSpacing(4)
        for column in range(COLUMNS):  # equal columns: the buttons' texts elide alike
            self._grid.setColumnStretch(column, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._grid)
        layout.addWidget(self.chips)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_codebook(self, codebook: Codebook) -> None:
        for button in self.buttons.values():
            button.deleteLater()
        self.buttons.clear()
        self.finer.clear()
        self.codebook = codebook
        for number, category in enumerate(codebook.categories):
            button = self._principle_button(category)
            self.buttons[category.id] = button
            self._grid.addWidget(button, number // COLUMNS, number % COLUMNS)
        self.show_codes(set())

    def _principle_button(self, category: Category) -> ElidedToolButton:
        code = main_code(category)
        key = next((c.key for c in category.codes if c.id == code and c.key), "")
        button = ElidedToolButton()
        button.setToolTip(f"{category.label}" + (f" (key {key})" if key else ""))
        button.setCheckable(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the review's keys stay where they are
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        button.setMinimumHeight(30)
        button.setStyleSheet(
            f"QToolButton {{ border-left: 6px solid {category.colour}; text-align: left; "
            "padding: 2px 4px } QToolButton:checked { font-weight: bold }"
        )
        button.clicked.connect(lambda _=False, c=code: self._on_button(c))
        finer = [c for c in category.codes if c.id != code]
        if finer:
            menu = QMenu(button)
            for entry in finer:
                action = menu.addAction(entry.label)
                action.setCheckable(True)
                action.triggered.connect(lambda _=False, c=entry.id: self.toggled.emit(c))
                self.finer[entry.id] = action
            button.setMenu(menu)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        button.set_full_text(f"{key}  {category.label}" if key else category.label)
        return button

    def _on_button(self, code: str) -> None:
        self.toggled.emit(code)
        self.show_codes(set(self.chip_codes()))  # the button follows the model, not the click

    def show_codes(self, codes: set[str]) -> None:
        """Tick ``codes``: their principles' buttons checked, one chip per code."""
        book = self.codebook
        principles = {book.category_of(c).id for c in codes} if book else set()
        for category_id, button in self.buttons.items():
            button.setChecked(category_id in principles)
        for code_id, action in self.finer.items():
            action.setChecked(code_id in codes)
        self._show_chips(codes)

    def _show_chips(self, codes: set[str]) -> None:
        book = self.codebook
        shown = (self._in_order(codes), self.isEnabled())
        if book is None or (self.chip_codes(), self._chips_editable) == shown:
            return
        self._chips_editable = self.isEnabled()  # another coder's moment: no ✕ to click
        self.chips.clear()
        for code_id in self._in_order(codes):
            mark = "  ✕" if self._chips_editable else ""
            chip = QListWidgetItem(f"{book.code(code_id).label}{mark}")
            chip.setData(Qt.ItemDataRole.UserRole, code_id)
            chip.setBackground(QColor(book.category_of(code_id).colour).lighter(150))
            chip.setForeground(QColor("#111111"))  # readable when read-only too
            chip.setToolTip("Click to untick this code" if mark else "Coded by someone else")
            self.chips.addItem(chip)

    def chip_codes(self) -> list[str]:
        """The codes shown as chips, in the codebook's order."""
        return [
            self.chips.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.chips.count())
        ]

    def _in_order(self, codes: set[str]) -> list[str]:
        book = self.codebook
        order = [code.id for category in book.categories for code in category.codes] if book else []
        return sorted(codes, key=lambda c: (order.index(c) if c in order else len(order), c))

    def _on_chip_clicked(self, chip: QListWidgetItem) -> None:
        self.toggled.emit(chip.data(Qt.ItemDataRole.UserRole))
