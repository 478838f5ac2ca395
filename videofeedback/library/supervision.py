"""``case.supervision``: a supervisor's comments and the signed sign-off of a VIG cycle."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from encryption import SignatureError

from .audit import now_iso
from .case_part import CasePart
from .errors import LibraryError
from .library import new_id
from .records import Comment, CommentId, SessionId, SessionKind, Signoff, SignoffId, fetch
from .roles import Action

if TYPE_CHECKING:
    from .cases import Case as CaseLike


def signoff_message(case_id: str, recording: str, review: str, when: str) -> bytes:
    return f"videofeedback cycle sign-off\n{case_id}\n{recording}\n{review}\n{when}\n".encode()


class Supervision(CasePart):
    def add_comment(self, target: str, text: str) -> CommentId:
        """A supervisor's comment on a session, moment or recording (by id)."""
        case = self.case
        case.require(Action.COMMENT)
        if not text.strip():
            raise LibraryError("a comment needs some text")
        comment_id = CommentId(new_id("k"))
        case.db.execute(
            "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
            (comment_id, target, text.strip(), case.session.name, now_iso()),
        )
        case.audit("comment.add", comment_id, target=target)
        return comment_id

    def comments(self, target: str | None = None) -> list[Comment]:
        query = "SELECT id, target, text, author, created_at FROM comments"
        db = self.case.db
        if target is None:
            rows = fetch(db, query + " ORDER BY created_at")
        else:
            rows = fetch(db, query + " WHERE target = ? ORDER BY created_at", (target,))
        signed = self.case.history().comments  # the author is the trail's, not the row's
        return [
            Comment(
                CommentId(r["id"]),
                r["target"],
                r["text"],
                signed.get(r["id"], f"{r['author']} (not in the signed trail)"),
                r["created_at"],
            )
            for r in rows
        ]

    def sign_off(self, recording_session: str, review_session: str) -> SignoffId:
        """Sign off a VIG cycle (a film and its shared review), signed with the user's key."""
        case = self.case
        case.require(Action.SIGN_OFF)
        if case.sessions.get(recording_session).kind != SessionKind.RECORDING:
            raise LibraryError(f"{recording_session} is not a recording session")
        if case.sessions.get(review_session).kind != SessionKind.REVIEW:
            raise LibraryError(f"{review_session} is not a shared review session")
        film = case.sessions.film_of_review(review_session)
        if film is not None and film != recording_session:
            title = case.sessions.title
            raise LibraryError(
                f"the shared review {title(review_session)!r} showed a reel of "
                f"{title(film)!r}, not of {title(recording_session)!r};"
                " sign it off with its own film"
            )
        signoff_id, when = SignoffId(new_id("o")), now_iso()
        message = signoff_message(case.id, recording_session, review_session, when)
        signature = case.session.keys.require_signing_key().sign(message)
        case.db.execute(
            "INSERT INTO signoffs VALUES (?, ?, ?, ?, ?, ?)",
            (
                signoff_id,
                recording_session,
                review_session,
                case.session.name,
                when,
                base64.b64encode(signature).decode(),
            ),
        )
        case.audit("cycle.signoff", signoff_id, recording=recording_session, review=review_session)
        return signoff_id

    def signoffs(self) -> list[Signoff]:
        """Every sign-off, with whether its signature verifies against the signer's key."""
        keys = self.case.session.library.verify_keys()
        found = []
        for row in fetch(self.case.db, "SELECT * FROM signoffs ORDER BY signed_at"):
            message = signoff_message(
                self.case.id, row["recording_session"], row["review_session"], row["signed_at"]
            )
            try:
                keys[row["signed_by"]].verify(message, base64.b64decode(row["signature"]))
                valid = True
            except (KeyError, SignatureError):
                valid = False
            found.append(
                Signoff(
                    SignoffId(row["id"]),
                    SessionId(row["recording_session"]),
                    SessionId(row["review_session"]),
                    row["signed_by"],
                    row["signed_at"],
                    valid,
                )
            )
        return found


@dataclass(frozen=True)
class SignOffChoices:
    """What the sign-off dialog offers, read in one go in the case's queue: the films, the
    shared reviews (newest first), the film each review's reel came from (signed trail), and
    every session's title."""

    films: tuple[SessionId, ...]
    reviews: tuple[SessionId, ...]
    film_of: Mapping[str, SessionId | None]
    titles: Mapping[str, str]  # "Play with blocks"
    labels: Mapping[str, str]  # "Play with blocks · 2026-12-01"


def sign_off_choices(case: CaseLike) -> SignOffChoices:
    from .sessions import session_title

    sessions = case.sessions.all()
    reviews = [s.id for s in reversed(sessions) if s.kind == SessionKind.REVIEW]
    return SignOffChoices(
        tuple(s.id for s in sessions if s.kind == SessionKind.RECORDING),
        tuple(reviews),
        {review: case.sessions.film_of_review(review) for review in reviews},
        {s.id: session_title(s) for s in sessions},
        {s.id: f"{session_title(s)} · {s.date}" for s in sessions},
    )
