"""manifest.json: the library's one plaintext file (no family data), and the writer lock."""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from encryption import atomic_file

from .errors import LibraryError, LibraryLockedError

FORMAT = "videofeedback-library"
VERSION = 2  # 1: unsigned roster and entries, one case key; 2: see migrations.py
MANIFEST = "manifest.json"


@dataclass
class UserRecord:
    role: str
    recipient: str
    verify_key: str
    created: str
    removed: str = ""  # when an administrator removed the user (kept: their old signatures)


@dataclass
class RetentionRecord:
    until: str  # ISO date after which the case may be purged
    signed_by: str
    signature: str  # base64 Ed25519 by signed_by over retention_message(…)
    closed: str = ""  # ISO date the case was closed ("" in records of format 1)
    case_signature: str = ""  # the same message signed with the case's own key (members only)
    entry: int = 0  # the case.close entry of the case's audit log
    head: str = ""  # hex chain value of the case's log after that entry (over ciphertexts)


@dataclass
class Settings:
    retention_days: int = 730
    idle_lock_minutes: int = 10


@dataclass
class Manifest:
    library_id: str
    created: str
    recovery_recipient: str
    settings: Settings = field(default_factory=Settings)
    users: dict[str, UserRecord] = field(default_factory=dict)
    unlock_failures: dict[str, int] = field(default_factory=dict)
    retention: dict[str, RetentionRecord] = field(default_factory=dict)
    codebooks: dict[str, Any] = field(default_factory=dict)  # the library's own codebooks
    prompts: dict[str, dict[str, str]] = field(default_factory=dict)  # book → category → text
    # the roster (library_id … users, legacy_logs) is signed by an administrator: roster.py
    legacy_logs: dict[str, dict[str, Any]] = field(default_factory=dict)  # log → size, head
    roster_serial: int = 0
    roster_signature: dict[str, str] = field(default_factory=dict)  # by, signature
    version: int = VERSION

    def to_json(self) -> str:
        data = {"format": FORMAT, **asdict(self)}
        for user in data["users"].values():  # written only once someone was removed
            if not user["removed"]:
                del user["removed"]
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(text)
            if data.pop("format") != FORMAT:
                raise ValueError("not a videofeedback library")
            version = int(data.pop("version"))
            if version > VERSION:
                raise LibraryError("this library was made by a newer videofeedback; update it")
            return cls(
                library_id=data["library_id"],
                created=data["created"],
                recovery_recipient=data["recovery_recipient"],
                settings=Settings(**data.get("settings", {})),
                users={k: UserRecord(**v) for k, v in data.get("users", {}).items()},
                unlock_failures=dict(data.get("unlock_failures", {})),
                retention={k: RetentionRecord(**v) for k, v in data.get("retention", {}).items()},
                codebooks=dict(data.get("codebooks", {})),
                prompts={k: dict(v) for k, v in data.get("prompts", {}).items()},
                legacy_logs={k: dict(v) for k, v in data.get("legacy_logs", {}).items()},
                roster_serial=int(data.get("roster_serial", 0)),
                roster_signature=dict(data.get("roster_signature", {})),
                version=version,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LibraryError(f"the library manifest is damaged ({exc})") from None


def retention_message(case_id: str, until: str) -> bytes:
    """What a format-1 retention record signed (kept to read old records)."""
    return f"videofeedback retention\n{case_id}\n{until}\n".encode()


def closure_message(case_id: str, closed: str, until: str, by: str, entry: int, head: str) -> bytes:
    """What the closing member signs, with their own key and with the case's key."""
    lines = ("videofeedback closure v2", case_id, closed, until, by, str(entry), head)
    return ("\n".join(lines) + "\n").encode()


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LibraryError(
            f"no library at {folder}; create one with 'videofeedback init' "
            "or point --library / VIDEOFEEDBACK_LIBRARY at an existing one"
        ) from None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    with atomic_file(folder / MANIFEST) as out:
        out.write(manifest.to_json().encode())


class WriterLock:
    """An exclusive lock on the library, held for as long as a process may write to it."""

    def __init__(self, folder: Path) -> None:
        self._fd: int | None = None
        self._folder = folder

    def acquire(self) -> None:
        # The folder itself is locked: manifest.json is replaced by rename on every save.
        fd = os.open(self._folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LibraryLockedError(
                f"the library {self._folder} is open in another videofeedback window or "
                "command; close it there and try again"
            ) from None
        self._fd = fd
        _remove_stale_temporaries(self._folder)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _remove_stale_temporaries(folder: Path) -> None:
    """Temporary files left by a save that was killed (always ciphertext) are removed."""
    for path in folder.rglob(".*.tmp"):
        try:
            os.unlink(path)
        except OSError:
            pass
