"""``case.sessions``: a case's sessions (recordings, shared reviews, supervision) and the
parent's words recorded in a review."""

from __future__ import annotations

from datetime import date

from .audit import now_iso
from .case_part import CasePart
from .errors import LibraryError, NotFoundError
from .library import new_id
from .records import Purpose, Session, SessionId, SessionKind, WordsId, fetch
from .roles import Action

CONSENT_FOR_SESSION = {
    SessionKind.RECORDING: Purpose.FILMING,
    SessionKind.REVIEW: Purpose.SHARED_REVIEW,
    SessionKind.SUPERVISION: Purpose.SUPERVISION,
}


def session_title(session: Session) -> str:
    """A session as people call it: its title, else its notes, else its kind and date."""
    if session.title:
        return session.title
    if session.notes:
        return session.notes
    return f"{session.kind.value.capitalize()} of {session.date.isoformat()}"


class Sessions(CasePart):
    def new(
        self, kind: SessionKind, when: date, notes: str = "", title: str = "", reel: str = ""
    ) -> SessionId:
        """A new session; ``title`` is what people call it ("Play with blocks"), ``reel`` the
        reel a shared review shows (its film is then the reel's session)."""
        case = self.case
        case.require(Action.CREATE_SESSION)
        case.require_open()
        case.consent.require(CONSENT_FOR_SESSION[kind])
        if reel and kind != SessionKind.REVIEW:
            raise LibraryError("only a shared review session shows a reel")
        session_id = SessionId(new_id("s"))
        case.db.execute(
            "INSERT INTO sessions(id, kind, date, notes, created_by, created_at, title, reel) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session_id,
                kind.value,
                when.isoformat(),
                notes,
                case.session.name,
                now_iso(),
                title.strip(),
                reel,
            ),  # fmt: skip
        )
        shown = {"reel": reel} if reel else {}  # signed: the sign-off's check reads it
        case.audit("session.create", session_id, kind=kind, **shown)
        return session_id

    def title(self, session_id: str) -> str:
        """The session as people call it (``session_title``)."""
        return session_title(self.get(session_id))

    def film_of_review(self, review_session: str) -> SessionId | None:
        """The recording session whose reel a shared review showed (None if not recorded),
        from the signed trail (the review's ``session.create`` names the reel, the reel's
        ``media.reel`` its session); only a review made before the trail named its reel is
        looked up in the database, which any member can write (docs/FORMAT.md 10.4)."""
        review = self.get(review_session)
        history = self.case.history()
        reel = history.reviews.get(review_session)
        if reel is not None:
            film = history.reels.get(reel)
            return SessionId(film) if film is not None else None
        row = self.case.db.execute(
            "SELECT session_id FROM media WHERE id = ?", (review.reel,)
        ).fetchone()
        return SessionId(str(row[0])) if row else None

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
