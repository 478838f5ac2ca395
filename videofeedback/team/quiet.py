"""Is a case unchanged since its last sync, here and in the store? (cheap: no database,
trail or batch is decrypted; one listing and one GET per device head)

A case is *quiet* when this laptop's files of it (database, trail length, key file) are
byte for byte what they were when its last sync finished with nothing pending, and every
device's head in the store is the one this laptop accepted then. A quiet case is skipped;
anything else (a new head, a missing one, one that does not open) takes the full sync, which
checks and reports it (docs/FORMAT.md §12.3).
"""

from __future__ import annotations

import hashlib

from videofeedback.library import Library
from videofeedback.library.keyring import CaseKeys

from .errors import SyncError
from .heads import CaseNames, Head
from .store import S3Store

COMPARED = ("entries", "trail", "batches", "batch_chain")


def fingerprint(library: Library, case_id: str) -> str:
    folder = library.case_folder(case_id)
    digest = hashlib.sha256()
    for name in ("case.db.age", "key.age"):
        digest.update(hashlib.sha256((folder / name).read_bytes()).digest())
    entries = folder / "audit" / "entries"
    digest.update(str(sum(1 for _ in entries.glob("*.age"))).encode())
    return digest.hexdigest()


def remember(library: Library, case_id: str, quiet: bool) -> None:
    """After a full sync: its fingerprint if nothing is pending, else none."""
    value = fingerprint(library, case_id) if quiet else None
    library.local.set_sync_value(f"quiet:{case_id}", value)


RawHead = tuple[str, bytes, str]  # name, bytes, ETag


def fetch_raw_heads(store: S3Store, names: CaseNames) -> list[RawHead]:
    found = []
    for info in store.list(names.heads):
        data, etag = store.get_with_etag(info.name)
        found.append((info.name, data, etag))
    return found


def is_quiet(
    library: Library, case_id: str, keys: CaseKeys, store: S3Store
) -> tuple[bool, list[RawHead] | None]:
    """(quiet?, the heads fetched to tell, for the full sync to reuse)."""
    local = library.local
    accepted = local.sync_heads(case_id)
    if local.device_id() not in accepted:
        return False, None
    if local.sync_value(f"quiet:{case_id}") != fingerprint(library, case_id):
        return False, None
    names, seen = CaseNames.of(keys), {}
    raw = fetch_raw_heads(store, names)
    for name, data, _ in raw:
        try:
            head = Head.open(data, [keys], library.verify_keys(), case_id)
        except SyncError:
            return False, raw
        if name != names.head(head.device):
            return False, raw
        seen[head.device] = head.state()
    same = set(seen) == set(accepted) and all(
        all(seen[d][k] == accepted[d][k] for k in COMPARED) for d in seen
    )
    return same, raw
