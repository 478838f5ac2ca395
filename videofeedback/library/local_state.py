"""What this computer remembers of a library, kept outside the library folder.

A rollback or a copy of the folder cannot reach it: the administrators it trusts (pinned on
first use), the newest roster it has seen, and a signed head per audit log (entry count,
chain value, hash of the case database). One JSON file per library id, readable only by
the OS account (docs/FORMAT.md, section 9).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import platformdirs

from encryption import SignatureError, SigningKey, VerifyKey, atomic_file

from .errors import LibraryError

STATE_ENV = "VIDEOFEEDBACK_STATE_DIR"


def state_dir() -> Path:
    chosen = os.environ.get(STATE_ENV)
    return Path(chosen or platformdirs.user_state_dir("videofeedback", appauthor=False))


@dataclass(frozen=True)
class LocalHead:
    """A log's head as this computer last wrote or saw it, signed by the user who did."""

    entries: int
    log: str  # hex chain value after ``entries``
    db: str  # hex SHA-256 of the case database file saved at that head ("" for the library)
    by: str
    signature: str

    @staticmethod
    def message(library_id: str, log_id: str, entries: int, log: str, db: str) -> bytes:
        return f"videofeedback head v1\n{library_id}\n{log_id}\n{entries}\n{log}\n{db}\n".encode()

    def check(self, library_id: str, log_id: str, key: VerifyKey | None) -> None:
        message = self.message(library_id, log_id, self.entries, self.log, self.db)
        try:
            if key is None:
                raise SignatureError("unknown signer")
            key.verify(message, base64.b64decode(self.signature))
        except (SignatureError, ValueError):
            raise LibraryError(
                f"this computer's record of {log_id} was altered (it is not signed by "
                f"{self.by}); ask your administrator before going on"
            ) from None


class LocalState:
    """The state file of one library on this computer."""

    def __init__(self, library_id: str) -> None:
        self.library_id = library_id
        self.path = state_dir() / "libraries" / f"{library_id}.json"
        self._data: dict[str, Any] = self._load()

    def _load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"pins": None, "heads": {}}
        except ValueError:
            raise LibraryError(
                f"{self.path} (this computer's record of the library) is damaged; "
                "ask your administrator"
            ) from None
        return data

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with atomic_file(self.path) as out:
            os.fchmod(out.fileno(), 0o600)
            # compact: the C encoder (an indented dump is pure Python, ~10x slower here)
            out.write(json.dumps(self._data, sort_keys=True, separators=(",", ":")).encode())

    # --- pinned administrators and roster serial -----------------------------------------

    @property
    def pins(self) -> dict[str, Any] | None:
        pins = self._data.get("pins")
        return dict(pins) if pins else None

    def set_pins(self, pins: dict[str, Any]) -> None:
        if pins != self._data.get("pins"):
            self._data["pins"] = pins
            self._save()

    # --- heads ---------------------------------------------------------------------------

    def head(self, log_id: str, keys: dict[str, VerifyKey]) -> LocalHead | None:
        raw = self._data.get("heads", {}).get(log_id)
        if raw is None:
            return None
        head = LocalHead(**raw)
        head.check(self.library_id, log_id, keys.get(head.by))
        return head

    def record_head(
        self, log_id: str, entries: int, log: bytes, db: str, by: str, key: SigningKey
    ) -> None:
        """Remember a newer head (never an older one: the count only increases)."""
        current = self._data.setdefault("heads", {}).get(log_id)
        if current and int(current["entries"]) > entries:
            return
        message = LocalHead.message(self.library_id, log_id, entries, log.hex(), db)
        signature = base64.b64encode(key.sign(message)).decode()
        self._data["heads"][log_id] = asdict(LocalHead(entries, log.hex(), db, by, signature))
        self._save()

    # --- the team store (docs/FORMAT.md §12.3) -------------------------------------------

    def device_id(self) -> str:
        """This computer's random id in the team store (never in the library folder: two
        copies of one folder on two laptops are two devices)."""
        device = self._data.get("device")
        if not device:
            device = secrets.token_hex(16)
            self._data["device"] = device
            self._save()
        return str(device)

    def sync_heads(self, case_id: str) -> dict[str, dict[str, Any]]:
        """device -> the last head this computer accepted (or, for itself, pushed)."""
        return dict(self._data.get("sync", {}).get(case_id, {}))

    def accept_sync_head(self, case_id: str, device: str, head: dict[str, Any]) -> None:
        self._data.setdefault("sync", {}).setdefault(case_id, {})[device] = head
        self._save()

    def forget_sync(self, case_id: str) -> None:
        """Drop what this computer accepted of a case it no longer holds (a case made from
        an invitation and removed again: a later one starts afresh)."""
        if self._data.get("sync", {}).pop(case_id, None) is not None:
            self._save()

    def sync_value(self, name: str, default: Any = None) -> Any:
        return self._data.get("sync_info", {}).get(name, default)

    def set_sync_value(self, name: str, value: Any) -> None:
        self._data.setdefault("sync_info", {})[name] = value
        self._save()
