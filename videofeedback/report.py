"""The session report for the case record: the session (by its title), each moment once with
its codes and its caption as the reel has it, the parent's own words beside the moment or still
they were said about, the chosen stills, and the goal scores, as a PDF made with Qt's own writer
(QtGui only), "confidential" on every page. Private notes never appear in it. The PDF leaves
the library only as an explicit, audited export (like the family copy). Its stills hide
everyone who is not a participant consenting to being filmed (videofeedback/redacted.py); a
still from a recording whose redaction was never reviewed is a plain card instead."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextDocument,
)

from annotations.model import Annotations
from annotations.timebase import format_clock
from clips.frames import frame_at, png_bytes
from clips.serve import serving
from videofeedback.captions import ensure_gui
from videofeedback.exports import plaintext_export
from videofeedback.library.annotating import open_annotations
from videofeedback.library.cases import Case
from videofeedback.library.records import Goal, MediaRecord, Session, SessionKind
from videofeedback.library.roles import Action
from videofeedback.library.sessions import session_title
from videofeedback.media import opener
from videofeedback.redacted import REPORT_PURPOSE, still_or_card
from videofeedback.reels import RECORDINGS, latest_reel, reel_captions


@dataclass
class ReportStill:
    time: Fraction
    caption: str
    png: bytes
    words: list[str] = field(default_factory=list)  # the parent's words about it


@dataclass
class ReportMoment:
    """One moment, once, however many codes it has."""

    when: str  # "00:12.000–00:15.000"
    codes: list[tuple[str, str]]  # (principle, code) in the codebook's words
    caption: str  # as the reel has it, else the moment's own
    words: list[str] = field(default_factory=list)  # the parent's words about it


@dataclass
class SessionReport:
    label: str
    programme: str
    session: Session
    author: str
    moments: list[ReportMoment] = field(default_factory=list)
    stills: list[ReportStill] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    withheld: int = 0  # stills shown as a card: their recording's redaction is not reviewed

    @property
    def title(self) -> str:
        return session_title(self.session)

    def principles(self) -> dict[str, int]:
        """How many moments show each principle (a moment counts once per principle)."""
        counts: dict[str, int] = {}
        for moment in self.moments:
            for principle in dict.fromkeys(p for p, _ in moment.codes):
                counts[principle] = counts.get(principle, 0) + 1
        return counts


def session_report(case: Case, session_id: str) -> SessionReport:
    """What the report holds, read from the case (the reader must be able to view it). For a
    shared review, the report is of the film it showed, with that review's words."""
    case.require(Action.VIEW)
    record = case.sessions.get(session_id)
    film, reviews = session_id, None
    if record.kind == SessionKind.REVIEW:
        film = case.sessions.film_of_review(session_id) or session_id
        reviews = {session_id}
    report = SessionReport(
        case.label,
        str(case.summary()["programme"]),
        case.sessions.get(film),
        case.session.name,
        goals=case.goals.all(),
    )
    words = _parent_words(case, film, reviews)
    captions = reel_captions(latest_reel(case, film))
    for media in case.media.of_session(film):
        if media.kind in RECORDINGS:
            notes = open_annotations(case, media.id).annotations
            _add_recording(case, media, notes, report, (captions, words))
    return report


def _parent_words(case: Case, film: str, reviews: set[str] | None) -> dict[str, list[str]]:
    """The parent's words by the item they were said about, from the shared reviews of this
    film (or only ``reviews``), in the order they were said."""
    if reviews is None:
        reviews = {
            s.id
            for s in case.sessions.all()
            if s.kind == SessionKind.REVIEW and case.sessions.film_of_review(s.id) in (film, None)
        }
    rows = case.db.execute(
        "SELECT session_id, item, text FROM parent_words ORDER BY recorded_at"
    ).fetchall()
    found: dict[str, list[str]] = {}
    for session, item, text in rows:
        if session in reviews:
            found.setdefault(item, []).append(text)
    return found


def _add_recording(
    case: Case,
    record: MediaRecord,
    notes: Annotations,
    report: SessionReport,
    reel: tuple[dict[str, str], dict[str, list[str]]],
) -> None:
    captions, words = reel
    book = notes.codebook
    for moment in notes.in_time_order():
        codes = [
            (book.category_of(c).label, book.code(c).label) if book else (c, c)
            for c in moment.codes
        ]
        caption = captions.get(moment.id) or moment.caption
        report.moments.append(
            ReportMoment(moment.label(), codes, caption, words.get(moment.id, []))
        )
    fps, size = record.frame_rate(), record.size
    if notes.stills:
        with serving(opener(case, record)) as (url,):
            for still in notes.stills:
                frame = frame_at(url, still.time, fps, size)
                number = int(still.time * fps)
                shown, redacted = still_or_card(case, record.id, number, frame, REPORT_PURPOSE)
                report.withheld += 0 if redacted else 1
                caption = captions.get(still.id) or still.caption
                report.stills.append(
                    ReportStill(still.time, caption, png_bytes(shown), words.get(still.id, []))
                )


CONFIDENTIAL = "CONFIDENTIAL — case record"


def report_html(report: SessionReport) -> str:
    e = html.escape
    session = report.session
    parts = [
        f"<h1>{e(report.label)}</h1>",
        f"<p><b>{e(report.title)}</b> · {e(report.programme)} · {e(session.kind)} session "
        f"of {e(session.date.isoformat())}<br>Report by {e(report.author)}</p>",
    ]
    counts = report.principles()
    if counts:
        summary = " · ".join(f"{e(p)}: {n}" for p, n in counts.items())
        parts.append(f"<p>Principles shown: {summary}</p>")
    parts.append(f"<h2>Moments ({len(report.moments)})</h2><ol>")
    for moment in report.moments:
        codes = "; ".join(f"{e(p)}: {e(c)}" for p, c in moment.codes) or "not coded"
        line = f"<li><b>{e(moment.when)}</b> {codes}"
        if moment.caption:
            line += f"<br>Caption: “{e(moment.caption)}”"
        line += "".join(f"<br><i>The parent said:</i> “{e(w)}”" for w in moment.words)
        parts.append(line + "</li>")
    parts.append("</ol>")
    if report.stills:
        parts.append("<h2>Stills</h2>")
        for index, still in enumerate(report.stills):
            said = "".join(f"<br><i>The parent said:</i> “{e(w)}”" for w in still.words)
            parts.append(
                f'<p><img src="still-{index}" width="320"><br>{format_clock(still.time)} '
                f"{e(still.caption)}{said}</p>"
            )
    if report.goals:
        parts.append("<h2>Goals</h2><ul>")
        for goal in report.goals:
            scores = ", ".join(f"{s.date}: {s.score:+d}" for s in goal.scores)
            parts.append(f"<li>{e(goal.text)} — {scores or 'not scored yet'}</li>")
        parts.append("</ul>")
    return "\n".join(parts)


def report_pdf(report: SessionReport) -> bytes:
    """The PDF, made in memory, page by page, each with the confidential mark and its
    number (QTextDocument.print_ has no header)."""
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
    writer.setTitle(f"Session report: {report.label} (confidential)")
    writer.setResolution(SCREEN_DPI)  # the document's pixels are the page's: images keep size
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 12, 15, 12),
        )
    )
    _paint_pages(document, writer, f"{CONFIDENTIAL} · {report.label}")
    del writer  # finishes the PDF
    buffer.close()
    return bytes(data.data())


SCREEN_DPI = 96
BAND = 28  # the header's and the footer's height, in the page's pixels


def _paint_pages(document: QTextDocument, writer: QPdfWriter, mark: str) -> None:
    width, height = writer.width(), writer.height()
    body = QSizeF(width, height - 2 * BAND)
    document.setPageSize(body)
    pages = document.pageCount()
    painter = QPainter(writer)
    try:
        for page in range(pages):
            if page:
                writer.newPage()
            _paint_band(painter, QRectF(0, 0, width, BAND - 6), mark, bold=True)
            footer = QRectF(0, height - BAND + 6, width, BAND - 6)
            _paint_band(painter, footer, f"{mark} · page {page + 1} of {pages}", bold=False)
            painter.save()
            painter.translate(0, BAND - page * body.height())
            document.drawContents(painter, QRectF(0, page * body.height(), width, body.height()))
            painter.restore()
    finally:
        painter.end()


def _paint_band(painter: QPainter, rect: QRectF, text: str, bold: bool) -> None:
    font = QFont(painter.font())
    font.setPointSize(9)
    font.setBold(bold)
    painter.setFont(font)
    painter.setPen(QColor("#b71c1c"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


def export_report(case: Case, session_id: str, out: Path) -> dict[str, Any]:
    """Write the report as a (plaintext) PDF for the case record, atomically; audited."""
    report = session_report(case, session_id)
    pdf = report_pdf(report)
    with plaintext_export(case, out, "report.export", session_id,
                          withheld=str(report.withheld)) as sink:  # fmt: skip
        sink.write(pdf)
    return {"session": session_id, "out": str(out), "bytes": len(pdf),
            "stills_withheld": report.withheld}  # fmt: skip
