"""Append-only, hash-chained, signed audit logs (docs/FORMAT.md, section 9)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from encryption import (
    EncryptionError,
    Identity,
    Recipient,
    SigningKey,
    VerifyKey,
    private_folder,
    read_encrypted,
    write_encrypted,
)

from .errors import LibraryError

GENESIS = hashlib.sha256(b"videofeedback audit v1").digest()
_ENTRY_NAME = re.compile(r"^(\d{12})\.age$")
_CHECKPOINT_NAME = re.compile(r"^(\d{12})-([a-z0-9._-]+)\.age$")
_KEY_PREFIX = "videofeedback/"


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

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

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

    @property
    def valid(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.valid:
            return f"audit trail valid: {self.entries} entries, all signed"
        lines = [f"audit trail NOT valid ({len(self.problems)} problems):"]
        lines += [f"  at {p.position}: {p.message}" for p in self.problems]
        return "\n".join(lines)


def chain_next(previous: bytes, ciphertext: bytes) -> bytes:
    return hashlib.sha256(previous + hashlib.sha256(ciphertext).digest()).digest()


def checkpoint_text(log_id: str, size: int, head: bytes) -> bytes:
    return f"videofeedback.audit/{log_id}\n{size}\n{base64.b64encode(head).decode()}\n".encode()


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


class AuditLog:
    """One audit log: entries and checkpoints in a folder, encrypted to ``recipients``."""

    def __init__(self, folder: Path, log_id: str, recipients: Sequence[Recipient]) -> None:
        self.folder = folder
        self.log_id = log_id
        self._recipients = list(recipients)

    @property
    def _entries_dir(self) -> Path:
        return self.folder / "entries"

    @property
    def _checkpoints_dir(self) -> Path:
        return self.folder / "checkpoints"

    def _entry_files(self) -> list[tuple[int, Path]]:
        if not self._entries_dir.exists():
            return []
        found = []
        for path in self._entries_dir.iterdir():
            if match := _ENTRY_NAME.match(path.name):
                found.append((int(match.group(1)), path))
        return sorted(found)

    def head(self) -> tuple[int, bytes]:
        """(number of entries, chain value), computed from the ciphertexts."""
        value = GENESIS
        files = self._entry_files()
        for _, path in files:
            value = chain_next(value, path.read_bytes())
        return (files[-1][0] if files else 0), value

    def append(self, user: str, action: str, obj: str, **detail: str) -> AuditEntry:
        size, value = self.head()
        entry = AuditEntry(size + 1, now_iso(), user, action, obj, value.hex(), dict(detail))
        private_folder(self._entries_dir, parents=True)
        write_encrypted(
            self._entries_dir / f"{entry.seq:012d}.age", entry.to_bytes(), self._recipients
        )
        return entry

    def checkpoint(self, user: str, key: SigningKey, head: tuple[int, bytes] | None = None) -> int:
        """Sign the current head (or ``head``, if the caller just computed it) as ``user``."""
        size, value = head or self.head()
        note = sign_note(checkpoint_text(self.log_id, size, value), user, key)
        private_folder(self._checkpoints_dir, parents=True)
        write_encrypted(self._checkpoints_dir / f"{size:012d}-{user}.age", note, self._recipients)
        return size

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
    ) -> AuditReport:
        """Check every link and every checkpoint; ``recorded_size`` is a size known elsewhere
        (the case database) below which the log must not have shrunk."""
        problems: list[Problem] = []
        chain = self._check_entries(identities, problems)
        signed = self._check_checkpoints(identities, keys, chain, problems)
        size = len(chain) - 1
        if size > signed:
            problems.append(Problem(signed + 1, f"entries {signed + 1}-{size} are not signed"))
        if recorded_size > size:
            problems.append(
                Problem(
                    size + 1,
                    f"entries {size + 1}-{recorded_size} were removed "
                    "(the case database recorded more)",
                )
            )
        problems.sort(key=lambda p: p.position)
        return AuditReport(size, signed, problems)

    def _check_entries(
        self, identities: Sequence[Identity], problems: list[Problem]
    ) -> list[bytes]:
        """Walk the entries; return the chain values h0..hN (by position)."""
        chain = [GENESIS]
        expected = 1
        for seq, path in self._entry_files():
            if seq != expected:
                gone = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
                problems.append(Problem(expected, f"entry {gone} is missing (removed)"))
            expected = seq + 1
            ciphertext = path.read_bytes()
            try:
                entry = AuditEntry.from_bytes(read_encrypted(path, identities))
            except (EncryptionError, ValueError, TypeError) as exc:
                problems.append(Problem(seq, f"entry {seq} cannot be read: {exc}"))
            else:
                if entry.seq != seq:
                    problems.append(
                        Problem(seq, f"entry {seq} holds entry {entry.seq} (reordered)")
                    )
                elif entry.prev != chain[-1].hex():
                    problems.append(
                        Problem(
                            seq,
                            f"entry {seq} does not link to the entry before "
                            "it (an earlier entry was altered or moved)",
                        )
                    )
            chain.append(chain_next(chain[-1], ciphertext))
        return chain

    def _check_checkpoints(
        self,
        identities: Sequence[Identity],
        keys: Mapping[str, VerifyKey],
        chain: list[bytes],
        problems: list[Problem],
    ) -> int:
        signed = 0
        if not self._checkpoints_dir.exists():
            return 0
        for path in sorted(self._checkpoints_dir.iterdir()):
            match = _CHECKPOINT_NAME.match(path.name)
            if not match:
                continue
            size = int(match.group(1))
            try:
                text, user = open_note(read_encrypted(path, identities), keys)
            except (EncryptionError, LibraryError, ValueError) as exc:
                problems.append(Problem(size, f"checkpoint at {size} does not verify: {exc}"))
                continue
            if text != checkpoint_text(
                self.log_id, size, chain[size] if size < len(chain) else b""
            ):
                if size >= len(chain):
                    problems.append(
                        Problem(
                            len(chain),
                            f"entries {len(chain)}-{size} were removed "
                            f"(signed by {user} at {size} entries)",
                        )
                    )
                else:
                    problems.append(
                        Problem(
                            size,
                            f"an entry at or before {size} was altered "
                            f"(checkpoint signed by {user} does not match)",
                        )
                    )
                continue
            signed = max(signed, size)
        return signed


def report_json(report: AuditReport) -> dict[str, Any]:
    return {
        "valid": report.valid,
        "entries": report.entries,
        "signed_up_to": report.signed_up_to,
        "problems": [asdict(p) for p in report.problems],
    }
