"""One case's sync: check heads, pull what other devices added, merge, push (FORMAT §12)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from encryption import EncryptionError, private_folder
from videofeedback.library.audit import GENESIS, chain_next, create_exclusive
from videofeedback.library.case_db import get_meta, set_meta
from videofeedback.library.cases import Case
from videofeedback.library.errors import LibraryError
from videofeedback.library.keyring import CaseKeys, load_case_keys
from videofeedback.library.local_state import LocalState
from videofeedback.library.merged_trail import PEERS

from . import case_doc
from .errors import StoreConflictError, StoreNotFoundError, SyncError, SyncRollbackError
from .heads import BATCH_GENESIS, CaseNames, Head, batch_next, decrypt, encrypt, pack, unpack
from .merge import Doc, Merged, Op, diff, merge
from .store import S3Store

Progress = Callable[[str, int, int], None]
BATCH_FORMAT = "videofeedback-changes"
BLOCK = 8 * 1024 * 1024


@dataclass
class CaseReport:
    case: str
    pushed: int = 0
    pulled: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    changes: int = 0
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    pending_media: int = 0
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def flush_to_disk(folder: Path) -> None:
    """One system-wide flush (``sync``) where there is one, else an fsync per file."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in folder.iterdir():
        with open(path, "rb") as file:
            os.fsync(file.fileno())


def _numbered(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith(".age") and p.name[0] != ".")


def _chain(paths: list[Path], start: bytes, step: Callable[[bytes, bytes], bytes]) -> bytes:
    value = start
    for path in paths:
        value = step(value, path.read_bytes())
    return value


class CaseSync:
    """Sync of one open case with one store. ``run()`` raises SyncError naming the case."""

    def __init__(self, case: Case, store: S3Store | None, progress: Progress | None = None) -> None:
        self.case, self._store, self.progress = case, store, progress
        self.library = case.session.library
        self.device = self.library.local.device_id()
        self.names = CaseNames.of(case.identity)
        self.report = CaseReport(case.id)
        self._plain: dict[Path, dict[str, Any]] = {}  # decrypted batches, by file

    @property
    def local(self) -> LocalState:
        """Read afresh each time: a case's save writes the same state file."""
        return self.library.local

    @property
    def store(self) -> S3Store:
        if self._store is None:
            raise self._fail("no store given")
        return self._store

    # --- local folders ---------------------------------------------------------------------

    def _batches_dir(self, device: str) -> Path:
        return self.case.folder / "sync" / "batches" / device

    def _peer_entries(self, device: str) -> Path:
        return self.case.folder / PEERS / device / "entries"

    def _own_entries(self) -> list[Path]:
        return _numbered(self.case.folder / "audit" / "entries")

    def _fail(self, text: str, rollback: bool = False) -> SyncError:
        kind = SyncRollbackError if rollback else SyncError
        return kind(f"case {self.case.id}: {text}")

    # --- the whole run ---------------------------------------------------------------------

    def run(self) -> CaseReport:
        heads = self._fetch_heads()
        self._check_own(heads.pop(self.device, None))
        members = set(self.case.member_names())
        for device, (head, _) in sorted(heads.items()):
            self._pull(device, head, members)
        self._merge()
        self._push()
        return self.report

    # --- heads -----------------------------------------------------------------------------

    def _fetch_heads(self) -> dict[str, tuple[Head, str]]:
        """Every device's head (by device id), each verified; refused if one rolled back."""
        accepted = self.local.sync_heads(self.case.id)
        found: dict[str, tuple[Head, str]] = {}
        unreadable = 0
        for info in self.store.list(self.names.heads):
            data, etag = self.store.get_with_etag(info.name)
            try:
                head = self._open_head(info.name, data)
            except SyncError:
                if info.name == self.names.head(self.device):
                    raise
                unreadable += 1
                continue
            if info.name != self.names.head(head.device):
                raise self._fail("a head is stored under another device's name", rollback=True)
            found[head.device] = (head, etag)
        if unreadable:
            raise self._fail(
                f"{unreadable} device(s) wrote with a key this laptop does not hold (were you "
                "removed from the case?); nothing was merged — ask the case's practitioner"
            )
        for device, state in accepted.items():
            if device not in found:
                raise self._fail(
                    f"the store no longer shows device {device[:8]}'s history of this case, "
                    "which this laptop saw: it was rolled back or hidden; nothing was merged",
                    rollback=True,
                )
            self._check_not_older(found[device][0], state)
        return found

    def _check_not_older(self, head: Head, state: dict[str, Any]) -> None:
        if head.entries < state["entries"] or head.batches < state["batches"]:
            raise self._fail(
                f"rolled back: this laptop has seen {state['entries']} entries and "
                f"{state['batches']} change batches from device {head.device[:8]}, the store "
                f"serves {head.entries} and {head.batches}; nothing was merged",
                rollback=True,
            )
        same = (head.entries == state["entries"], head.batches == state["batches"])
        if (same[0] and head.trail.hex() != state["trail"]) or (
            same[1] and head.batch_chain.hex() != state["batch_chain"]
        ):
            raise self._fail(
                f"the store serves a different history from device {head.device[:8]} than "
                "this laptop saw; nothing was merged",
                rollback=True,
            )

    def _check_own(self, own: tuple[Head, str] | None) -> None:
        self._own_etag = own[1] if own else None
        pushed = self.local.sync_heads(self.case.id).get(self.device)
        if own is None and pushed:
            raise self._fail("the store lost or hid this laptop's own head", rollback=True)
        if own and pushed:
            self._check_not_older(own[0], pushed)

    # --- pulling ---------------------------------------------------------------------------

    def _pull(self, device: str, head: Head, members: set[str]) -> None:
        state = self.local.sync_heads(self.case.id).get(device)
        have_entries = state["entries"] if state else 0
        have_batches = state["batches"] if state else 0
        if head.user not in members and head.batches > have_batches:
            self.report.notes.append(
                f"{head.user} is not a member: their new changes were not merged"
            )
            return
        trail = bytes.fromhex(state["trail"]) if state else GENESIS
        chain = bytes.fromhex(state["batch_chain"]) if state else BATCH_GENESIS
        entries = self._fetch_entries(device, have_entries, trail, head)
        batches = self._fetch_chain(
            [self.names.batch(device, n) for n in range(have_batches + 1, head.batches + 1)],
            chain,
            head.batch_chain,
            batch_next,
        )
        self._write_numbered(self._peer_entries(device), have_entries, entries, 12)
        self._write_numbered(self._batches_dir(device), have_batches, batches, 8)
        self.local.accept_sync_head(self.case.id, device, head.state())

    def _get_named(self, name: str) -> bytes:
        try:
            data = self.store.get(name)
        except StoreNotFoundError:
            raise self._fail(
                "an object a device's head names is missing from the store (hidden or "
                "deleted); nothing was merged",
                rollback=True,
            ) from None
        self.report.pulled += 1
        self.report.bytes_down += len(data)
        return data

    def _fetch_entries(self, device: str, have: int, value: bytes, head: Head) -> list[bytes]:
        """The device's entries after ``have``, in packs, checked against its signed head."""
        found: list[bytes] = []
        while have + len(found) < head.entries:
            try:
                items = unpack(self._get_named(self.names.entries(device, have + len(found) + 1)))
            except ValueError:
                items = []
            if not items:
                raise self._fail("a pack of entries in the store is damaged", rollback=True)
            found.extend(items)
        for item in found:
            value = chain_next(value, item)
        if have + len(found) != head.entries or value != head.trail:
            raise self._fail(
                "a device's entries in the store do not match its signed head (altered or "
                "rolled back); nothing was merged",
                rollback=True,
            )
        return found

    def _fetch_chain(
        self,
        names: list[str],
        start: bytes,
        end: bytes,
        step: Callable[[bytes, bytes], bytes],
    ) -> list[bytes]:
        found, value = [], start
        for name in names:
            data = self._get_named(name)
            value = step(value, data)
            found.append(data)
        if value != end:
            raise self._fail(
                "a device's objects in the store do not match its signed head (altered or "
                "rolled back); nothing was merged",
                rollback=True,
            )
        return found

    def _write_numbered(self, folder: Path, start: int, items: list[bytes], width: int) -> None:
        """Pulled files, each whole or absent (temporary file, rename), made durable by one
        flush at the end (not an fsync per entry), before the head is accepted."""
        if not items:
            return
        private_folder(folder, parents=True)
        for number, data in enumerate(items, start + 1):
            path = folder / f"{number:0{width}d}.age"
            if path.exists():  # pulled before, by a sync killed before it accepted the head
                if path.read_bytes() != data:
                    raise self._fail(f"{path} holds something else; ask your administrator")
                continue
            temp = folder / f".{path.name}.pull.tmp"
            temp.write_bytes(data)
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        flush_to_disk(folder)

    # --- key epochs ------------------------------------------------------------------------

    def _open_head(self, name: str, data: bytes) -> Head:
        """A head; one that does not open may be to a newer key epoch (a member was removed
        on another laptop): then that device's key file for the next epoch is taken."""
        keys = self.library.verify_keys()
        try:
            return Head.open(data, [self.case.identity], keys, self.case.id)
        except SyncError:
            tag = name.rsplit("/", 1)[1]
            while self._adopt_keys(tag):
                try:
                    return Head.open(data, [self.case.identity], keys, self.case.id)
                except SyncError:
                    continue
            raise

    def _adopt_keys(self, tag: str) -> bool:
        """Take the device's key.age of the next epoch if there is one that opens here."""
        name = self.names.keys(f"{tag}\n{self.case.identity.epoch + 1}")
        try:
            data = self.store.get(name)
        except StoreNotFoundError:
            return False
        before = self.case.identity.epoch
        self._try_keys(data)
        return self.case.identity.epoch > before

    def _try_keys(self, data: bytes) -> None:
        folder = self.case.folder / "sync" / "keys" / self.case.id
        private_folder(folder, parents=True)
        (folder / "key.age").write_bytes(data)
        try:
            keys = load_case_keys(
                folder, self.case.id, self.library.key_store(), self.case.session.identities
            )
        except (EncryptionError, LibraryError):
            return  # not to us: this user was removed; nothing new will open
        current = self.case.identity
        if keys.epoch > current.epoch and keys.parts[: current.epoch] == current.parts:
            os.replace(folder / "key.age", self.case.folder / "key.age")
            self.case.identity = CaseKeys(current.case_id, current.kek, keys.parts)
            self.case._log = None  # noqa: SLF001 (entries from now on: the new epoch)

    # --- merging ---------------------------------------------------------------------------

    def _ops(self, counts: dict[str, int] | None = None) -> list[Op]:
        ops: list[Op] = []
        root = self.case.folder / "sync" / "batches"
        for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []:
            limit = None if counts is None else counts.get(folder.name, 0)
            for path in _numbered(folder)[:limit]:
                data = self._batch(path)
                ops.extend(Op.from_json(op, data["author"]) for op in data["ops"])
        return ops

    def _batch(self, path: Path) -> dict[str, Any]:
        if path not in self._plain:
            try:
                data = json.loads(decrypt(path.read_bytes(), [self.case.identity]))
            except (EncryptionError, ValueError) as exc:
                raise self._fail(f"change batch {path.name} does not open ({exc})") from None
            if data.get("format") != BATCH_FORMAT:
                raise self._fail(f"{path.name} is not a change batch")
            self._plain[path] = data
        return self._plain[path]

    def _counts(self) -> dict[str, int]:
        root = self.case.folder / "sync" / "batches"
        if not root.exists():
            return {}
        return {p.name: len(_numbered(p)) for p in root.iterdir() if p.is_dir()}

    def _merge(self) -> None:
        base_counts = json.loads(get_meta(self.case.db, "sync_base", "{}"))
        base = merge(self._ops(base_counts))
        everything = self._ops()
        lamport = max([base.lamport, *(o.lamport for o in everything)]) + 1
        current = case_doc.extract(self.case.db)
        new = diff(base, current, self.device, self.case.session.name, lamport)
        if new:
            self.write_batch(new)
            everything.extend(new)
        self.report.changes = len(new)
        merged = merge(everything)
        self._apply(merged, current)

    def write_batch(self, ops: list[Op]) -> None:
        folder = self._batches_dir(self.device)
        private_folder(folder, parents=True)
        body = {
            "format": BATCH_FORMAT,
            "version": 1,
            "device": self.device,
            "author": self.case.session.name,
            "ops": [o.to_json() for o in ops],
        }
        data = encrypt(json.dumps(body, sort_keys=True).encode(), self.case.recipients)
        while not create_exclusive(folder / f"{len(_numbered(folder)) + 1:08d}.age", data):
            pass  # another writer took the number: the next one

    def _apply(self, merged: Merged, current: Doc) -> None:
        self.report.conflicts = [c.to_json() for c in merged.conflicts]
        counts = json.dumps(self._counts(), sort_keys=True)
        changed = merged.doc != current
        if changed:
            case_doc.apply(self.case.db, merged.doc)
        if changed or counts != get_meta(self.case.db, "sync_base", "{}"):
            set_meta(self.case.db, "sync_base", counts)
            self.case.save()

    # --- pushing ---------------------------------------------------------------------------

    def _put(self, name: str, data: bytes) -> None:
        try:
            self.store.put_new(name, data)
        except StoreConflictError:  # a retried upload: fine only if the bytes are the same
            if hashlib.sha256(self.store.get(name)).digest() != hashlib.sha256(data).digest():
                raise self._fail(
                    "the store holds a different object where this laptop's goes; nothing "
                    "was replaced — tell your administrator"
                ) from None
            return
        self.report.pushed += 1
        self.report.bytes_up += len(data)

    def _push(self) -> None:
        pushed = self.local.sync_heads(self.case.id).get(self.device) or {}
        entries = self._own_entries()
        batches = _numbered(self._batches_dir(self.device))
        self._push_entries(entries, pushed.get("entries", 0))
        for number, path in enumerate(
            batches[pushed.get("batches", 0) :], pushed.get("batches", 0) + 1
        ):
            self._put(self.names.batch(self.device, number), path.read_bytes())
        self._push_keys(pushed)
        self._push_media()
        self._push_head(entries, batches)

    def _push_entries(self, entries: list[Path], have: int) -> None:
        """The entries the store lacks, as one pack; a pack a killed sync already wrote is
        kept (it must hold this laptop's very entries) and the rest follows it."""
        while have < len(entries):
            name = self.names.entries(self.device, have + 1)
            items = [p.read_bytes() for p in entries[have:]]
            data = pack(items)
            try:
                self.store.put_new(name, data)
            except StoreConflictError:
                try:
                    there = unpack(self.store.get(name))
                except ValueError:
                    there = []
                if not there or there != items[: len(there)]:
                    raise self._fail(
                        "the store holds other entries where this laptop's go; nothing was "
                        "replaced — tell your administrator"
                    ) from None
                have += len(there)
                continue
            self.report.pushed += 1
            self.report.bytes_up += len(data)
            have = len(entries)

    def _push_keys(self, pushed: dict[str, Any]) -> None:
        """The key file under each epoch it reaches that was not pushed yet (a laptop that
        looks for epoch e + 1 finds it, and with it every later epoch)."""
        tag = self.names.head(self.device).rsplit("/", 1)[1]
        data = (self.case.folder / "key.age").read_bytes()
        for epoch in range(max(2, pushed.get("epoch", 1) + 1), self.case.identity.epoch + 1):
            self._put(self.names.keys(f"{tag}\n{epoch}"), data)

    def _media_rows(self) -> list[tuple[str, str]]:
        rows = self.case.db.execute("SELECT id, file FROM media ORDER BY id").fetchall()
        return [(str(i), str(f)) for i, f in rows]

    def _push_media(self) -> None:
        sent = set(self.local.sync_value(f"media:{self.case.id}", []))
        todo = [(i, f) for i, f in self._media_rows() if i not in sent]
        total = sum(
            (self.case.folder / f).stat().st_size
            for i, f in todo
            if (self.case.folder / f).exists()
        )
        done = 0
        for media_id, file in todo:
            path = self.case.folder / file
            if not path.exists():
                continue
            state = self.case.folder / "sync" / "uploads" / media_id
            private_folder(state.parent, parents=True)
            base = done

            def report(sent_now: int, _size: int, base: int = base) -> None:
                if self.progress:
                    self.progress("upload", base + sent_now, total)

            self.store.upload_file(self.names.media(media_id), path, state, report)
            done += path.stat().st_size
            self.report.bytes_up += path.stat().st_size
            self.report.pushed += 1
            sent.add(media_id)
            self.local.set_sync_value(f"media:{self.case.id}", sorted(sent))
        self._pull_media()

    def _pull_media(self) -> None:
        """Recordings, stills and reels the merged database names and this laptop lacks
        (ciphertext, as stored); progress in bytes."""
        found = []
        for media_id, file in self._media_rows():
            if not (self.case.folder / file).exists():
                info = self.store.head(self.names.media(media_id))
                if info is None:
                    self.report.pending_media += 1
                else:
                    found.append((info.name, info.size, self.case.folder / file))
        total, done = sum(size for _, size, _ in found), 0
        for name, size, target in found:
            done = self._download(name, size, target, done, total)

    def _download(self, name: str, size: int, target: Path, done: int, total: int) -> int:
        private_folder(target.parent, parents=True)
        temp = target.with_name(f".{target.name}.sync.tmp")
        with open(temp, "wb") as out:
            for start in range(0, size, BLOCK):
                out.write(self.store.get(name, start, min(size, start + BLOCK)))
                done += min(BLOCK, size - start)
                if self.progress:
                    self.progress("download", done, total)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
        self.report.bytes_down += size
        self.report.pulled += 1
        return done

    def _push_head(self, entries: list[Path], batches: list[Path]) -> None:
        all_ops = self._ops()
        head = Head(
            self.case.id,
            self.device,
            len(entries),
            _chain(entries, GENESIS, chain_next),
            len(batches),
            _chain(batches, BATCH_GENESIS, batch_next),
            hashlib.sha256((self.case.folder / "key.age").read_bytes()).hexdigest(),
            max((o.lamport for o in all_ops), default=0),
            self.case.session.name,
        )
        previous = self.local.sync_heads(self.case.id).get(self.device)
        if previous and previous == {**head.state(), "epoch": previous.get("epoch")}:
            return
        key = self.case.session.keys.require_signing_key()
        data = head.seal(key, self.case.recipients)
        try:
            self.store.put_if(self.names.head(self.device), data, self._own_etag)
        except StoreConflictError:
            raise self._fail(
                "another sync of this laptop moved its head at the same time; sync again"
            ) from None
        self.local.accept_sync_head(
            self.case.id, self.device, {**head.state(), "epoch": self.case.identity.epoch}
        )
