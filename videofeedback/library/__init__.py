"""The case library: users and roles, cases, consent, sessions, goals, audit, retention."""

from .audit import AuditEntry, AuditLog, AuditReport, Problem, report_json
from .bundle import OpenedBundle, export_bundle, open_bundle
from .cases import (
    Case,
    Programme,
    Purpose,
    RollbackError,
    SessionKind,
    create_case,
    list_cases,
    open_case,
    parse_choice,
    parse_date,
)
from .errors import (
    AuthenticationError,
    ConsentError,
    LibraryError,
    LibraryLockedError,
    NotFoundError,
    PermissionDeniedError,
)
from .library import Library, UserSession, unlock_delay
from .records import (
    CaseId,
    MediaId,
    MediaRecord,
    Participant,
    ParticipantId,
    Session,
    SessionId,
)
from .roles import Action, Role
from .roster import RosterError

__all__ = [
    "Action",
    "AuditEntry",
    "AuditLog",
    "AuditReport",
    "AuthenticationError",
    "Case",
    "CaseId",
    "ConsentError",
    "Library",
    "LibraryError",
    "LibraryLockedError",
    "MediaId",
    "MediaRecord",
    "NotFoundError",
    "OpenedBundle",
    "Participant",
    "ParticipantId",
    "PermissionDeniedError",
    "Problem",
    "Programme",
    "Purpose",
    "Role",
    "RollbackError",
    "RosterError",
    "Session",
    "SessionId",
    "SessionKind",
    "UserSession",
    "create_case",
    "export_bundle",
    "list_cases",
    "open_bundle",
    "open_case",
    "parse_choice",
    "parse_date",
    "report_json",
    "unlock_delay",
]
