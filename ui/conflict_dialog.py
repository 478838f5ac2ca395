"""The conflicts a sync found (two laptops changed one field): each record and field with
every version, who wrote it and when; "Keep this version" settles it through
``team/conflicts.py`` as an operation of the case (the losers stay in the trail)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.operations import CaseOp, CaseQuery
from videofeedback.errors import VideofeedbackError
from videofeedback.library.cases import Case
from videofeedback.operations import Changes
from videofeedback.team.conflicts import ConflictView, Version, describe_conflicts, resolve_conflict

SETTLED = Changes(**{name: True for name in Changes.__dataclass_fields__})
ROLE = Qt.ItemDataRole.UserRole


def keep(view: ConflictView, version: Version) -> Callable[[Case], Changes]:
    """The operation that keeps ``version`` of the conflict ``view``."""

    def run(case: Case) -> Changes:
        resolve_conflict(case, view.kind, view.key, view.field, version.op)
        return SETTLED

    return run


def _value(value: object) -> str:
    return "(deleted)" if value is None else str(value)


class ConflictDialog(QDialog):
    resolved = Signal()  # a version was kept (the change syncs like any other)

    def __init__(
        self, case_ids: list[str], open_case: Callable[[str], Case], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Conflicts to resolve")
        self.setObjectName("conflictDialog")
        self.note = QLabel(
            "Two people changed the same thing on different laptops. "
            "Choose the version that stands; the other stays in the audit trail."
        )
        self.note.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Record and field / version", "By", "When"])
        self.tree.itemSelectionChanged.connect(self._on_selection_changed)
        self.keep_button = QPushButton("Keep this version")
        self.keep_button.setEnabled(False)
        self.keep_button.clicked.connect(self.keep_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.note, self.tree, self.keep_button, buttons):
            layout.addWidget(widget)
        self.resize(640, 360)
        self.cases: dict[str, Case] = {}
        self.views: dict[str, list[ConflictView]] = {}
        for case_id in case_ids:
            try:
                self.cases[case_id] = open_case(case_id)
            except VideofeedbackError as exc:
                self.note.setText(str(exc))
                continue
            self._read(case_id)

    def _read(self, case_id: str) -> None:
        case = self.cases[case_id]
        query = CaseQuery(self, case, describe_conflicts)
        query.success(lambda views: self._show(case_id, views)).failure(self.note.setText).run()

    def _show(self, case_id: str, views: list[ConflictView]) -> None:
        self.views[case_id] = views
        self.tree.clear()
        for shown_case, found in sorted(self.views.items()):
            label = self.cases[shown_case].label
            for view in found:
                top = QTreeWidgetItem([f"{label}: {view.title()}", "", ""])
                for version in view.versions:
                    child = QTreeWidgetItem(
                        [_value(version.value), version.author, version.written]
                    )
                    child.setData(0, ROLE, (shown_case, view, version))
                    top.addChild(child)
                self.tree.addTopLevelItem(top)
                top.setExpanded(True)
        if self.tree.topLevelItemCount() == 0:
            self.note.setText("No conflicts left.")

    def _on_selection_changed(self) -> None:
        self.keep_button.setEnabled(self._chosen() is not None)

    def _chosen(self) -> tuple[str, ConflictView, Version] | None:
        items = self.tree.selectedItems()
        data = items[0].data(0, ROLE) if items else None
        return data if isinstance(data, tuple) else None

    def keep_selected(self) -> None:
        chosen = self._chosen()
        if chosen is None:
            return
        case_id, view, version = chosen
        self.keep_button.setEnabled(False)
        op = CaseOp(self, self.cases[case_id], keep(view, version))
        op.success(lambda _: self._on_kept(case_id)).failure(self.note.setText).run()

    def _on_kept(self, case_id: str) -> None:
        self.resolved.emit()
        self._read(case_id)
