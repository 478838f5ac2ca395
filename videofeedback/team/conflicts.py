"""A case's conflicts (concurrent edits of one field) and how a member settles one.

Settling writes an op that replaces every version (it syncs like any change, with the next
``videofeedback sync``); the losing versions stay in the change batches and the trail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from videofeedback.library.case_db import set_meta
from videofeedback.library.cases import Case

from . import case_doc
from .case_files import CaseFiles
from .errors import SyncError
from .merge import Conflict, merge, resolve


def list_conflicts(case: Case) -> list[Conflict]:
    return merge(CaseFiles(case).ops()).conflicts


@dataclass(frozen=True)
class Version:
    op: str
    author: str
    written: str  # ISO time its batch was written ("" for batches from before times)
    value: Any


@dataclass(frozen=True)
class ConflictView:
    """One conflict as the app lists it: which record and field, and every version."""

    case_id: str
    kind: str
    key: str
    field: str
    versions: tuple[Version, ...]  # the provisional winner first

    def title(self) -> str:
        return f"{self.kind} {self.key}: {self.field}"


def describe_conflicts(case: Case) -> list[ConflictView]:
    """The case's conflicts with who wrote each version and when (a read, nothing saved)."""
    files = CaseFiles(case)
    written = files.written()
    return [
        ConflictView(
            case.id,
            c.record[0],
            c.record[1],
            c.field,
            tuple(Version(o.id, o.author, written.get(o.id, ""), o.value) for o in c.ops),
        )
        for c in merge(files.ops()).conflicts
    ]


def resolve_conflict(case: Case, kind: str, key: str, field: str, choice: str) -> None:
    """Keep the version written by op ``choice`` for ``field`` of record (kind, key)."""
    engine = CaseFiles(case)
    base = merge(engine.ops())
    found = next((c for c in base.conflicts if c.record == (kind, key) and c.field == field), None)
    if found is None:
        raise SyncError(
            f"case {case.id}: {kind} {key} has no conflict on {field!r}; "
            "'videofeedback sync --json' lists the conflicts"
        )
    op = resolve(base, found, choice, engine.device, case.session.name)
    if not engine.would_count(op):
        raise SyncError(
            f"case {case.id}: your role ({case.session.role.value}) may not change {kind} "
            f"{key}; ask a member who may to choose"
        )
    engine.write_batch([op])
    merged = merge(engine.ops())
    case_doc.apply(case.db, merged.doc)
    set_meta(case.db, "sync_base", json.dumps(engine.counts(), sort_keys=True))
    case.audit("conflict.resolve", key, kind=kind, field=field, op=op.id, chosen=choice)
    case.save()
