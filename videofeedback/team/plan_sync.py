"""Redaction plans through the store (docs/FORMAT.md §12.7).

A plan (``media/MEDIA_ID.redaction.age``, age ciphertext to the case) travels as a
write-once object named from the case's tag key, the media id and the SHA-256 of its
ciphertext; which plan stands is the synced record ``("plan", MEDIA_ID)``, field ``file``
= ``{"sha256", "bytes"}``, carried in the signed, encrypted change batches like any field.
So two people's concurrent edits are an ordinary field conflict that a member resolves, the
store cannot swap or roll back a plan (the download is checked against the hash the batch
names), and who may change it is the admission rule of its record kind (annotate).

This laptop's plan file counts as a change only when its hash is new (no op ever named it):
a plan this laptop downloaded, or one that could not be downloaded yet, is never pushed back
as an edit.

Sealing without a store (``sealing.py``: a sync that failed) records the op of a plan edited
here and keeps that version's ciphertext in ``sync/plans/`` (the outbox) for the next sync to
upload; nothing is fetched then. After every merge, the plans whose file here is not the
merged version (not fetched yet, withheld, or an edit refused by admission) are listed in
this computer's state (``plans-behind:CASE``): exports refuse them until a sync brings the
merged version (``videofeedback.redaction.check_plan_current``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from encryption import atomic_file
from videofeedback.library.cases import Case
from videofeedback.redaction import BEHIND, plan_file  # BEHIND + case id: {media: sha256}

from .case_files import CaseReport
from .errors import StoreConflictError, StoreNotFoundError, SyncError
from .heads import CaseNames
from .merge import DELETED, Doc, Op, canonical
from .store import S3Store

KIND = "plan"
FIELD = "file"
MEDIA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_PLAN = 64 * 1024 * 1024  # a plan is geometry and ids: far smaller than this


def plan_name(names: CaseNames, media_id: str, sha256: str) -> str:
    """The store's name of one version of a recording's plan."""
    return "o/" + names._mac(f"plan\n{media_id}\n{sha256}")  # noqa: SLF001


def stamp_of(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def wanted(fields: dict[str, Any]) -> tuple[str, int] | None:
    """(sha256, bytes) a plan record names, or None if it names nothing well-formed."""
    value = fields.get(FIELD)
    if fields.get(DELETED) or not isinstance(value, dict):
        return None
    sha256, size = value.get("sha256"), value.get("bytes")
    if not (isinstance(sha256, str) and re.fullmatch(r"[0-9a-f]{64}", sha256)):
        return None
    if not isinstance(size, int) or not 0 < size <= MAX_PLAN:
        return None
    return sha256, size


class PlanSync:
    """The plans of one case during its sync: what this laptop changed (uploaded before the
    batch that names it), and the merged plans fetched afterwards."""

    def __init__(
        self,
        case: Case,
        store: S3Store | None,
        names: CaseNames,
        report: CaseReport,
        fail: Callable[[str], SyncError],
    ) -> None:
        self.case, self.store, self.names = case, store, names
        self.report, self.fail = report, fail

    def _media_ids(self) -> list[str]:
        rows = self.case.db.execute("SELECT id FROM media ORDER BY id").fetchall()
        return [str(r[0]) for r in rows if MEDIA_ID.fullmatch(str(r[0]))]

    def current(self, base: Doc, ops: Iterable[Op]) -> Doc:
        """The plan records as this laptop stands: the merged ones, but where its plan file
        holds a version no op named (edited here since): that one, uploaded now."""
        found = {k: v for k, v in base.items() if k[0] == KIND}
        self._send_waiting()
        known: dict[str, set[str]] = {}
        for op in ops:
            if op.record[0] == KIND and op.field == FIELD:
                known.setdefault(op.record[1], set()).add(canonical(op.value))
        for media_id in self._media_ids():
            path = plan_file(self.case, media_id)
            if not path.exists():
                continue
            stamp = stamp_of(path)
            if canonical(stamp) in known.get(media_id, set()):
                continue  # the merged version, or one whose replacement is still to come
            self._upload(media_id, path, stamp)
            found[(KIND, media_id)] = {FIELD: stamp}
        return found

    def _outbox(self) -> Path:
        return self.case.folder / "sync" / "plans"

    def _upload(self, media_id: str, path: Path, stamp: dict[str, Any]) -> None:
        data = path.read_bytes()
        if self.store is None:  # sealed without a store: the next sync uploads this version
            outbox = self._outbox()
            outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
            with atomic_file(outbox / f"{media_id}.{stamp['sha256']}.age") as out:
                out.write(data)
            return
        self._put(self.store, media_id, stamp["sha256"], data)

    def _send_waiting(self) -> None:
        """Upload the plan versions a seal without a store recorded (FORMAT §12.7)."""
        outbox, store = self._outbox(), self.store
        if store is None or not outbox.is_dir():
            return
        for path in sorted(outbox.glob("*.age")):
            media_id, _, sha256 = path.name.removesuffix(".age").partition(".")
            data = path.read_bytes()
            if MEDIA_ID.fullmatch(media_id) and hashlib.sha256(data).hexdigest() == sha256:
                self._put(store, media_id, sha256, data)
            path.unlink()

    def _put(self, store: S3Store, media_id: str, sha256: str, data: bytes) -> None:
        name = plan_name(self.names, media_id, sha256)
        try:
            store.put_new(name, data)
        except StoreConflictError:  # a retried sync: fine only if it is these very bytes
            if hashlib.sha256(store.get(name)).hexdigest() != sha256:
                raise self.fail(
                    f"the store holds other bytes where the redaction plan of {media_id} goes; "
                    "nothing was replaced — tell your administrator"
                ) from None
            return
        self.report.pushed += 1
        self.report.bytes_up += len(data)

    def settle(self, merged: Doc) -> None:
        """Fetch every merged plan this laptop lacks, checked against the hash its record
        names, and put it in place atomically; a plan not in the store yet waits. Those not
        (yet) in place are listed as behind (exports refuse them) before any fetch, and taken
        off as each arrives; without a store (a seal) nothing is fetched."""
        media = set(self._media_ids())
        todo: dict[str, tuple[str, int]] = {}
        for (kind, media_id), fields in sorted(merged.items()):
            if kind != KIND or media_id not in media:
                continue
            target = wanted(fields)
            path = plan_file(self.case, media_id)
            if target is None or (path.exists() and stamp_of(path)["sha256"] == target[0]):
                continue
            todo[media_id] = target
        behind = {m: sha for m, (sha, _) in todo.items()}
        self._set_behind(behind)
        if self.store is None:
            return
        for media_id, target in todo.items():
            if self._fetch(self.store, media_id, plan_file(self.case, media_id), *target):
                del behind[media_id]
                self._set_behind(behind)

    def _set_behind(self, behind: dict[str, str]) -> None:
        local = self.case.session.library.local
        key = BEHIND + self.case.id
        if local.sync_value(key, {}) != behind:
            local.set_sync_value(key, dict(behind))

    def _fetch(self, store: S3Store, media_id: str, path: Path, sha256: str, size: int) -> bool:
        try:
            data = store.get(plan_name(self.names, media_id, sha256))
        except StoreNotFoundError:
            self.report.pending_media += 1
            self.report.notes.append(f"the redaction plan of {media_id} is not in the store yet")
            return False
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            raise self.fail(
                f"the store serves another redaction plan for {media_id} than its record names "
                "(swapped, altered or an older one); the plan here was kept"
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_file(path) as out:
            out.write(data)
        self.report.pulled += 1
        self.report.bytes_down += size
        return True
