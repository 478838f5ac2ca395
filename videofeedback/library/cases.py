"""A case (a family): members, participants, consent, sessions, goals, and its audit trail."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from encryption import (
    Recipient,
    SignatureError,
    SigningKey,
    X25519Identity,
    private_folder,
)

from .audit import AuditLog, AuditReport, Problem, Replay, now_iso
from .case_db import get_meta, load_database, new_database, save_database, set_meta
from .errors import ConsentError, LibraryError, NotFoundError, PermissionDeniedError
from .history import CaseHistory
from .keyring import CaseKeys, write_key_file
from .library import UserSession, new_id
from .manifest import RetentionRecord, closure_message
from .merged_trail import chain_logs, chain_sizes, peer_folders, replay_merged
from .roles import Action, Role, require


class Programme(StrEnum):
    VIG = "VIG"
    PUP = "PUP"
    OTHER = "other"


class Purpose(StrEnum):
    FILMING = "filming"
    SHARED_REVIEW = "shared-review"
    SUPERVISION = "supervision"
    TRAINING = "training"
    FAMILY_COPY = "family-copy"


class SessionKind(StrEnum):
    RECORDING = "recording"
    REVIEW = "review"
    SUPERVISION = "supervision"


CONSENT_FOR_SESSION = {
    SessionKind.RECORDING: Purpose.FILMING,
    SessionKind.REVIEW: Purpose.SHARED_REVIEW,
    SessionKind.SUPERVISION: Purpose.SUPERVISION,
}


E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], text: str, what: str) -> E:
    for member in kind:
        if member.value.lower() == text.strip().lower().replace("_", "-"):
            return member
    raise LibraryError(
        f"unknown {what} {text!r}; choose one of: {', '.join(m.value for m in kind)}"
    )


def parse_date(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise LibraryError(f"{text!r} is not a date; write it as YYYY-MM-DD") from None


def signoff_message(case_id: str, recording: str, review: str, when: str) -> bytes:
    return f"videofeedback cycle sign-off\n{case_id}\n{recording}\n{review}\n{when}\n".encode()


class RollbackError(LibraryError):
    """The case folder is older than what this computer has seen, or was rewritten."""


def _closure_in_trail(record: RetentionRecord, history: CaseHistory) -> bool:
    """Does the case's verified trail hold the closure the library's record claims?"""
    for close in history.closures:
        same = (close.user, close.detail.get("retention_until")) == (record.signed_by, record.until)
        if same and (close.seq == record.entry or not record.closed):  # format 1: no number
            return True
    return False


def case_signing_key(identity: X25519Identity) -> SigningKey:
    """A signing key only holders of the case key can derive: a closure signed with it was
    made by someone who could open the case (a member), not by any library user."""
    seed = hashlib.sha256(b"videofeedback case signing key v1\n" + str(identity).encode())
    return SigningKey(seed.digest())


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class Case:
    """An open case. Changes are saved by ``save()``, atomically, with a signed audit head."""

    session: UserSession
    id: str
    identity: CaseKeys  # every key epoch; files are written to the newest only
    db: sqlite3.Connection
    _log: AuditLog | None = field(default=None, init=False, repr=False, compare=False)
    _replay: tuple[Replay, CaseHistory] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _merged: tuple[tuple[int, ...], CaseHistory] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    # --- storage -------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        return self.session.library.case_folder(self.id)

    @property
    def recipients(self) -> list[Recipient]:
        return [self.identity.recipient]

    def audit_log(self) -> AuditLog:
        """The case's log (one object per open case: its head is cached, not recomputed)."""
        if self._log is None:
            self._log = AuditLog(self.folder / "audit", self.id, self.recipients)
        return self._log

    def audit(self, action: str, obj: str, **detail: str) -> None:
        key = self.session.keys.require_signing_key()
        self.audit_log().append(self.session.name, action, obj, key, **detail)

    def save(self) -> None:
        """Write the database bound to the log's head, sign the head, and remember it here.

        The database records the head it was saved at; the checkpoint signs that head; this
        computer's state (outside the folder) records head and database hash, signed."""
        log = self.audit_log()
        head = log.head()  # cached: O(1), not a hash of every entry
        set_meta(self.db, "audit_size", str(head[0]))
        set_meta(self.db, "audit_head", head[1].hex())
        path = self.folder / "case.db.age"
        save_database(self.db, path, self.recipients)
        key = self.session.keys.require_signing_key()
        log.checkpoint(self.session.name, key, head)
        self.session.library.local.record_head(
            self.id, head[0], head[1], _file_hash(path), self.session.name, key
        )

    def _run_history(self) -> tuple[AuditReport, CaseHistory]:
        library = self.session.library
        history = CaseHistory({n: u.role for n, u in library.trusted_users().items()})
        merged = bool(peer_folders(self.folder))  # permissions: over the merged order
        report = self.audit_log().verify(
            [self.identity],
            library.verify_keys(),
            recorded_size=int(get_meta(self.db, "audit_size", "0")),
            policy=None if merged else history,
            legacy=library.legacy_head(self.id),
            known=library.known_head(self.id),
        )
        if merged:
            self._merged_problems(report, history)
        retention = library.manifest.retention.get(self.id)
        if retention and not _closure_in_trail(retention, history):
            report.problems.append(
                Problem(
                    report.entries,
                    f"the library holds a closing record for this case (by "
                    f"{retention.signed_by}, kept until {retention.until}) that its audit "
                    "trail does not hold: nobody closed the case so; the record is forged",
                )
            )
        return report, history

    def _merged_problems(self, report: AuditReport, history: CaseHistory) -> None:
        """With chains pulled from other devices: check each chain, then replay permissions,
        membership and consent over the merged order (docs/FORMAT.md §12.3)."""
        library = self.session.library
        keys = library.verify_keys()
        for log in chain_logs(self.folder, self.id)[1:]:
            peer = log.verify([self.identity], keys)
            device = log.folder.name[:8]
            report.problems.extend(
                Problem(p.position, f"device {device}: {p.message}") for p in peer.problems
            )
        legacy = library.legacy_head(self.id)
        fresh = CaseHistory({n: u.role for n, u in library.trusted_users().items()})
        report.problems.extend(
            replay_merged(
                self.folder, self.id, [self.identity], keys, fresh, legacy[0] if legacy else 0
            )
        )
        history.members, history.consent, history.closures = (
            fresh.members,
            fresh.consent,
            fresh.closures,
        )

    def verify_audit(self) -> AuditReport:
        """Every link, signature and permission of the trail, its checkpoints, and the head
        this computer saw last (docs/FORMAT.md, section 10.1)."""
        return self._run_history()[0]

    def history(self) -> CaseHistory:
        """The signed trail replayed (consent, closure): every entry once per opening, then
        only the entries added since."""
        library = self.session.library
        if peer_folders(self.folder):  # entries from other devices: the merged order
            return self._merged_history()
        if self._replay is None:
            legacy = library.legacy_head(self.id)
            report = AuditReport(0, 0, [], legacy=legacy[0] if legacy else 0)
            roles = {n: u.role for n, u in library.trusted_users().items()}
            self._replay = (Replay(report), CaseHistory(roles))
        state, history = self._replay
        self.audit_log().replay([self.identity], library.verify_keys(), history, state)
        return history

    def _merged_history(self) -> CaseHistory:
        """The merged trail replayed, again only when a chain grew (listing, no decryption)."""
        library = self.session.library
        sizes = (*chain_sizes(self.folder, self.id), self.identity.epoch)  # new keys: anew
        if self._merged is not None and self._merged[0] == sizes:
            return self._merged[1]
        merged = CaseHistory({n: u.role for n, u in library.trusted_users().items()})
        legacy = library.legacy_head(self.id)
        replay_merged(
            self.folder,
            self.id,
            [self.identity],
            library.verify_keys(),
            merged,
            legacy[0] if legacy else 0,
        )
        self._merged = (sizes, merged)
        return merged

    def require(self, action: Action) -> None:
        require(self.session.role, action)

    # --- details -------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return get_meta(self.db, "label")

    @property
    def closed(self) -> bool:
        return bool(get_meta(self.db, "closed_date"))

    def summary(self) -> dict[str, Any]:
        keys = ("label", "programme", "start_date", "closed_date", "retention_until")
        info: dict[str, Any] = {"id": self.id, **{k: get_meta(self.db, k) or None for k in keys}}
        info["members"] = self.members()
        info["participants"] = self.participants()
        info["consent"] = self.consent_table()
        info["sessions"] = self.sessions()
        info["goals"] = self.goals()
        info["comments"] = self.comments()
        info["signoffs"] = self.signoffs()
        return info

    def _require_open(self) -> None:
        if self.closed:
            raise LibraryError(f"case {self.id} is closed; nothing can be added to it")

    # --- members -------------------------------------------------------------------------

    def members(self) -> list[dict[str, Any]]:
        return _rows(self.db.execute("SELECT user, role FROM members ORDER BY user"))

    def member_names(self) -> list[str]:
        """The members as the signed trail has them (the database's table is a cache any
        member could edit: keys are never wrapped to a name only the database holds)."""
        signed = self.history().members
        if signed is not None:
            return sorted(signed)
        return [m["user"] for m in self.members()]  # a trail begun before format 2

    def _write_key(self, members: Iterable[str]) -> None:
        library = self.session.library
        recipients: list[Recipient] = [library.recipient_of(m) for m in members]
        recipients.append(library.recovery_recipient())
        write_key_file(self.folder, self.identity, recipients)

    def add_member(self, user: str) -> None:
        self.require(Action.EDIT_CASE)
        role = Role(self.session.library.user_record(user).role)
        if role == Role.ADMIN:
            raise PermissionDeniedError("an administrator cannot be a case member")
        self.db.execute(
            "INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?)",
            (user, role.value, self.session.name, now_iso()),
        )
        self.audit("member.add", user)
        self.save()  # the member list first, then the key: a crash in between grants nothing
        self._write_key(self.member_names())

    def remove_member(self, user: str) -> None:
        self.require(Action.EDIT_CASE)
        if user not in self.member_names():
            raise NotFoundError(f"{user} is not a member of case {self.id}")
        self.db.execute("DELETE FROM members WHERE user = ?", (user,))
        # a new key epoch, and the key first: access ends before anything else, and whatever
        # is written from now on is encrypted to the new epoch, which the removed user never had
        self.identity = self.identity.with_new_epoch()
        self._log = None  # the log's next entries go to the new epoch's recipient
        self._write_key([m for m in self.member_names() if m != user])
        self.audit("member.remove", user)
        # the library trail learns the new epoch's signing key: a closure signed with an
        # older one (which the removed member may have kept) no longer leads to a purge
        rekeyed = case_signing_key(self.identity.newest).verify_key
        self.session.audit("case.rekey", self.id, case_key=str(rekeyed))
        self.save()

    # --- participants and consent --------------------------------------------------------

    def add_participant(
        self, name: str, role: str, age_band: str | None = None, language: str | None = None
    ) -> str:
        self.require(Action.EDIT_CASE)
        self._require_open()
        if not name.strip():
            raise LibraryError("a participant needs a name (or a pseudonym)")
        participant_id = new_id("p")
        self.db.execute(
            "INSERT INTO participants VALUES (?, ?, ?, ?, ?, ?, ?)",
            (participant_id, name.strip(), role, age_band, language, self.session.name, now_iso()),
        )
        self.audit("participant.add", participant_id)
        return participant_id

    def participants(self) -> list[dict[str, Any]]:
        query = "SELECT id, name, role, age_band, language FROM participants ORDER BY created_at"
        return _rows(self.db.execute(query))

    def family_language(self) -> str:
        """The family's preferred language (the first participant who gave one), or ''."""
        return next((str(p["language"]) for p in self.participants() if p["language"]), "")

    def _participant(self, participant_id: str) -> dict[str, Any]:
        for p in self.participants():
            if p["id"] == participant_id:
                return p
        raise NotFoundError(f"there is no participant {participant_id} in case {self.id}")

    def set_consent(self, participant_id: str, purpose: Purpose, given: bool) -> None:
        self.require(Action.EDIT_CASE)
        self._participant(participant_id)
        status = "given" if given else "withdrawn"
        self.db.execute(
            "INSERT INTO consent(participant_id, purpose, status, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (participant_id, purpose.value, status, self.session.name, now_iso()),
        )
        self.audit(f"consent.{'give' if given else 'withdraw'}", participant_id, purpose=purpose)

    def consent_status(self, participant_id: str, purpose: Purpose) -> tuple[str, str] | None:
        """(status, when) of the latest consent the signed audit trail records, or None if
        the trail records none. The database's consent table is a cache that is never read
        for a decision: any member can write the database, only the trail is signed."""
        return self.history().consent.get((participant_id, purpose.value))

    def consent_table(self) -> list[dict[str, Any]]:
        table = []
        for p in self.participants():
            row: dict[str, Any] = {"participant": p["id"]}
            for purpose in Purpose:
                status = self.consent_status(p["id"], purpose)
                row[purpose.value] = status[0] if status else "not asked"
            table.append(row)
        return table

    def require_consent(self, purpose: Purpose) -> None:
        """Raise ConsentError, saying who and why, unless every participant consents."""
        participants = self.participants()
        if not participants:
            raise ConsentError(
                f"case {self.id} has no participants yet; add the family members and record "
                f"their consent to {purpose.value} first"
            )
        for p in participants:
            status = self.consent_status(p["id"], purpose)
            who = f"{p['name']} ({p['role']})"
            if status is None:
                raise ConsentError(
                    f"{who} has not given consent to {purpose.value}; record it first"
                )
        self.refuse_if_withdrawn(purpose)

    def refuse_if_withdrawn(self, purpose: Purpose) -> None:
        """Raise ConsentError if anyone has withdrawn consent to ``purpose``."""
        for p in self.participants():
            status = self.consent_status(p["id"], purpose)
            if status and status[0] == "withdrawn":
                raise ConsentError(
                    f"{p['name']} ({p['role']}) withdrew consent to {purpose.value} on "
                    f"{status[1][:10]}; this is not allowed any more"
                )

    # --- sessions ------------------------------------------------------------------------

    def new_session(self, kind: SessionKind, when: date, notes: str = "") -> str:
        self.require(Action.CREATE_SESSION)
        self._require_open()
        self.require_consent(CONSENT_FOR_SESSION[kind])
        session_id = new_id("s")
        self.db.execute(
            "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
            (session_id, kind.value, when.isoformat(), notes, self.session.name, now_iso()),
        )
        self.audit("session.create", session_id, kind=kind)
        return session_id

    def sessions(self) -> list[dict[str, Any]]:
        return _rows(
            self.db.execute("SELECT id, kind, date, notes FROM sessions ORDER BY date, id")
        )

    def session_record(self, session_id: str) -> dict[str, Any]:
        for s in self.sessions():
            if s["id"] == session_id:
                return s
        raise NotFoundError(f"there is no session {session_id} in case {self.id}")

    def add_parent_words(self, session_id: str, item: str, text: str) -> str:
        self.require(Action.RUN_REVIEW)
        self.session_record(session_id)
        words_id = new_id("w")
        self.db.execute(
            "INSERT INTO parent_words VALUES (?, ?, ?, ?, ?, ?)",
            (words_id, session_id, item, text, self.session.name, now_iso()),
        )
        self.audit("review.words", words_id, session=session_id)
        return words_id

    # --- supervision ---------------------------------------------------------------------

    def add_comment(self, target: str, text: str) -> str:
        """A supervisor's comment on a session, moment or recording (by id)."""
        self.require(Action.COMMENT)
        if not text.strip():
            raise LibraryError("a comment needs some text")
        comment_id = new_id("k")
        self.db.execute(
            "INSERT INTO comments VALUES (?, ?, ?, ?, ?)",
            (comment_id, target, text.strip(), self.session.name, now_iso()),
        )
        self.audit("comment.add", comment_id, target=target)
        return comment_id

    def comments(self, target: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT id, target, text, author, created_at FROM comments"
        if target is None:
            return _rows(self.db.execute(query + " ORDER BY created_at"))
        return _rows(self.db.execute(query + " WHERE target = ? ORDER BY created_at", (target,)))

    def sign_off(self, recording_session: str, review_session: str) -> str:
        """Sign off a VIG cycle (a film and its shared review), signed with the user's key."""
        self.require(Action.SIGN_OFF)
        if self.session_record(recording_session)["kind"] != SessionKind.RECORDING.value:
            raise LibraryError(f"{recording_session} is not a recording session")
        if self.session_record(review_session)["kind"] != SessionKind.REVIEW.value:
            raise LibraryError(f"{review_session} is not a shared review session")
        signoff_id, when = new_id("o"), now_iso()
        message = signoff_message(self.id, recording_session, review_session, when)
        signature = self.session.keys.require_signing_key().sign(message)
        self.db.execute(
            "INSERT INTO signoffs VALUES (?, ?, ?, ?, ?, ?)",
            (
                signoff_id,
                recording_session,
                review_session,
                self.session.name,
                when,
                base64.b64encode(signature).decode(),
            ),
        )
        self.audit("cycle.signoff", signoff_id, recording=recording_session, review=review_session)
        return signoff_id

    def signoffs(self) -> list[dict[str, Any]]:
        """Every sign-off, with whether its signature verifies against the signer's key."""
        rows = _rows(self.db.execute("SELECT * FROM signoffs ORDER BY signed_at"))
        keys = self.session.library.verify_keys()
        for row in rows:
            message = signoff_message(
                self.id, row["recording_session"], row["review_session"], row["signed_at"]
            )
            try:
                keys[row["signed_by"]].verify(message, base64.b64decode(row.pop("signature")))
                row["valid"] = True
            except (KeyError, SignatureError):
                row["valid"] = False
        return rows

    # --- goals ---------------------------------------------------------------------------

    def add_goal(self, text: str) -> str:
        self.require(Action.EDIT_CASE)
        self._require_open()
        goal_id = new_id("g")
        self.db.execute(
            "INSERT INTO goals VALUES (?, ?, ?, ?)", (goal_id, text, self.session.name, now_iso())
        )
        self.audit("goal.add", goal_id)
        return goal_id

    def score_goal(self, goal_id: str, score: int, when: date) -> None:
        self.require(Action.EDIT_CASE)
        if not any(g["id"] == goal_id for g in self.goals()):
            raise NotFoundError(f"there is no goal {goal_id} in case {self.id}")
        if not -2 <= score <= 2:
            raise LibraryError("a goal attainment score is from -2 to +2")
        self.db.execute(
            "INSERT OR REPLACE INTO goal_scores VALUES (?, ?, ?, ?, ?)",
            (goal_id, when.isoformat(), score, self.session.name, now_iso()),
        )
        self.audit("goal.score", goal_id, date=when.isoformat(), score=str(score))

    def goals(self) -> list[dict[str, Any]]:
        goals = _rows(self.db.execute("SELECT id, text FROM goals ORDER BY created_at"))
        for goal in goals:
            goal["scores"] = _rows(
                self.db.execute(
                    "SELECT date, score FROM goal_scores WHERE goal_id = ? ORDER BY date",
                    (goal["id"],),
                )
            )
        return goals

    # --- closing -------------------------------------------------------------------------

    def close_case(self, when: date) -> date:
        """Close the case; return the date after which it may be purged."""
        self.require(Action.EDIT_CASE)
        self._require_open()
        library = self.session.library
        until = when + timedelta(days=library.manifest.settings.retention_days)
        set_meta(self.db, "closed_date", when.isoformat())
        set_meta(self.db, "retention_until", until.isoformat())
        self.audit("case.close", self.id, retention_until=until.isoformat())
        entry, value = self.audit_log().head()
        closed, name = when.isoformat(), self.session.name
        message = closure_message(self.id, closed, until.isoformat(), name, entry, value.hex())
        signature = self.session.keys.require_signing_key().sign(message)
        case_signature = case_signing_key(self.identity.newest).sign(message)
        record = RetentionRecord(
            until.isoformat(),
            self.session.name,
            base64.b64encode(signature).decode(),
            when.isoformat(),
            base64.b64encode(case_signature).decode(),
            entry,
            value.hex(),
        )
        library.record_retention(record, self.id)
        self.session.audit("case.close", self.id, until=until.isoformat())
        return until


# --- creating and opening ------------------------------------------------------------------


def create_case(
    session: UserSession,
    label: str,
    programme: Programme,
    start: date,
    members: Iterable[str] = (),
) -> Case:
    require(session.role, Action.CREATE_CASE)
    if not label.strip():
        raise LibraryError("a case needs a label (a pseudonym or the service's reference)")
    library = session.library
    for user in members:
        if Role(library.user_record(user).role) == Role.ADMIN:
            raise PermissionDeniedError(f"{user} is an administrator and cannot be a case member")
    case_id = new_id("c")
    private_folder(library.case_folder(case_id), parents=True)
    keys = CaseKeys.new(case_id)
    library.key_store().change(session.identities, library.store_recipients(), {case_id: keys.kek})
    case = Case(session, case_id, keys, new_database())
    for key, value in (
        ("id", case_id),
        ("label", label.strip()),
        ("programme", programme.value),
        ("start_date", start.isoformat()),
        ("created_by", session.name),
    ):
        set_meta(case.db, key, value)
    everyone = dict.fromkeys([session.name, *members])
    for user in everyone:
        role = library.user_record(user).role
        case.db.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?)", (user, role, session.name, now_iso())
        )
    case._write_key(everyone)
    case.audit("case.create", case_id, programme=programme, members=",".join(everyone))
    case.save()
    announced = case_signing_key(case.identity.newest).verify_key
    session.audit("case.create", case_id, case_key=str(announced))
    return case


def open_case(session: UserSession, case_id: str) -> Case:
    """Open a case the user is a member of; every opening is audited."""
    try:
        require(session.role, Action.VIEW)
        identity = session.case_identity(case_id)
    except PermissionDeniedError:
        session.audit("case.open.denied", case_id)
        raise
    folder = session.library.case_folder(case_id)
    case = Case(session, case_id, identity, load_database(folder / "case.db.age", [identity]))
    check_head(case)
    if session.name not in case.member_names():
        session.audit("case.open.denied", case_id)
        raise PermissionDeniedError(
            f"you ({session.name}) are no longer a member of case {case_id}"
        )
    case.audit("case.open", case_id)
    return case


def check_head(case: Case) -> None:
    """Before anything is read or written: is the folder at least as new as this computer has
    seen it, and does the database belong to the log's head it recorded? (RollbackError)"""
    library, log = case.session.library, case.audit_log()
    chain = log.chain_values()  # O(n) reads, no decryption: once per opening
    size = len(chain) - 1
    known = library.local.head(case.id, library.verify_keys())
    db_size = int(get_meta(case.db, "audit_size", "0"))
    db_head = get_meta(case.db, "audit_head")
    if known and known.entries > size:
        raise RollbackError(
            f"case {case.id} was rolled back: this computer has seen {known.entries} entries "
            f"of its audit trail, the folder has {size}. Entries were removed or an older copy "
            "was put back; nothing was opened. Ask your administrator to restore the newest copy"
        )
    if known and chain[known.entries].hex() != known.log:
        raise RollbackError(
            f"the audit trail of case {case.id} was rewritten since this computer saw it; "
            "nothing was opened. Ask your administrator"
        )
    if db_size > size:
        raise RollbackError(
            f"entries {size + 1}-{db_size} of the audit trail of case {case.id} were removed "
            "(its database was saved when the trail had them); nothing was opened. Ask your "
            "administrator to restore the newest copy"
        )
    if db_head and chain[db_size].hex() != db_head:
        raise RollbackError(
            f"the database of case {case.id} does not belong to its audit trail; nothing was "
            "opened. Ask your administrator"
        )
    if known and (
        db_size < known.entries
        or (db_size == known.entries and _file_hash(case.folder / "case.db.age") != known.db)
    ):
        raise RollbackError(
            f"the database of case {case.id} was put back to an older copy (saved at "
            f"{db_size} entries; this computer saw it saved at {known.entries}); nothing was "
            "opened. Ask your administrator to restore the newest copy"
        )


def _databases(session: UserSession) -> Iterator[tuple[str, sqlite3.Connection]]:
    """Each case this user can decrypt, with its database read (not opened: no audit entry)."""
    for case_id in session.library.case_ids():
        identity = session.try_case_identity(case_id)
        if identity is None:
            continue
        db = load_database(session.library.case_folder(case_id) / "case.db.age", [identity])
        try:
            yield case_id, db
        finally:
            db.close()


def list_cases(session: UserSession) -> list[dict[str, Any]]:
    """The cases this user can open (label, programme, dates); others stay invisible."""
    session.audit("case.list", "-")
    keys = ("label", "programme", "start_date", "closed_date")
    return [
        {"id": case_id, **{k: get_meta(db, k) or None for k in keys}}
        for case_id, db in _databases(session)
    ]


def find_case(session: UserSession, holds: Callable[[sqlite3.Connection], bool], what: str) -> Case:
    """Open the case whose database ``holds`` what is looked for. The others are only searched,
    so their audit trails get no entry (and no unsigned one) for a case nobody opened."""
    for case_id, db in _databases(session):
        if holds(db):
            return open_case(session, case_id)
    raise NotFoundError(f"there is no {what} in any case you can open")
