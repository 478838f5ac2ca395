"""``case.media``: which encrypted file is which recording, still or reel of a session."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .audit import now_iso
from .case_part import CasePart
from .errors import NotFoundError
from .library import new_id
from .records import MediaId, MediaRecord, fetch

_COLUMNS = "SELECT id, session_id, kind, file, info FROM media"


class CaseMedia(CasePart):
    def add(
        self,
        session_id: str,
        kind: str,
        file: str,
        info: Mapping[str, Any],
        media_id: str | None = None,
    ) -> MediaId:
        """Register an encrypted media file (relative to the case folder) on a session."""
        case = self.case
        session = case.sessions.get(session_id).id
        new = MediaId(media_id or new_id("m"))
        case.db.execute(
            "INSERT INTO media VALUES (?, ?, ?, ?, ?, ?, ?)",
            (new, session, kind, file, json.dumps(dict(info)), case.session.name, now_iso()),
        )
        case.audit(f"media.{kind}", new, session=session)
        return new

    def get(self, media_id: str) -> MediaRecord:
        rows = fetch(self.case.db, _COLUMNS + " WHERE id = ?", (media_id,))
        if not rows:
            raise NotFoundError(f"there is no media {media_id} in case {self.case.id}")
        return MediaRecord.from_row(rows[0])

    def of_session(self, session_id: str) -> list[MediaRecord]:
        query = _COLUMNS + " WHERE session_id = ? ORDER BY created_at"
        rows = fetch(self.case.db, query, (session_id,))
        return [MediaRecord.from_row(row) for row in rows]

    def update_info(self, media_id: str, info: Mapping[str, Any]) -> None:
        """Merge ``info`` into the record's (the keys it names are replaced)."""
        merged = json.dumps({**self.get(media_id).info, **info})
        self.case.db.execute("UPDATE media SET info = ? WHERE id = ?", (merged, media_id))
