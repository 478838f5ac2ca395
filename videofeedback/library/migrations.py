"""Upgrading a library in place, one format version at a time (docs/FORMAT.md, section 8).

``STEPS[n]`` takes a library of format ``n`` to ``n + 1``. An administrator runs them, in
order, when they first unlock an older library (nobody else can open it before); afterwards
the administrator signs the roster (every step may change it) and the upgrade is an entry
of the library's audit trail. A later step is added as ``STEPS[2] = Step(…)`` with
``manifest.VERSION`` raised to 3; a step must be safe to run again after a crash (the
manifest's version is written only once the step is done).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from encryption import X25519Recipient

from .audit import AuditLog
from .keyring import upgrade_to_epochs
from .library import Library, UserSession
from .manifest import VERSION, write_manifest

_V1_CHECKPOINT = re.compile(r"^\d{12}-[a-z0-9._-]+\.age$")


@dataclass(frozen=True)
class Step:
    description: str
    run: Callable[[Library, UserSession], None]


def _legacy_head(folder: Path, log_id: str) -> dict[str, object]:
    """The head of a log written before entries were signed: computed over the ciphertexts,
    so the administrator needs no key of the case to record it."""
    size, value = AuditLog(folder, log_id, []).head()
    return {"entries": size, "head": value.hex()}


def _hide_checkpoint_signers(folder: Path) -> None:
    """Format-1 checkpoint files were named SIZE-USER.age (who worked on which case):
    they move to legacy-checkpoints/ under opaque numbers."""
    old = sorted(p for p in (folder / "checkpoints").glob("*.age") if _V1_CHECKPOINT.match(p.name))
    if not old:
        return
    target = folder / "legacy-checkpoints"
    target.mkdir(exist_ok=True)
    start = len(list(target.iterdir()))
    for number, path in enumerate(old, start + 1):
        path.rename(target / f"{number:06d}.age")


def _sign_history_v1(library: Library, admin: UserSession) -> None:
    """1 -> 2: the roster is signed (by the caller, after every step), the entries written so
    far are recorded as they are (size and chain value of each log, signed with the roster),
    and checkpoint files stop naming their signer."""
    logs = {library.manifest.library_id: library.folder / "audit"}
    for case_id in library.case_ids():
        logs[case_id] = library.case_folder(case_id) / "audit"
    for log_id, folder in logs.items():
        library.manifest.legacy_logs.setdefault(log_id, _legacy_head(folder, log_id))
        _hide_checkpoint_signers(folder)


def _to_format_2(library: Library, admin: UserSession) -> None:
    """1 -> 2: signed history (above), then the key store, and key epochs for every case the
    administrator can open (the others are upgraded by the first member who opens them:
    docs/FORMAT.md 8.1). The key store goes to the roster this administrator signs next."""
    _sign_history_v1(library, admin)
    users = [X25519Recipient.parse(u.recipient) for u in library.manifest.users.values()]
    recovery = X25519Recipient.parse(library.manifest.recovery_recipient)
    upgrade_to_epochs(library, admin.identities, [*users, recovery])


STEPS: dict[int, Step] = {
    1: Step(
        "sign the roster and the history so far; opaque checkpoint names; case key epochs",
        _to_format_2,
    ),
}


def upgrade(library: Library, admin: UserSession) -> list[str]:
    """Run every step from the library's version to ``VERSION``; return what was done."""
    done = []
    while library.manifest.version < VERSION:
        step = STEPS[library.manifest.version]
        step.run(library, admin)
        library.manifest.version += 1
        write_manifest(library.folder, library.manifest)
        done.append(step.description)
    if done:
        library.sign_roster(admin)
        admin.audit("library.upgrade", library.manifest.library_id, to=str(VERSION))
    return done
