"""``case.sessions``: a case's sessions (recordings, shared reviews, supervision) and the
parent's words recorded in a review."""

from __future__ import annotations

from datetime import date

from .audit import now_iso
from .case_part import CasePart
from .errors import NotFoundError
from .library import new_id
from .records import Purpose, Session, SessionId, SessionKind, WordsId, fetch
from .roles import Action

CONSENT_FOR_SESSION = {
    SessionKind.RECORDING: Purpose.FILMING,
    SessionKind.REVIEW: Purpose.SHARED_REVIEW,
    SessionKind.SUPERVISION: Purpose.SUPERVISION,
}


class Sessions(CasePart):
    def new(self, kind: SessionKind, when: date, notes: str = "") -> SessionId:
        case = self.case
        case.require(Action.CREATE_SESSION)
        case.require_open()
        case.consent.require(CONSENT_FOR_SESSION[kind])
        session_id = SessionId(new_id("s"))
        case.db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, kind.value, when.isoformat(), notes, case.session.name, now_iso()),
        )
        case.audit("session.create", session_id, kind=kind)
        return session_id

    def all(self) -> list[Session]:
        rows = fetch(self.case.db, "SELECT * FROM sessions ORDER BY date, id")
        return [Session.from_row(row) for row in rows]

    def get(self, session_id: str) -> Session:
        rows = fetch(self.case.db, "SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise NotFoundError(f"there is no session {session_id} in case {self.case.id}")
        return Session.from_row(rows[0])

    def add_parent_words(self, session_id: SessionId, item: str, text: str) -> WordsId:
        case = self.case
        case.require(Action.RUN_REVIEW)
        self.get(session_id)
        words_id = WordsId(new_id("w"))
        case.db.execute(
            "INSERT INTO parent_words VALUES (?, ?, ?, ?, ?, ?)",
            (words_id, session_id, item, text, case.session.name, now_iso()),
        )
        case.audit("review.words", words_id, session=session_id)
        return words_id
