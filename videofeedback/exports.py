"""Plaintext exports: the family copy, the session report (PDF), moments for another tool. They
are the only files videofeedback writes unencrypted, outside the library, so each is careful:

1. audited in the case before its first byte (``export.start``, with an export id);
2. written to a temporary file beside the target, named by the export id, whose path is noted
   first in ``users/NAME.exports.age``, encrypted to the exporting user only (a path may hold
   names, so it is never in an audit entry: those hold ids only);
3. renamed into place, audited (the export's own action, with the same export id), and the
   note dropped.

A run killed between 1 and 3 leaves plaintext in a hidden temporary file. The same user's next
command (or unlock in the app) calls ``sweep_unfinished_exports``: each noted file is removed,
``export.swept`` is audited in its case, and the caller says so. See docs/FORMAT.md, 10.3."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from encryption import atomic_file, read_encrypted, write_encrypted

from .errors import VideofeedbackError
from .library.cases import Case, open_case
from .library.library import UserSession, new_id

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)
NAME_LIMIT = 120  # characters before the extension: well under every system's 255 bytes


def safe_file_name(parts: list[str], extension: str) -> str:
    """A default file name people recognise ("Family A – Play with blocks – 2026-12-01.mp4")
    that Windows, macOS and Linux all accept: no reserved characters (<>:"/\\|?* and control
    characters), no reserved device name (CON, NUL, COM1…), no leading dot, no trailing dot
    or space, at most ``NAME_LIMIT`` characters before the extension."""
    cleaned = [" ".join(_UNSAFE.sub(" ", part).split()) for part in parts]
    stem = " – ".join(part for part in cleaned if part)
    stem = stem[:NAME_LIMIT].strip(" .").lstrip(".") or "export"
    if _RESERVED.match(stem.split(".")[0].strip()):
        stem = f"{stem} export"
    return f"{stem}.{extension}"


@dataclass(frozen=True)
class PendingExport:
    case: str
    export: str
    temp: str  # the temporary file's absolute path


def pending_path(session: UserSession) -> Path:
    return session.library.folder / "users" / f"{session.name}.exports.age"


def pending_exports(session: UserSession) -> list[PendingExport]:
    path = pending_path(session)
    if not path.exists():
        return []
    data = json.loads(read_encrypted(path, session.identities))
    return [PendingExport(**item) for item in data]


def _save_pending(session: UserSession, items: list[PendingExport]) -> None:
    path = pending_path(session)
    if not items:
        path.unlink(missing_ok=True)
        return
    text = json.dumps([asdict(item) for item in items]).encode()
    write_encrypted(path, text, [session.keys.recipient])


@contextmanager
def plaintext_export(
    case: Case, out: Path, action: str, obj: str, **detail: str
) -> Iterator[BinaryIO]:
    """A plaintext file at ``out``, written atomically and audited before and after (the
    ``action`` entry, with ``detail``, on success); swept at the next start if killed."""
    export_id = new_id("x")
    out = out.absolute()
    temp = out.parent / f".{out.name}.{export_id}.tmp"
    case.audit("export.start", obj, export=export_id, of=action)
    session = case.session
    _save_pending(
        session, [*pending_exports(session), PendingExport(case.id, export_id, str(temp))]
    )
    try:
        with atomic_file(out, temp=temp) as sink:
            yield sink
    finally:  # renamed into place, or removed by atomic_file: nothing left to sweep
        _save_pending(session, [p for p in pending_exports(session) if p.export != export_id])
    case.audit(action, obj, export=export_id, **detail)


def sweep_unfinished_exports(session: UserSession) -> list[str]:
    """Remove the temporary files of this user's exports that never finished (the process
    was killed); audit each in its case. The paths removed (to tell the user)."""
    removed = []
    for item in pending_exports(session):
        temp = Path(item.temp)
        found = temp.exists()
        temp.unlink(missing_ok=True)
        if found:
            removed.append(str(temp))
        _audit_sweep(session, item, found)
    _save_pending(session, [])
    return removed


def _audit_sweep(session: UserSession, item: PendingExport, found: bool) -> None:
    try:
        case = open_case(session, item.case)
    except VideofeedbackError:
        return  # no longer a member, or the case was purged: the file is gone all the same
    case.audit("export.swept", item.export, removed="yes" if found else "no")
    case.save()
