"""Append-only, hash-chained, signed audit logs (docs/FORMAT.md, section 9).

Every entry is signed by the user it names (except the few that nobody can sign, such as a
failed unlock, which are marked unauthenticated). Checkpoints are signed notes, numbered
1, 2, 3 … (no user name in the file name) and chained: each names the hash of the one
before it. ``AuditLog.append`` is safe from several threads or processes at once: an entry
file is created exclusively (a hard link of a complete temporary file), so nobody overwrites
an entry another writer made; the head is cached and extended, not recomputed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from encryption import (
    AgeWriter,
    EncryptionError,
    Identity,
    Recipient,
    SignatureError,
    SigningKey,
    VerifyKey,
    private_folder,
    read_encrypted,
)
from encryption.files import fsync_directory

from .errors import LibraryError

GENESIS = hashlib.sha256(b"videofeedback audit v1").digest()
CHECKPOINT_GENESIS = hashlib.sha256(b"videofeedback checkpoints v2").digest()
_ENTRY_NAME = re.compile(r"^(\d{12})\.age$")
_CHECKPOINT_NAME = re.compile(r"^(\d{12})\.age$")  # the checkpoint's own number, nothing else
_KEY_PREFIX = "videofeedback/"
NOBODY = "?"
# Entries whose author cannot sign (they have not unlocked): recorded, marked unauthenticated.
UNAUTHENTICATED_ACTIONS = frozenset({"unlock.failed"})


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    time: str
    user: str
    action: str
    object: str
    prev: str
    detail: dict[str, str] = field(default_factory=dict)
    signature: str = ""  # base64 Ed25519 of signed_bytes() by ``user``; "" = unauthenticated

    def to_bytes(self) -> bytes:
        data = asdict(self)
        if not self.signature:
            del data["signature"]
        return json.dumps(data, sort_keys=True).encode()

    def signed_bytes(self, log_id: str) -> bytes:
        data = asdict(self)
        del data["signature"]
        body = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return f"videofeedback audit entry v2\n{log_id}\n{body}\n".encode()

    def signed(self, log_id: str, key: SigningKey) -> AuditEntry:
        signature = base64.b64encode(key.sign(self.signed_bytes(log_id))).decode()
        return replace(self, signature=signature)

    @classmethod
    def from_bytes(cls, data: bytes) -> AuditEntry:
        return cls(**json.loads(data))


@dataclass(frozen=True)
class Problem:
    position: int  # the entry (or checkpoint size) where it shows
    message: str


@dataclass
class AuditReport:
    entries: int
    signed_up_to: int
    problems: list[Problem]
    unauthenticated: list[int] = field(default_factory=list)  # e.g. failed unlocks
    legacy: int = 0  # entries 1..legacy were written before entries were signed

    @property
    def valid(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        notes = []
        if self.legacy:
            notes.append(
                f"entries 1-{self.legacy} were written before entries were signed; the "
                "administrator's upgrade record vouches that they are unchanged"
            )
        if self.unauthenticated:
            notes.append(
                f"{len(self.unauthenticated)} failed unlock attempts are recorded without a "
                "signature (whoever tried could not sign)"
            )
        tail = "".join(f"\n  note: {n}" for n in notes)
        if self.valid:
            return (
                f"audit trail valid: {self.entries} entries, each signed by the person it "
                f"names and allowed at the time{tail}"
            )
        lines = [f"audit trail NOT valid ({len(self.problems)} problems):"]
        lines += [f"  at entry {p.position}: {p.message}" for p in self.problems]
        return "\n".join(lines) + tail


@dataclass
class Replay:
    """Where a walk through a log's entries stands (``AuditLog.replay`` continues it)."""

    report: AuditReport
    size: int = 0
    value: bytes = GENESIS


class Policy(Protocol):
    """Who may do what at each point of a log: fed every entry in order."""

    def __call__(self, entry: AuditEntry, authenticated: bool) -> str | None:
        """Return a problem (plain words) if the signer was not allowed; update the state."""


def chain_next(previous: bytes, ciphertext: bytes) -> bytes:
    return hashlib.sha256(previous + hashlib.sha256(ciphertext).digest()).digest()


def checkpoint_text(log_id: str, size: int, head: bytes, previous: bytes) -> bytes:
    b64 = base64.b64encode
    return (
        f"videofeedback.audit/{log_id}\n{size}\n{b64(head).decode()}\n"
        f"previous {b64(previous).decode()}\n"
    ).encode()


def sign_note(text: bytes, user: str, key: SigningKey) -> bytes:
    name = _KEY_PREFIX + user
    key_id = key.verify_key.key_id(name)
    signature = base64.b64encode(key_id + key.sign(text)).decode()
    return text + b"\n" + f"\u2014 {name} {signature}\n".encode()


def open_note(note: bytes, keys: Mapping[str, VerifyKey]) -> tuple[bytes, str]:
    """Verify a signed note from one of ``keys`` (user -> key); return (text, user)."""
    text, sep, signatures = note.rpartition(b"\n\n")
    if not sep:
        raise LibraryError("a signed note has no signature")
    text += b"\n"
    for line in signatures.decode().splitlines():
        dash, name, encoded = line.split(" ", 2)
        user = name.removeprefix(_KEY_PREFIX)
        if dash != "\u2014" or user not in keys:
            continue
        raw = base64.b64decode(encoded)
        if raw[:4] != keys[user].key_id(name):
            continue
        keys[user].verify(text, raw[4:])
        return text, user
    raise LibraryError("the note is not signed by any known user")


def encrypt_bytes(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    sink = io.BytesIO()
    writer = AgeWriter(sink, recipients)
    writer.write(data)
    writer.close()
    return sink.getvalue()


def create_exclusive(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` only if nothing is there; atomic (complete or absent).
    Returns False if another writer made ``path`` first."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temp, path)  # fails if the name exists: nobody's entry is overwritten
        except FileExistsError:
            return False
    finally:
        os.unlink(temp)
    fsync_directory(path.parent)
    return True


def _numbered(folder: Path, pattern: re.Pattern[str]) -> list[tuple[int, Path]]:
    if not folder.exists():
        return []
    found = []
    for path in folder.iterdir():
        if match := pattern.match(path.name):
            found.append((int(match.group(1)), path))
    return sorted(found)


class AuditLog:
    """One audit log: entries and checkpoints in a folder, encrypted to ``recipients``."""

    def __init__(self, folder: Path, log_id: str, recipients: Sequence[Recipient]) -> None:
        self.folder = folder
        self.log_id = log_id
        self._recipients = list(recipients)
        self._lock = threading.RLock()
        self._head: tuple[int, bytes] | None = None  # cached (size, chain value)
        self._tip: tuple[int, bytes] | None = None  # cached (checkpoints, hash of the last)

    @property
    def _entries_dir(self) -> Path:
        return self.folder / "entries"

    @property
    def _checkpoints_dir(self) -> Path:
        return self.folder / "checkpoints"

    def entry_path(self, seq: int) -> Path:
        return self._entries_dir / f"{seq:012d}.age"

    def _entry_files(self) -> list[tuple[int, Path]]:
        return _numbered(self._entries_dir, _ENTRY_NAME)

    # --- the head ------------------------------------------------------------------------

    def chain_values(self) -> list[bytes]:
        """h0..hN by position, computed from every entry file (O(n): for checks, not saves)."""
        values = [GENESIS]
        for _, path in self._entry_files():
            values.append(chain_next(values[-1], path.read_bytes()))
        return values

    def head(self) -> tuple[int, bytes]:
        """(number of entries, chain value): cached, and extended by entries written since."""
        with self._lock:
            if self._head is None:
                files = self._entry_files()
                value = GENESIS
                for _, path in files:
                    value = chain_next(value, path.read_bytes())
                self._head = ((files[-1][0] if files else 0), value)
            size, value = self._head
            while (path := self.entry_path(size + 1)).exists():  # written by another writer
                size, value = size + 1, chain_next(value, path.read_bytes())
            self._head = (size, value)
            return self._head

    def forget_head(self) -> None:
        """Drop the cached head (after the files were changed behind this object's back)."""
        with self._lock:
            self._head = None
            self._tip = None

    def append(
        self, user: str, action: str, obj: str, signing_key: SigningKey | None = None, **detail: str
    ) -> AuditEntry:
        """Add an entry signed by ``user`` (unsigned only if ``signing_key`` is None)."""
        with self._lock:
            private_folder(self._entries_dir, parents=True)
            while True:
                size, value = self.head()
                entry = AuditEntry(size + 1, now_iso(), user, action, obj, value.hex(), detail)
                if signing_key is not None:
                    entry = entry.signed(self.log_id, signing_key)
                data = encrypt_bytes(entry.to_bytes(), self._recipients)
                if create_exclusive(self.entry_path(entry.seq), data):
                    self._head = (entry.seq, chain_next(value, data))
                    return entry
                # another writer took this number: the head moves on, and we try again

    # --- checkpoints ---------------------------------------------------------------------

    def _checkpoint_tip(self) -> tuple[int, bytes]:
        if self._tip is None:
            files = _numbered(self._checkpoints_dir, _CHECKPOINT_NAME)
            self._tip = (
                (files[-1][0], hashlib.sha256(files[-1][1].read_bytes()).digest())
                if files
                else (0, CHECKPOINT_GENESIS)
            )
        count, previous = self._tip
        while (path := self._checkpoints_dir / f"{count + 1:012d}.age").exists():
            count, previous = count + 1, hashlib.sha256(path.read_bytes()).digest()
        self._tip = (count, previous)
        return self._tip

    def checkpoint(self, user: str, key: SigningKey, head: tuple[int, bytes] | None = None) -> int:
        """Sign the current head (or ``head``) as ``user``, chained to the last checkpoint."""
        with self._lock:
            size, value = head or self.head()
            private_folder(self._checkpoints_dir, parents=True)
            while True:
                count, previous = self._checkpoint_tip()
                text = checkpoint_text(self.log_id, size, value, previous)
                data = encrypt_bytes(sign_note(text, user, key), self._recipients)
                path = self._checkpoints_dir / f"{count + 1:012d}.age"
                if create_exclusive(path, data):
                    self._tip = (count + 1, hashlib.sha256(data).digest())
                    return size

    # --- reading and verifying -----------------------------------------------------------

    def entries(self, identities: Sequence[Identity]) -> list[AuditEntry]:
        return [
            AuditEntry.from_bytes(read_encrypted(path, identities))
            for _, path in self._entry_files()
        ]

    def verify(
        self,
        identities: Sequence[Identity],
        keys: Mapping[str, VerifyKey],
        recorded_size: int = 0,
        policy: Policy | None = None,
        legacy: tuple[int, bytes] | None = None,
        known: tuple[int, bytes] | None = None,
    ) -> AuditReport:
        """Check every link, signature, permission and checkpoint.

        ``recorded_size``: a size known elsewhere (the case database) below which the log
        must not have shrunk; ``legacy``: (size, chain value) of the entries written before
        entries were signed, as the administrator recorded them at the upgrade; ``known``:
        the (size, chain value) this computer saw last (docs/FORMAT.md, section 9)."""
        report = AuditReport(0, 0, [], legacy=legacy[0] if legacy else 0)
        chain = self._check_entries(identities, keys, policy, report)
        size = len(chain) - 1
        report.entries = size
        report.signed_up_to = self._check_checkpoints(identities, keys, chain, report.problems)
        self._check_sizes(chain, recorded_size, legacy, known, report.problems)
        report.problems.sort(key=lambda p: p.position)
        return report

    def _check_sizes(
        self,
        chain: list[bytes],
        recorded_size: int,
        legacy: tuple[int, bytes] | None,
        known: tuple[int, bytes] | None,
        problems: list[Problem],
    ) -> None:
        size = len(chain) - 1
        if recorded_size > size:
            problems.append(
                Problem(
                    size + 1,
                    f"entries {size + 1}-{recorded_size} were removed "
                    "(the case database recorded more)",
                )
            )
        if legacy and (legacy[0] > size or chain[legacy[0]] != legacy[1]):
            problems.append(
                Problem(
                    min(legacy[0], size + 1),
                    "the entries written before the upgrade were changed or removed since "
                    "the administrator recorded them",
                )
            )
        if known and known[0] > size:
            problems.append(
                Problem(
                    size + 1,
                    f"rolled back: this computer has seen {known[0]} entries, the folder has "
                    f"{size}; entries were removed or an older copy was put back",
                )
            )
        elif known and chain[known[0]] != known[1]:
            problems.append(
                Problem(
                    known[0],
                    f"the first {known[0]} entries differ from what this computer saw: "
                    "the history was rewritten",
                )
            )

    def _check_entries(
        self,
        identities: Sequence[Identity],
        keys: Mapping[str, VerifyKey],
        policy: Policy | None,
        report: AuditReport,
    ) -> list[bytes]:
        """Walk the entries; return the chain values h0..hN (by position)."""
        problems = report.problems
        chain = [GENESIS]
        expected = 1
        for seq, path in self._entry_files():
            if seq != expected:
                gone = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
                problems.append(Problem(expected, f"entry {gone} is missing (removed)"))
            expected = seq + 1
            chain.append(self._check_entry(seq, path, chain[-1], identities, keys, policy, report))
        return chain

    def replay(
        self,
        identities: Sequence[Identity],
        keys: Mapping[str, VerifyKey],
        policy: Policy,
        state: Replay,
    ) -> Replay:
        """Check the entries after ``state.size`` (links, signatures, permissions) and feed
        them to ``policy``: a walk that continues when the log grows, so a replay of the
        history (consent) costs the new entries only."""
        while (path := self.entry_path(state.size + 1)).exists():
            seq = state.size + 1
            state.value = self._check_entry(
                seq, path, state.value, identities, keys, policy, state.report
            )
            state.size = state.report.entries = seq
        return state

    def _check_entry(
        self,
        seq: int,
        path: Path,
        previous: bytes,
        identities: Sequence[Identity],
        keys: Mapping[str, VerifyKey],
        policy: Policy | None,
        report: AuditReport,
    ) -> bytes:
        """Check one entry; return the chain value after it."""
        problems = report.problems
        ciphertext = path.read_bytes()
        try:
            entry = AuditEntry.from_bytes(read_encrypted(path, identities))
        except (EncryptionError, ValueError, TypeError) as exc:
            problems.append(Problem(seq, f"entry {seq} cannot be read: {exc}"))
        else:
            if entry.seq != seq:
                problems.append(Problem(seq, f"entry {seq} holds entry {entry.seq} (reordered)"))
            elif entry.prev != previous.hex():
                problems.append(
                    Problem(
                        seq,
                        f"entry {seq} does not link to the entry before "
                        "it (an earlier entry was altered or moved)",
                    )
                )
            else:  # only an entry in its own place counts: a copied one is never applied
                self._check_author(entry, keys, policy, report)
        return chain_next(previous, ciphertext)

    def _check_author(
        self,
        entry: AuditEntry,
        keys: Mapping[str, VerifyKey],
        policy: Policy | None,
        report: AuditReport,
    ) -> None:
        seq, problems = entry.seq, report.problems
        if seq <= report.legacy:
            if policy:
                policy(entry, False)
            return
        if not entry.signature:
            if entry.action in UNAUTHENTICATED_ACTIONS:
                report.unauthenticated.append(seq)
            else:
                problems.append(
                    Problem(
                        seq,
                        f"entry {seq} ({entry.action}) carries no signature: nobody vouches "
                        "for it (it was added by someone who could not sign)",
                    )
                )
            return
        key = keys.get(entry.user)
        if key is None:
            problems.append(
                Problem(seq, f"entry {seq} names {entry.user!r}, who is not a user here")
            )
            return
        try:
            key.verify(entry.signed_bytes(self.log_id), base64.b64decode(entry.signature))
        except (SignatureError, ValueError):
            problems.append(
                Problem(
                    seq,
                    f"entry {seq} ({entry.action}) claims to be by {entry.user}, but "
                    f"{entry.user} did not sign it: it was forged or altered",
                )
            )
            return
        if policy and (refusal := policy(entry, True)):
            problems.append(Problem(seq, f"entry {seq}: {refusal}"))

    def _check_checkpoints(
        self,
        identities: Sequence[Identity],
        keys: Mapping[str, VerifyKey],
        chain: list[bytes],
        problems: list[Problem],
    ) -> int:
        signed, expected, previous = 0, 1, CHECKPOINT_GENESIS
        for number, path in _numbered(self._checkpoints_dir, _CHECKPOINT_NAME):
            if number != expected:
                gone = f"{expected}" if number == expected + 1 else f"{expected}-{number - 1}"
                problems.append(Problem(signed, f"checkpoint {gone} was removed"))
            expected = number + 1
            ciphertext = path.read_bytes()
            follows, previous = previous, hashlib.sha256(ciphertext).digest()
            try:
                text, user = open_note(read_encrypted(path, identities), keys)
                lines = text.decode().splitlines()
                size = int(lines[1])
                head = base64.b64decode(lines[2])
                named_previous = base64.b64decode(lines[3].removeprefix("previous "))
            except (EncryptionError, LibraryError, ValueError, IndexError) as exc:
                problems.append(Problem(signed, f"checkpoint {number} does not verify: {exc}"))
                continue
            if lines[0] != f"videofeedback.audit/{self.log_id}":
                problems.append(Problem(signed, f"checkpoint {number} belongs to another log"))
            elif named_previous != follows:
                problems.append(
                    Problem(
                        signed,
                        f"checkpoint {number} (signed by {user}) does not follow the one "
                        "before it: checkpoints were removed or replaced",
                    )
                )
            elif size >= len(chain):
                problems.append(
                    Problem(
                        len(chain),
                        f"entries {len(chain)}-{size} were removed "
                        f"(signed by {user} at {size} entries)",
                    )
                )
            elif chain[size] != head:
                problems.append(
                    Problem(
                        size,
                        f"an entry at or before {size} was altered "
                        f"(checkpoint signed by {user} does not match)",
                    )
                )
            else:
                signed = max(signed, size)
        return signed


def report_json(report: AuditReport) -> dict[str, Any]:
    return {
        "valid": report.valid,
        "entries": report.entries,
        "signed_up_to": report.signed_up_to,
        "problems": [asdict(p) for p in report.problems],
        "unauthenticated": report.unauthenticated,
        "legacy": report.legacy,
        "summary": report.summary(),
    }
