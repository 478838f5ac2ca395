"""What a case's sync tells this library's own trail (docs/FORMAT.md §12.8).

A case's key epochs and its closure are announced in the library trail of the laptop where
they happened; the library trail itself does not travel (it is encrypted to the
administrators). So after each case sync the member who synced announces here, from what
the sync accepted, every epoch of the case this library has not announced yet (``case.key``,
each proven by the epoch before it), and takes a closure that came in the case's signed
state (meta ``closure``) once the case's verified, merged trail holds its ``case.close``:
the retention record goes to the manifest and a ``case.close`` entry naming the closer
(``by``) to the library trail. Purge, ``audit verify`` and retention then behave here as on
the laptop that did it.
"""

from __future__ import annotations

import json

from videofeedback.library.case_db import get_meta
from videofeedback.library.cases import Case, closure_in_trail, epoch_announcement
from videofeedback.library.manifest import RetentionRecord


def announce_epochs(case: Case) -> int:
    """Announce the case's epochs this library lacks; how many were announced."""
    library, keys = case.session.library, case.identity
    name = f"announced:{case.id}"
    done = int(library.local.sync_value(name, 0))
    for epoch in range(done + 1, keys.epoch + 1):
        case.session.audit("case.key", case.id, **epoch_announcement(case.id, keys, epoch))
        library.local.set_sync_value(name, epoch)
    return max(0, keys.epoch - done)


def take_closure(case: Case) -> bool:
    """Record a closure that came with the case's state, if its trail holds it."""
    library = case.session.library
    text = get_meta(case.db, "closure")
    if not text or case.id in library.manifest.retention:
        return False
    try:
        record = RetentionRecord(**json.loads(text))
    except (TypeError, ValueError):
        return False  # a damaged record decides nothing
    if not closure_in_trail(record, case.history()):
        return False  # not closed so by the signed trail: never recorded for a purge
    library.record_retention(record, case.id)
    case.session.audit("case.close", case.id, until=record.until, by=record.signed_by)
    return True


def after_sync(case: Case) -> None:
    announce_epochs(case)
    take_closure(case)
