"""A synced case's files on this laptop: its change batches per device, the trails pulled
from other devices, and the ops they hold (docs/FORMAT.md §12.3). No store here."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from encryption import EncryptionError, private_folder
from videofeedback.library.audit import create_exclusive, now_iso
from videofeedback.library.cases import Case
from videofeedback.library.merged_trail import PEERS, parse_seen, seen_vector

from .admission import Batch, Judge
from .errors import SyncError, SyncRollbackError
from .heads import decrypt, encrypt
from .merge import Op
from .signed_batches import SIGNED_VERSION, Authorship, check_signed, sign_batch

BATCH_FORMAT = "videofeedback-changes"


@dataclass
class CaseReport:
    """What one case's sync did: objects and bytes each way, its conflicts, its error."""

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


def numbered(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith(".age") and p.name[0] != ".")


def chain_of(paths: list[Path], start: bytes, step: Callable[[bytes, bytes], bytes]) -> bytes:
    value = start
    for path in paths:
        value = step(value, path.read_bytes())
    return value


def signer_of(signers: list[list[Any]], number: int) -> str | None:
    """Who signed the head that brought batch ``number`` (``signers``: [up to, user] pairs
    this laptop recorded as it accepted a device's heads); None for this laptop's own."""
    for upto, user in signers:
        if number <= int(upto):
            return str(user)
    return None


class CaseFiles:
    """The sync folders of one open case, and the ops of its batches (decrypted once)."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self.library = case.session.library
        self.device = self.library.local.device_id()
        self._plain: dict[Path, dict[str, Any]] = {}  # decrypted batches, by file
        self._authors: dict[Path, Authorship] = {}  # checked signatures, by file
        self._unsigned: list[str] = []  # batches the last batches() left out, in words
        self.refused: list[str] = []  # what the last ops() did not count, in words

    def _fail(self, text: str, rollback: bool = False) -> SyncError:
        kind = SyncRollbackError if rollback else SyncError
        return kind(f"case {self.case.id}: {text}")

    # --- local folders ---------------------------------------------------------------------

    def _batches_dir(self, device: str) -> Path:
        return self.case.folder / "sync" / "batches" / device

    def _peer_entries(self, device: str) -> Path:
        return self.case.folder / PEERS / device / "entries"

    def _own_entries(self) -> list[Path]:
        return numbered(self.case.folder / "audit" / "entries")

    def _writenumbered(self, folder: Path, start: int, items: list[bytes], width: int) -> None:
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

    def ops(self, counts: dict[str, int] | None = None) -> list[Op]:
        """The ops that count (docs/FORMAT.md §12.3): each batch's author is its signer (an
        unsigned older batch: the signer of the head that brought it); batches and ops
        judged by membership and role."""
        judge = self._judge()
        ops = judge.admit(self.batches(counts))
        self.refused = [*self._unsigned, *judge.refused]
        return ops

    def _judge(self) -> Judge:
        history = self.case.history()
        roles = {n: u.role for n, u in self.library.trusted_users().items()}
        return Judge(roles, history.members, history.removals)

    def would_count(self, op: Op) -> bool:
        """Whether ``op``, by this laptop's user, would count in the merge."""
        judge = self._judge()
        seen = parse_seen(seen_vector(self.case.folder, self.case.id, self.device))
        mine = Batch(
            self.device, len(numbered(self._batches_dir(self.device))) + 1, op.author, (op,), seen
        )
        return op in judge.admit([*self.batches(), mine])

    def all_ops(self) -> list[Op]:
        """Every op of every batch, counted or not (for the Lamport clock)."""
        return [o for b in self.batches() for o in b.ops]

    def batches(self, counts: dict[str, int] | None = None) -> list[Batch]:
        found: list[Batch] = []
        self._unsigned = []
        heads = self.library.local.sync_heads(self.case.id)
        keys = self.library.verify_keys()
        root = self.case.folder / "sync" / "batches"
        for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []:
            limit = None if counts is None else counts.get(folder.name, 0)
            signers = heads.get(folder.name, {}).get("signers", [])
            signed = False  # once a device signs its batches, an unsigned one is refused
            for number, path in enumerate(numbered(folder)[:limit], 1):
                data = self._batch(path)
                if "signature" in data:
                    signed = True
                    who = self._authors.get(path) or check_signed(
                        data, self.case.id, folder.name, number, keys
                    )
                    self._authors[path] = who
                elif signed:
                    who = Authorship(
                        None,
                        problem=f"change batch {number} of device "
                        f"{folder.name[:8]} is not signed: not merged",
                    )
                else:  # from before batches were signed: the head's signer (FORMAT §12.3)
                    who = Authorship(signer_of(signers, number) or str(data["author"]))
                if who.author is None:
                    self._unsigned.append(who.problem)
                    continue
                ops = tuple(Op.from_json(op, who.author) for op in data["ops"])
                found.append(Batch(folder.name, number, who.author, ops, who.seen))
        return found

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

    def written(self) -> dict[str, str]:
        """When each op's batch was written (op id -> ISO time; "" for older batches)."""
        found: dict[str, str] = {}
        root = self.case.folder / "sync" / "batches"
        for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []:
            for path in numbered(folder):
                data = self._batch(path)
                found.update((str(op["id"]), str(data.get("time", ""))) for op in data["ops"])
        return found

    def counts(self) -> dict[str, int]:
        root = self.case.folder / "sync" / "batches"
        if not root.exists():
            return {}
        return {p.name: len(numbered(p)) for p in root.iterdir() if p.is_dir()}

    def write_batch(self, ops: list[Op]) -> None:
        """This laptop's next change batch, signed by the user syncing (FORMAT §12.2)."""
        folder = self._batches_dir(self.device)
        private_folder(folder, parents=True)
        key = self.case.session.keys.require_signing_key()
        while True:  # another writer may take the number: sign for the next one
            number = len(numbered(folder)) + 1
            body = {
                "format": BATCH_FORMAT,
                "version": SIGNED_VERSION,
                "device": self.device,
                "number": number,
                "author": self.case.session.name,
                "time": now_iso(),  # when this laptop wrote it (shown with a conflict's versions)
                "seen": seen_vector(self.case.folder, self.case.id, self.device),
                "ops": [o.to_json() for o in ops],
            }
            signed = sign_batch(body, self.case.id, key)
            data = encrypt(json.dumps(signed, sort_keys=True).encode(), self.case.recipients)
            if create_exclusive(folder / f"{number:08d}.age", data):
                return
