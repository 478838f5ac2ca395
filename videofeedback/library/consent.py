"""``case.consent``: who agreed to what. Decisions read the signed audit trail only; the
database's consent table is a cache any member could write (docs/FORMAT.md, section 10)."""

from __future__ import annotations

from .audit import now_iso
from .case_part import CasePart
from .errors import ConsentError
from .records import ConsentRow, ConsentStatus, Purpose
from .roles import Action


class Consent(CasePart):
    def set(self, participant_id: str, purpose: Purpose, given: bool) -> None:
        case = self.case
        case.require(Action.EDIT_CASE)
        case.participants.get(participant_id)
        status = "given" if given else "withdrawn"
        case.db.execute(
            "INSERT INTO consent(participant_id, purpose, status, recorded_by, recorded_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (participant_id, purpose.value, status, case.session.name, now_iso()),
        )
        case.audit(f"consent.{'give' if given else 'withdraw'}", participant_id, purpose=purpose)

    def status(self, participant_id: str, purpose: Purpose) -> ConsentStatus | None:
        """The latest consent the signed audit trail records, or None if it records none."""
        found = self.case.history().consent.get((participant_id, purpose.value))
        return ConsentStatus(found[0], found[1]) if found else None

    def table(self) -> list[ConsentRow]:
        """Every participant's consent to every purpose ("not asked" where none)."""
        table = []
        for p in self.case.participants.all():
            found = {purpose: self.status(p.id, purpose) for purpose in Purpose}
            status = {k: v.status if v else "not asked" for k, v in found.items()}
            table.append(ConsentRow(p.id, status))
        return table

    def require(self, purpose: Purpose) -> None:
        """Raise ConsentError, saying who and why, unless every participant consents."""
        participants = self.case.participants.all()
        if not participants:
            raise ConsentError(
                f"case {self.case.id} has no participants yet; add the family members and "
                f"record their consent to {purpose.value} first"
            )
        for p in participants:
            if self.status(p.id, purpose) is None:
                raise ConsentError(
                    f"{p.who} has not given consent to {purpose.value}; record it first"
                )
        self.refuse_if_withdrawn(purpose)

    def refuse_if_withdrawn(self, purpose: Purpose) -> None:
        """Raise ConsentError if anyone has withdrawn consent to ``purpose``."""
        for p in self.case.participants.all():
            status = self.status(p.id, purpose)
            if status and status.withdrawn:
                raise ConsentError(
                    f"{p.who} withdrew consent to {purpose.value} on {status.when[:10]}; "
                    "this is not allowed any more"
                )
