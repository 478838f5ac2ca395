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

The library remembers which key it announced for each epoch (``announced:CASE:E``). When a
sync took a competing rotation to an epoch it had announced (epochs.decide), it announces
the winner as a replacement carrying the winning rotation's signed note, and the epochs
after it again. And after every sync a retention record whose closing entry the case's
merged replay no longer accepts (its closer was removed by a concurrent rotation, say) is
dropped, with a ``case.reopen`` entry in the library trail: no purge follows from it.
"""

from __future__ import annotations

import base64
import json

from videofeedback.library.case_db import get_meta
from videofeedback.library.cases import (
    Case,
    case_signing_key,
    closure_in_trail,
    epoch_announcement,
)
from videofeedback.library.epoch_notes import signed_note
from videofeedback.library.manifest import RetentionRecord, write_manifest


def announce_epochs(case: Case) -> int:
    """Announce the case's epochs this library lacks, or announced with a key that lost to
    a competing rotation; how many were announced."""
    library, keys = case.session.library, case.identity
    name = f"announced:{case.id}"
    done, count = int(library.local.sync_value(name, 0)), 0
    for epoch in range(1, keys.epoch + 1):
        key = str(case_signing_key(keys.epoch_identity(epoch)).verify_key)
        said = library.local.sync_value(f"{name}:{epoch}")
        if epoch <= done and said in (None, key):  # announced: no proof is signed again
            if said is None:  # announced before keys were remembered per epoch: assumed so
                library.local.set_sync_value(f"{name}:{epoch}", key)
            continue
        detail = epoch_announcement(case.id, keys, epoch)
        if epoch <= done:  # this laptop took another rotation to an epoch it announced
            note = signed_note(case.folder, epoch, keys)
            if note is None:
                continue  # no note to prove it: the old key stays, so nothing is purged
            detail |= {"replaces": said, "note": base64.b64encode(note).decode()}
            done = epoch  # the later epochs were on the losing branch: announced again
        case.session.audit("case.key", case.id, **detail)
        library.local.set_sync_value(f"{name}:{epoch}", detail["case_key"])
        library.local.set_sync_value(name, epoch)
        count += 1
    return count


def check_closure(case: Case) -> bool:
    """Drop the retention record if the case's merged replay no longer holds its closing
    entry (logged as ``case.reopen``); whether it was dropped."""
    library = case.session.library
    record = library.manifest.retention.get(case.id)
    if record is None or closure_in_trail(record, case.history()):
        return False
    del library.manifest.retention[case.id]
    write_manifest(library.folder, library.manifest)
    case.session.audit(
        "case.reopen", case.id, by=record.signed_by, reason="its closing entry is refused"
    )
    return True


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
    check_closure(case)
    take_closure(case)
