"""Sync a library's cases with the team store: pull, merge, push (docs/FORMAT.md §12).

``sync_library(library, session, remote_name, progress)`` syncs every case the user can
open and returns a ``SyncReport``: per case what went up and down, its conflicts, and its
error if it could not be synced (a rollback, a key this laptop lacks). An unreachable store
stops the whole sync (``StoreUnreachableError``): the work stays on this laptop. Whenever the
sync fails (or a case in it), this user's changes are sealed into batches they sign.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from videofeedback.errors import VideofeedbackError
from videofeedback.library import Library, UserSession
from videofeedback.library.audit import now_iso
from videofeedback.library.case_db import load_database
from videofeedback.library.cases import Case, check_head, writing
from videofeedback.library.errors import LibraryError, PermissionDeniedError
from videofeedback.library.records import CaseId
from videofeedback.operations import live_case, runner_for

from .case_files import CaseReport
from .case_sync import CaseSync
from .errors import StoreError, StoreUnreachableError, SyncError
from .invites import drop_case, invite_members, make_case, mark_read, read_inbox
from .media_index import locate_index, locate_media  # noqa: F401 - the engine answers the player
from .media_sync import Progress
from .quiet import is_quiet, remember
from .remotes import find_remote
from .roster_sync import refresh_roster
from .sealing import seal_offline
from .store import S3Store
from .trail_sync import after_sync

T = TypeVar("T")


@dataclass
class SyncReport:
    remote: str
    cases: list[CaseReport] = field(default_factory=list)
    finished: str = ""
    found: list[str] = field(default_factory=list)  # cases new here, from invitations
    roster: str = ""  # what happened to the team's list of users (roster_sync.py)

    @property
    def ok(self) -> bool:
        return all(c.error is None for c in self.cases)

    @property
    def conflicts(self) -> int:
        return sum(len(c.conflicts) for c in self.cases)

    def to_json(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "ok": self.ok,
            "finished": self.finished,
            "conflicts": self.conflicts,
            "found": self.found,
            "roster": self.roster,
            "cases": [c.to_json() for c in self.cases],
        }


def open_for_sync(session: UserSession, case_id: str) -> Case:
    """Open a case without an audit entry of the opening (a sync that changes nothing
    leaves the trail as it was), with the same rollback and membership checks."""
    identity = session.case_identity(case_id)
    folder = session.library.case_folder(case_id)
    with writing(case_id):  # never between another object's database and its head
        db = load_database(folder / "case.db.age", [identity])
        case = Case(session, CaseId(case_id), identity, db)
        check_head(case)
    if session.name not in case.members.names():
        raise PermissionDeniedError(f"you ({session.name}) are no longer a member of {case_id}")
    return case


def _sync_one(
    session: UserSession,
    case_id: str,
    store: Any,
    progress: Progress | None,
    heads: Any,
    quiet: bool,
    remote_name: str,
) -> CaseReport:
    """One case: through the app's open object of it, in its queue, if it has one (the app's
    next save would otherwise write back a database without what the sync merged), else on a
    fresh object; then its members are invited (``invites.py``)."""

    def run(case: Case) -> CaseReport:
        if session.name not in case.members.names():
            raise PermissionDeniedError(f"you ({session.name}) are no longer a member")
        done = CaseReport(case_id)
        if not quiet:
            engine = CaseSync(case, store, progress)
            engine.raw_heads = heads
            done = engine.run()
        after_sync(case)  # epochs and closure into this library's trail (trail_sync.py)
        invite_members(case, store, remote_name)
        return done

    return run_on_case(session, case_id, run)


def run_on_case(session: UserSession, case_id: str, job: Callable[[Case], T]) -> T:
    """``job`` on the app's open object of the case, in its queue, if it has one (the app's
    next save would otherwise write back a database without what was merged), else on a
    fresh object."""
    live = live_case(case_id)
    if live is not None and _same_user(live.session, session):
        return runner_for(live).job(job).result()
    return job(open_for_sync(session, case_id))


def sync_library(
    library: Library,
    session: UserSession,
    remote_name: str | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Every case this user can open, synced. Whatever stops the sync (the store unreachable
    or refusing the keys, a case refused), this user's changes are sealed into batches
    signed by them (``sealing.py``), never left for the next user who syncs here."""
    try:
        report = _sync_library(library, session, remote_name, progress)
    except Exception:
        _seal(library, session)
        raise
    if not report.ok:  # a case that failed before its merge: its changes are this user's
        _seal(library, session)
    return report


def _seal(library: Library, session: UserSession) -> None:
    try:
        seal_offline(library, session)  # this user's changes: signed by them, kept here
    except VideofeedbackError:  # the sync's own error is the one to report
        return


def _sync_library(
    library: Library,
    session: UserSession,
    remote_name: str | None,
    progress: Progress | None,
) -> SyncReport:
    remote = find_remote(session, remote_name)
    store = remote.store()
    store.check()
    report = SyncReport(remote.name)
    report.roster = refresh_roster(session, remote)  # new users first: cases may name them
    take_invitations(session, store, report, progress)
    for case_id in library.case_ids():
        keys = session.try_case_identity(case_id)
        if keys is None or case_id in report.found:
            continue
        try:
            quiet, heads = is_quiet(library, case_id, keys, store)
            # a quiet case with conflicts left is merged again: the app keeps showing them
            quiet = quiet and not library.local.sync_value(f"conflicts:{case_id}", 0)
            if quiet and library.local.sync_value(f"invited:{remote.name}:{case_id}"):
                report.cases.append(CaseReport(case_id))
                continue
            done = _sync_one(session, case_id, store, progress, heads, quiet, remote.name)
            report.cases.append(done)
            if not quiet:
                remember(library, case_id, not done.pending_media)
                library.local.set_sync_value(f"conflicts:{case_id}", len(done.conflicts))
        except PermissionDeniedError:
            continue  # no longer a member here: nothing of it is read or sent
        except StoreUnreachableError:
            raise
        except (StoreError, LibraryError) as exc:  # this case only; the others go on
            report.cases.append(CaseReport(case_id, error=str(exc)))
    report.finished = now_iso()
    library.local.set_sync_value(f"last:{remote.name}", report.finished)
    return report


def take_invitations(
    session: UserSession, store: S3Store, report: SyncReport, progress: Progress | None
) -> None:
    """Make the cases this user was invited to that this laptop lacks, and pull them; a
    case whose pulled state does not make the user a member is removed again."""
    invitations, upto = read_inbox(session, store, report.remote)
    for invitation in invitations:
        case = make_case(session, invitation)
        if case is None:
            continue
        try:
            engine = CaseSync(case, store, progress)
            engine.fresh = True
            done = engine.run()
            member = session.name in case.members.names()
        except StoreUnreachableError:
            drop_case(session, invitation.case_id)
            raise
        except (SyncError, LibraryError):  # this case cannot be had (a key not held: removed)
            drop_case(session, invitation.case_id)
            continue
        except StoreError:  # the store refused something: read again next time, from here
            drop_case(session, invitation.case_id)
            return
        if not member:
            drop_case(session, invitation.case_id)
            continue
        after_sync(case)
        report.cases.append(done)
        report.found.append(case.id)
        remember(session.library, case.id, not done.pending_media)
    mark_read(session.library, report.remote, upto)


def sync_status(library: Library, remote_name: str) -> dict[str, Any]:
    """Cheap (no decryption, no store): the audit entries of this laptop not yet in the
    store (every change records one), and when this laptop last finished a sync."""
    local = library.local
    device = local.device_id()
    pending = 0
    for case_id in library.case_ids():
        entries = library.case_folder(case_id) / "audit" / "entries"
        count = sum(1 for p in entries.glob("*.age")) if entries.exists() else 0
        pushed = local.sync_heads(case_id).get(device, {}).get("entries", 0)
        pending += max(0, count - int(pushed))
    return {"pending_uploads": pending, "last_sync": local.sync_value(f"last:{remote_name}")}


def _same_user(one: UserSession, other: UserSession) -> bool:
    """The same user of the same library folder (the app's session and the sync's may be
    two unlocks of it)."""
    return one.name == other.name and one.library.folder == other.library.folder
