"""The session report for the case record: the session, the chosen stills with their captions,
the moments per principle, the parent's own words and the goal scores, as a PDF made with
Qt's own writer (QtGui only). Private notes never appear in it. The PDF leaves the library
only as an explicit, audited export (like the family copy). Its stills hide everyone who is
not a participant consenting to being filmed (videofeedback/redacted.py); a still from a
recording whose redaction was never reviewed is a plain card instead."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from annotations.model import Annotations
from annotations.timebase import format_clock
from clips.frames import frame_at, png_bytes
from clips.serve import serving
from videofeedback.captions import ensure_gui
from videofeedback.exports import plaintext_export
from videofeedback.library.annotating import open_annotations
from videofeedback.library.cases import Case
from videofeedback.library.records import Goal, MediaRecord, Session
from videofeedback.library.roles import Action
from videofeedback.media import opener
from videofeedback.redacted import REPORT_PURPOSE, still_or_card


@dataclass
class ReportStill:
    time: Fraction
    caption: str
    png: bytes


@dataclass
class SessionReport:
    label: str
    programme: str
    session: Session
    author: str
    principles: dict[str, list[str]] = field(default_factory=dict)  # principle → lines
    stills: list[ReportStill] = field(default_factory=list)
    words: list[tuple[str, str]] = field(default_factory=list)  # (the moment, the words)
    goals: list[Goal] = field(default_factory=list)
    withheld: int = 0  # stills shown as a card: their recording's redaction is not reviewed


def session_report(case: Case, session_id: str) -> SessionReport:
    """What the report holds, read from the case (the reader must be able to view it)."""
    case.require(Action.VIEW)
    report = SessionReport(
        case.label,
        str(case.summary()["programme"]),
        case.sessions.get(session_id),
        case.session.name,
        goals=case.goals.all(),
    )
    for record in case.media.of_session(session_id):
        if record.kind == "recording" or record.kind == "import":
            _add_recording(case, record, open_annotations(case, record.id).annotations, report)
    return report


def _add_recording(
    case: Case, record: MediaRecord, notes: Annotations, report: SessionReport
) -> None:
    labels: dict[str, str] = {}
    for moment in notes.in_time_order():
        labels[moment.id] = moment.label()
        for code in moment.codes:
            principle = notes.codebook.category_of(code).label if notes.codebook else code
            name = notes.codebook.code(code).label if notes.codebook else code
            line = f"{moment.label()}: {name}" + (
                f" — “{moment.caption}”" if moment.caption else ""
            )
            report.principles.setdefault(principle, []).append(line)
    fps, size = record.frame_rate(), record.size
    if notes.stills:
        with serving(opener(case, record)) as (url,):
            for still in notes.stills:
                labels[still.id] = f"still at {format_clock(still.time)}"
                frame = frame_at(url, still.time, fps, size)
                number = int(still.time * fps)
                shown, redacted = still_or_card(case, record.id, number, frame, REPORT_PURPOSE)
                report.withheld += 0 if redacted else 1
                report.stills.append(ReportStill(still.time, still.caption, png_bytes(shown)))
    rows = case.db.execute("SELECT item, text FROM parent_words ORDER BY recorded_at").fetchall()
    report.words += [(labels[item], text) for item, text in rows if item in labels]


def report_html(report: SessionReport) -> str:
    e = html.escape
    session = report.session
    parts = [
        f"<h1>{e(report.label)}</h1>",
        f"<p>{e(report.programme)} · {e(session.kind)} session of {e(session.date.isoformat())}"
        f"{' · ' + e(session.notes) if session.notes else ''}<br>"
        f"Report by {e(report.author)}</p>",
        "<h2>Moments, by principle</h2>",
    ]
    for principle, lines in report.principles.items():
        parts.append(f"<h3>{e(principle)} ({len(lines)})</h3><ul>")
        parts += [f"<li>{e(line)}</li>" for line in lines]
        parts.append("</ul>")
    if report.stills:
        parts.append("<h2>Stills</h2>")
        for index, still in enumerate(report.stills):
            parts.append(
                f'<p><img src="still-{index}" width="320"><br>{format_clock(still.time)} '
                f"{e(still.caption)}</p>"
            )
    if report.words:
        parts.append("<h2>The parent's own words</h2><ul>")
        parts += [f"<li>{e(where)}: “{e(text)}”</li>" for where, text in report.words]
        parts.append("</ul>")
    if report.goals:
        parts.append("<h2>Goals</h2><ul>")
        for goal in report.goals:
            scores = ", ".join(f"{s.date}: {s.score:+d}" for s in goal.scores)
            parts.append(f"<li>{e(goal.text)} — {scores or 'not scored yet'}</li>")
        parts.append("</ul>")
    return "\n".join(parts)


def report_pdf(report: SessionReport) -> bytes:
    """The PDF, made in memory."""
    ensure_gui()
    document = QTextDocument()
    for index, still in enumerate(report.stills):
        document.addResource(
            QTextDocument.ResourceType.ImageResource.value,
            QUrl(f"still-{index}"),
            QImage.fromData(still.png),
        )
    document.setHtml(report_html(report))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(f"Session report: {report.label}")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
        )
    )
    document.print_(writer)
    del writer  # finishes the PDF
    buffer.close()
    return bytes(data.data())


def export_report(case: Case, session_id: str, out: Path) -> dict[str, Any]:
    """Write the report as a (plaintext) PDF for the case record, atomically; audited."""
    report = session_report(case, session_id)
    pdf = report_pdf(report)
    with plaintext_export(case, out, "report.export", session_id,
                          withheld=str(report.withheld)) as sink:  # fmt: skip
        sink.write(pdf)
    return {"session": session_id, "out": str(out), "bytes": len(pdf),
            "stills_withheld": report.withheld}  # fmt: skip
