"""A case (a family): members, participants, consent, sessions, goals, and its audit trail."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from encryption import (
    Recipient,
    SigningKey,
    X25519Identity,
    private_folder,
)

from .audit import AuditLog, AuditReport, Problem, Replay, now_iso
from .case_db import get_meta, load_database, new_database, save_database, set_meta
from .case_media import CaseMedia
from .consent import Consent
from .epoch_notes import write_note
from .errors import LibraryError, NotFoundError, PermissionDeniedError
from .goals import Goals
from .history import CaseHistory
from .key_announcements import announcement
from .keyring import CaseKeys
from .library import UserSession, new_id
from .manifest import RetentionRecord, closure_message
from .members import Members
from .merged_trail import (
    chain_logs,
    chain_sizes,
    is_synced,
    peer_folders,
    replay_merged,
    seen_vector,
)
from .participants import Participants
from .records import CaseId, CaseListing, Programme, Purpose, SessionKind, as_json
from .roles import Action, Role, require
from .sessions import Sessions
from .supervision import Supervision

__all__ = ["Programme", "Purpose", "SessionKind"]


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


class RollbackError(LibraryError):
    """The case folder is older than what this computer has seen, or was rewritten."""


def closure_in_trail(record: RetentionRecord, history: CaseHistory) -> bool:
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


def epoch_announcement(case_id: str, keys: CaseKeys, epoch: int | None = None) -> dict[str, str]:
    """The detail announcing epoch ``epoch`` (the newest by default) of the case's signing
    key, proven by the epoch before it (docs/FORMAT.md §12.8)."""
    epoch = epoch or keys.epoch
    key = case_signing_key(keys.epoch_identity(epoch))
    previous = case_signing_key(keys.epoch_identity(epoch - 1)) if epoch > 1 else None
    return announcement(case_id, epoch, key, previous)


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Case:
    """An open case. Changes are saved by ``save()``, atomically, with a signed audit head."""

    session: UserSession
    id: CaseId
    identity: CaseKeys  # every key epoch; files are written to the newest only
    db: sqlite3.Connection
    _log: AuditLog | None = field(default=None, init=False, repr=False, compare=False)
    _replay: tuple[Replay, CaseHistory] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _merged: tuple[tuple[int, ...], CaseHistory] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    # --- the managers (each a small view over the one database; made on each use, so
    # the case holds none of them: no reference cycle keeps a case nobody holds alive) ---

    @property
    def sessions(self) -> Sessions:
        return Sessions(self)

    @property
    def media(self) -> CaseMedia:
        return CaseMedia(self)

    @property
    def participants(self) -> Participants:
        return Participants(self)

    @property
    def consent(self) -> Consent:
        return Consent(self)

    @property
    def goals(self) -> Goals:
        return Goals(self)

    @property
    def supervision(self) -> Supervision:
        return Supervision(self)

    @property
    def members(self) -> Members:
        return Members(self)

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
        if is_synced(self.folder):  # what this laptop had seen: the merged trail's order
            detail["seen"] = seen_vector(self.folder, self.id, self.device)
        self.audit_log().append(self.session.name, action, obj, key, **detail)

    @property
    def device(self) -> str:
        """This laptop's device id in the team store (created on first use)."""
        return self.session.library.local.device_id()

    def save(self) -> None:
        """Write the database bound to the log's head, sign the head, and remember it here.

        The database records the head it was saved at; the checkpoint signs that head; this
        computer's state (outside the folder) records head and database hash, signed."""
        with writing(self.id):
            self._save()

    def _save(self) -> None:
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
        if retention and not closure_in_trail(retention, history):
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
        problems, fresh = self._replay_merged()
        report.problems.extend(problems)
        history.members, history.consent, history.closures = (
            fresh.members,
            fresh.consent,
            fresh.closures,
        )
        history.removals, history.comments = fresh.removals, fresh.comments

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
        if self._merged is not None and self._merged[0] == self._chain_sizes():
            return self._merged[1]
        return self._replay_merged()[1]

    def _chain_sizes(self) -> tuple[int, ...]:
        return (*chain_sizes(self.folder, self.id), self.identity.epoch)  # new keys: anew

    def _replay_merged(self) -> tuple[list[Problem], CaseHistory]:
        """The merged trail replayed over a fresh history: its refusals and the history,
        which ``history`` then reuses until a chain grows."""
        library = self.session.library
        sizes = self._chain_sizes()
        merged = CaseHistory({n: u.role for n, u in library.trusted_users().items()})
        legacy = library.legacy_head(self.id)
        problems = replay_merged(
            self.folder,
            self.id,
            [self.identity],
            library.verify_keys(),
            merged,
            legacy[0] if legacy else 0,
            self.device,
        )
        self._merged = (sizes, merged)
        return problems, merged

    def require(self, action: Action) -> None:
        require(self.session.role, action)

    def start_key_epoch(self, removes: str = "") -> None:
        """Write from now on to a new key epoch (the log's next entries too), with its signed
        note (who rotated, removing whom: docs/FORMAT.md §12.6)."""
        self.identity = self.identity.with_new_epoch()
        self._log = None
        write_note(self, removes)

    def announce_key(self, action: str) -> None:
        """The library trail learns the newest epoch's case signing key (a closure signed
        with an older one no longer leads to a purge)."""
        detail = epoch_announcement(self.id, self.identity)
        self.session.audit(action, self.id, **detail)
        local = self.session.library.local
        local.set_sync_value(f"announced:{self.id}:{self.identity.epoch}", detail["case_key"])
        local.set_sync_value(f"announced:{self.id}", self.identity.epoch)

    # --- details -------------------------------------------------------------------------

    @property
    def label(self) -> str:
        return get_meta(self.db, "label")

    @property
    def closed(self) -> bool:
        return bool(get_meta(self.db, "closed_date"))

    def describe(self, target: str) -> str:
        """What an id of this case is, in words (videofeedback/library/describe.py)."""
        from .describe import describe

        return describe(self, target)

    def summary(self) -> dict[str, Any]:
        keys = ("label", "programme", "start_date", "closed_date", "retention_until")
        info: dict[str, Any] = {"id": self.id, **{k: get_meta(self.db, k) or None for k in keys}}
        info["members"] = [as_json(m) for m in self.members.all()]
        info["participants"] = [as_json(p) for p in self.participants.all()]
        info["consent"] = [row.as_json() for row in self.consent.table()]
        info["sessions"] = [as_json(s) for s in self.sessions.all()]
        info["goals"] = [as_json(g) for g in self.goals.all()]
        info["comments"] = [as_json(c) for c in self.supervision.comments()]
        info["signoffs"] = [as_json(s) for s in self.supervision.signoffs()]
        return info

    def require_open(self) -> None:
        if self.closed:
            raise LibraryError(f"case {self.id} is closed; nothing can be added to it")

    # --- closing -------------------------------------------------------------------------

    def close_case(self, when: date) -> date:
        """Close the case; return the date after which it may be purged."""
        self.require(Action.EDIT_CASE)
        self.require_open()
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
        set_meta(self.db, "closure", json.dumps(asdict(record), sort_keys=True))  # travels
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
        library.recipient_of(user)  # refused if removed from the library
        if Role(library.user_record(user).role) == Role.ADMIN:
            raise PermissionDeniedError(f"{user} is an administrator and cannot be a case member")
    case_id = new_id("c")
    private_folder(library.case_folder(case_id), parents=True)
    keys = CaseKeys.new(case_id)
    library.key_store().change(session.identities, library.store_recipients(), {case_id: keys.kek})
    case = Case(session, CaseId(case_id), keys, new_database())
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
    case.members.write_key(everyone)
    case.audit("case.create", case_id, programme=programme, members=",".join(everyone))
    case.save()
    case.announce_key("case.create")
    return case


_writing: dict[str, threading.Lock] = {}
_writing_guard = threading.Lock()


def writing(case_id: str) -> threading.Lock:
    """The lock a save of this case holds in this process from writing its database until
    this computer has recorded the head it belongs to. An opening takes it too: a case
    opened again while an earlier object of it was saving (a view left, the case chosen
    again) read the new database with the old recorded head and was refused as rolled back.
    Two processes are kept apart by the library's lock."""
    with _writing_guard:
        return _writing.setdefault(case_id, threading.Lock())


def open_case(session: UserSession, case_id: str) -> Case:
    """Open a case the user is a member of; every opening is audited."""
    try:
        require(session.role, Action.VIEW)
        identity = session.case_identity(case_id)
    except PermissionDeniedError:
        session.audit("case.open.denied", case_id)
        raise
    folder = session.library.case_folder(case_id)
    with writing(case_id):  # never between another Case object's database and its head
        db = load_database(folder / "case.db.age", [identity])
        case = Case(session, CaseId(case_id), identity, db)
        check_head(case)
    if session.name not in case.members.names():
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


def list_cases(session: UserSession) -> list[CaseListing]:
    """The cases this user can open (label, programme, dates); others stay invisible."""
    session.audit("case.list", "-")
    keys = ("label", "programme", "start_date", "closed_date")
    return [
        CaseListing(CaseId(case_id), *(get_meta(db, k) or None for k in keys))
        for case_id, db in _databases(session)
    ]


def find_case(session: UserSession, holds: Callable[[sqlite3.Connection], bool], what: str) -> Case:
    """Open the case whose database ``holds`` what is looked for. The others are only searched,
    so their audit trails get no entry (and no unsigned one) for a case nobody opened."""
    for case_id, db in _databases(session):
        if holds(db):
            return open_case(session, case_id)
    raise NotFoundError(f"there is no {what} in any case you can open")
