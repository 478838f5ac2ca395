"""What an id of a case is, in words people use ("moment 00:12 of Play with blocks")."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cases import Case


def describe(case: Case, target: str) -> str:
    """The case, a session, a recording or reel, or a moment — by its id — in words."""
    if target == case.id:
        return "the case"
    db, title = case.db, case.sessions.title
    if db.execute("SELECT 1 FROM sessions WHERE id = ?", (target,)).fetchone():
        return title(target)
    found = db.execute("SELECT session_id, kind FROM media WHERE id = ?", (target,)).fetchone()
    if found:
        return f"{found[1]} of {title(found[0])}"
    return moment_label(case, target) or target


def moment_label(case: Case, moment_id: str) -> str:
    """ "moment 00:12 of Play with blocks" for a moment's id, or '' if none has it."""
    for media_id, data in case.db.execute("SELECT media_id, data FROM annotations"):
        if moment_id not in data:
            continue
        for moment in json.loads(data).get("moments", []):
            if moment.get("id") == moment_id:
                start = Fraction(str(moment.get("start", "0")))
                minutes, seconds = divmod(int(start), 60)
                session = case.db.execute(
                    "SELECT session_id FROM media WHERE id = ?", (media_id,)
                ).fetchone()
                where = f" of {case.sessions.title(session[0])}" if session else ""
                return f"moment {minutes:02d}:{seconds:02d}{where}"
    return ""
