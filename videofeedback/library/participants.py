"""``case.participants``: the family members (or their pseudonyms) a case is about."""

from __future__ import annotations

from .audit import now_iso
from .case_part import CasePart
from .errors import LibraryError, NotFoundError
from .library import new_id
from .records import Participant, ParticipantId, fetch
from .roles import Action

_QUERY = "SELECT id, name, role, age_band, language FROM participants"


class Participants(CasePart):
    def add(
        self, name: str, role: str, age_band: str | None = None, language: str | None = None
    ) -> ParticipantId:
        case = self.case
        case.require(Action.EDIT_CASE)
        case.require_open()
        if not name.strip():
            raise LibraryError("a participant needs a name (or a pseudonym)")
        participant_id = ParticipantId(new_id("p"))
        case.db.execute(
            "INSERT INTO participants VALUES (?, ?, ?, ?, ?, ?, ?)",
            (participant_id, name.strip(), role, age_band, language, case.session.name, now_iso()),
        )
        case.audit("participant.add", participant_id)
        return participant_id

    def all(self) -> list[Participant]:
        rows = fetch(self.case.db, _QUERY + " ORDER BY created_at")
        return [Participant.from_row(row) for row in rows]

    def get(self, participant_id: str) -> Participant:
        rows = fetch(self.case.db, _QUERY + " WHERE id = ?", (participant_id,))
        if not rows:
            raise NotFoundError(f"there is no participant {participant_id} in case {self.case.id}")
        return Participant.from_row(rows[0])

    def family_language(self) -> str:
        """The family's preferred language (the first participant who gave one), or ''."""
        return next((p.language for p in self.all() if p.language), "")
