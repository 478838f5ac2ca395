"""Sealing this user's changes into signed batches when the store cannot be reached
(docs/FORMAT.md §12.3): a change batch is made from the database's difference with the last
merge and signed by the user who syncs, so a change saved offline must become a batch in
its own author's session — not in the next sync, perhaps by another user of this laptop.
"""

from __future__ import annotations

from videofeedback.library import Library, UserSession
from videofeedback.library.cases import Case
from videofeedback.library.errors import LibraryError, PermissionDeniedError
from videofeedback.library.merged_trail import is_synced

from .case_sync import CaseSync
from .errors import SyncError
from .quiet import fingerprint


def seal_offline(library: Library, session: UserSession) -> int:
    """Every synced case this user can open: its unsynced changes into a batch signed by
    them, merged locally (the store is not touched). Returns how many batches were made;
    a case that cannot be sealed is left for the next sync."""
    from .sync import run_on_case  # noqa: PLC0415 (sync imports this module)

    made = 0
    for case_id in library.case_ids():
        if session.try_case_identity(case_id) is None:
            continue
        if not is_synced(library.case_folder(case_id)):
            continue
        now = fingerprint(library, case_id)  # unchanged since the last sync or seal: skip
        if now in (library.local.sync_value(f"quiet:{case_id}"), _sealed(library, case_id)):
            continue
        try:
            made += run_on_case(session, case_id, _seal)
        except (PermissionDeniedError, LibraryError, SyncError):
            continue
        library.local.set_sync_value(f"sealed:{case_id}", fingerprint(library, case_id))
    return made


def _sealed(library: Library, case_id: str) -> str | None:
    value = library.local.sync_value(f"sealed:{case_id}")
    return str(value) if value else None


def _seal(case: Case) -> int:
    engine = CaseSync(case, None)  # type: ignore[arg-type]  # no store: nothing is sent
    engine._merge()  # noqa: SLF001 (the merge without pull or push)
    return 1 if engine.report.changes else 0
