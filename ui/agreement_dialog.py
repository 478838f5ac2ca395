"""Agreement between two coders of one recording: Cohen's kappa overall and per code, and the
moments only one of them coded (outlined in red on the timeline, side by side)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from annotations import Codebook
from annotations.agreement import AgreementReport
from ui.eliding import elide_items


def describe_kappa(kappa: float) -> str:
    """Landis and Koch's words for a kappa."""
    for limit, words in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
        if kappa <= limit:
            return words
    return "almost perfect"


class AgreementDialog(QDialog):
    def __init__(
        self, report: AgreementReport, codebook: Codebook | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Agreement between coders")
        self.resize(560, 520)
        a, b = report.coder_a, report.coder_b
        self.summary = QLabel(
            f"<b>{a}</b> and <b>{b}</b>, by principle, in {report.units} one-second units:<br>"
            f"Cohen's kappa <b>{report.kappa:.2f}</b> ({describe_kappa(report.kappa)}), "
            f"raw agreement {report.agreement:.0%}"
        )
        self.table = QTableWidget(len(report.per_code), 4)
        self.table.setHorizontalHeaderLabels(["Principle", "kappa", f"s by {a}", f"s by {b}"])
        for row, code in enumerate(report.per_code):
            label = _label(codebook, code.code)
            for column, value in enumerate(
                (label, f"{code.kappa:.2f}", str(code.units_a), str(code.units_b))
            ):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.differences = QListWidget()
        elide_items(self.differences)
        for coder, moments in ((a, report.only_a), (b, report.only_b)):
            for moment in moments:
                self.differences.addItem(
                    f"only {coder}: {moment.label()} "
                    f"{', '.join(_label(codebook, code) for code in moment.codes)}"
                )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 2)
        layout.addWidget(QLabel("Moments the other coder has no match for (red on the timeline)"))
        layout.addWidget(self.differences, 1)
        layout.addWidget(buttons)


def _label(codebook: Codebook | None, code_id: str) -> str:
    """A principle's or a code's label."""
    if codebook is None:
        return code_id
    for category in codebook.categories:
        if category.id == code_id:
            return category.label
    return codebook.code(code_id).label
