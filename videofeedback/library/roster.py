"""The roster (users, roles, keys, recovery recipient, settings) is signed by an administrator.

The administrators themselves are pinned on this computer on first use (local_state.py):
a roster signed by anyone else, by a pinned administrator's replaced key, or older than one
already seen is refused, so no key is ever wrapped to a recipient it names
(docs/FORMAT.md, sections 8 and 10). One exception (``supersedes``): a roster that removes
the administrator who signed the held one replaces it whatever the serials, since nothing
genuine is signed after its signer's removal (§12.9).
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from typing import Any

from encryption import IdentityFileError, SignatureError, SigningKey, VerifyKey

from .errors import LibraryError
from .manifest import Manifest, UserRecord
from .roles import Role


class RosterError(LibraryError):
    """The list of users was changed by someone who may not change it, or rolled back."""


def roster_message(manifest: Manifest) -> bytes:
    body = {
        "library_id": manifest.library_id,
        "created": manifest.created,
        "recovery_recipient": manifest.recovery_recipient,
        "settings": asdict(manifest.settings),
        "users": {name: _signed(user) for name, user in manifest.users.items()},
        "legacy_logs": manifest.legacy_logs,
        "serial": manifest.roster_serial,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return f"videofeedback roster v1\n{text}\n".encode()


def _signed(user: UserRecord) -> dict[str, str]:
    """A user's signed fields; ``removed`` only once set (older signatures stay valid)."""
    fields = asdict(user)
    if not fields["removed"]:
        del fields["removed"]
    return fields


def sign_roster(manifest: Manifest, admin: str, key: SigningKey) -> None:
    """Count the roster up and sign it as ``admin`` (who must be an administrator in it)."""
    record = manifest.users.get(admin)
    if record is None or record.role != Role.ADMIN.value:
        raise RosterError(f"only an administrator can change the list of users ({admin} is not)")
    manifest.roster_serial += 1
    signature = base64.b64encode(key.sign(roster_message(manifest))).decode()
    manifest.roster_signature = {"by": admin, "signature": signature}


def admins_of(manifest: Manifest) -> dict[str, str]:
    users = manifest.users.items()
    return {n: u.verify_key for n, u in users if u.role == Role.ADMIN.value and not u.removed}


def fingerprint(verify_key: str) -> str:
    """A short, readable form of a key to compare by eye (first 16 characters after vfsign1)."""
    return verify_key.removeprefix("vfsign1")[:16]


def removes(manifest: Manifest, name: str) -> bool:
    """Whether this roster marks ``name`` removed (a removal is final: no name comes back)."""
    record = manifest.users.get(name)
    return record is not None and bool(record.removed)


def signer_of(manifest: Manifest) -> str:
    return str(manifest.roster_signature.get("by", ""))


def supersedes(candidate: Manifest, held: Manifest) -> bool:
    """Whether ``candidate`` replaces ``held``: it removes the administrator who signed
    ``held`` (whatever the serials: no genuine roster is signed by an administrator after
    his removal), or it is newer and ``held`` does not remove its signer."""
    if removes(held, signer_of(candidate)):
        return False
    return removes(candidate, signer_of(held)) or candidate.roster_serial > held.roster_serial


def _floor(manifest: Manifest, pins: dict[str, Any]) -> int:
    """The newest serial this computer took from an administrator ``manifest`` keeps."""
    signed: dict[str, int] = pins.get("signed", {})
    return max((int(s) for n, s in signed.items() if not removes(manifest, n)), default=0)


def check_roster(
    manifest: Manifest, pins: dict[str, Any] | None, held: Manifest | None = None
) -> dict[str, Any]:
    """Verify the roster's signature against the pinned administrators; return new pins.
    With ``held`` (the roster this computer holds), a roster that removes its signer may
    be older than the pinned serial, not older than what the others signed (``_floor``)."""
    by = manifest.roster_signature.get("by", "")
    signer = manifest.users.get(by)
    if signer is None or signer.role != Role.ADMIN.value or signer.removed:
        raise RosterError(
            "the library's list of users is not signed by an administrator: someone changed "
            "manifest.json by hand. Nothing was done; ask your administrator to check it"
        )
    try:
        VerifyKey.parse(signer.verify_key).verify(
            roster_message(manifest), base64.b64decode(manifest.roster_signature["signature"])
        )
    except (SignatureError, IdentityFileError, ValueError, KeyError):
        raise RosterError(
            "the library's list of users (users, roles, keys or the recovery key) was changed "
            "after an administrator signed it. Nothing was done and no key was given to "
            "anyone; ask your administrator to check manifest.json"
        ) from None
    if pins is None:
        signed = {by: manifest.roster_serial}
        return {"admins": admins_of(manifest), "serial": manifest.roster_serial, "signed": signed}
    pinned: dict[str, str] = pins["admins"]
    if pinned.get(by) != signer.verify_key:
        if held is not None and removes(held, by):
            raise RosterError(
                f"the list of users is signed by {by}, whom the one this computer holds "
                f"(version {held.roster_serial}, signed by {signer_of(held)}) removed. "
                "Nothing was done; ask your administrator"
            )
        raise RosterError(
            f"the library's list of users is signed by {by} (key "
            f"{fingerprint(signer.verify_key)}), whom this computer has never known as an "
            "administrator. Nothing was done; ask your administrator"
        )
    for name, key in pinned.items():
        if name in manifest.users and manifest.users[name].verify_key != key:
            raise RosterError(
                f"the key of administrator {name} was replaced in the library's list of users. "
                "Nothing was done; ask your administrator"
            )
    _check_not_rolled_back(manifest, pins, held)
    admins = {**pinned, **admins_of(manifest)}
    gone = {n for n, u in manifest.users.items() if u.removed}  # a removed admin: unpinned
    admins = {n: k for n, k in admins.items() if n not in gone}
    signed = {**pins.get("signed", {})}
    signed[by] = max(int(signed.get(by, 0)), manifest.roster_serial)
    return {"admins": admins, "serial": manifest.roster_serial, "signed": signed}


def _check_not_rolled_back(manifest: Manifest, pins: dict[str, Any], held: Manifest | None) -> None:
    if manifest.roster_serial >= int(pins["serial"]):
        return
    if held is not None and removes(manifest, signer_of(held)):
        if manifest.roster_serial > _floor(manifest, pins):
            return  # the held one was signed after its signer's removal: it gives way
    raise RosterError(
        f"the library's list of users was rolled back (this computer has seen version "
        f"{pins['serial']}, the folder holds {manifest.roster_serial}); ask your administrator"
    )
