"""What the case view shows, read in one go (in the case's queue, off the GUI thread)."""

from __future__ import annotations

from dataclasses import dataclass

from .case_db import get_meta
from .cases import Case
from .records import ConsentRow, Goal, MediaRecord, Member, Participant, Session


@dataclass(frozen=True)
class SessionOverview:
    session: Session
    media: tuple[MediaRecord, ...]


@dataclass(frozen=True)
class CaseOverview:
    label: str
    programme: str
    start_date: str
    closed_date: str  # "" while open
    members: tuple[Member, ...]
    participants: tuple[Participant, ...]
    consent: tuple[ConsentRow, ...]  # one row per participant, in the same order
    sessions: tuple[SessionOverview, ...]
    goals: tuple[Goal, ...]


def case_overview(case: Case) -> CaseOverview:
    sessions = tuple(
        SessionOverview(s, tuple(case.media.of_session(s.id))) for s in case.sessions.all()
    )
    return CaseOverview(
        case.label,
        get_meta(case.db, "programme"),
        get_meta(case.db, "start_date"),
        get_meta(case.db, "closed_date"),
        tuple(case.members.all()),
        tuple(case.participants.all()),
        tuple(case.consent.table()),
        sessions,
        tuple(case.goals.all()),
    )
