"""Roles and what each may do. Case access is also cryptographic: see docs/FORMAT.md."""

from __future__ import annotations

from enum import StrEnum

from .errors import PermissionDeniedError


class Role(StrEnum):
    SOCIAL_WORKER = "social-worker"
    PRACTITIONER = "practitioner"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower().replace("_", "-").replace(" ", "-"))
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            raise PermissionDeniedError(
                f"unknown role {text!r}; choose one of: {choices}"
            ) from None


class Action(StrEnum):
    MANAGE_USERS = "manage users"
    CREATE_CASE = "create a case"
    EDIT_CASE = "change case details, participants, consent or goals"
    CREATE_SESSION = "create a session"
    RECORD = "record or import"
    VIEW = "view the case"
    ANNOTATE = "annotate recordings"
    BUILD_REEL = "build reels"
    RUN_REVIEW = "run a shared review"
    EXPORT = "export"
    EXPORT_ANNOTATIONS = "export a recording's moments (without private notes)"
    EXPORT_PRIVATE_NOTES = "export private notes"
    COMMENT = "comment"
    SIGN_OFF = "sign off a cycle"
    PURGE = "purge expired cases"


_SOCIAL_WORKER = {
    Action.CREATE_CASE,
    Action.EDIT_CASE,
    Action.CREATE_SESSION,
    Action.RECORD,
    Action.VIEW,
}
_PRACTITIONER = _SOCIAL_WORKER | {
    Action.ANNOTATE,
    Action.BUILD_REEL,
    Action.RUN_REVIEW,
    Action.EXPORT,
    Action.EXPORT_ANNOTATIONS,
    Action.EXPORT_PRIVATE_NOTES,
}
#: A supervisor codes too (agreement) and may take the moments to another tool, never the
#: practitioners' private notes.
_SUPERVISOR = {Action.VIEW, Action.COMMENT, Action.SIGN_OFF, Action.EXPORT_ANNOTATIONS}
_ADMIN = {Action.MANAGE_USERS, Action.PURGE}

ALLOWED: dict[Role, frozenset[Action]] = {
    Role.SOCIAL_WORKER: frozenset(_SOCIAL_WORKER),
    Role.PRACTITIONER: frozenset(_PRACTITIONER),
    Role.SUPERVISOR: frozenset(_SUPERVISOR),
    Role.ADMIN: frozenset(_ADMIN),
}


def allowed(role: Role, action: Action) -> bool:
    return action in ALLOWED[role]


def role_may(role: str | None, action: Action) -> bool:
    """Whether a role named in a roster or trail may do ``action``: a missing or unknown
    role may do nothing."""
    try:
        return role is not None and allowed(Role(role), action)
    except ValueError:
        return False


def require(role: Role, action: Action) -> None:
    if action not in ALLOWED[role]:
        raise PermissionDeniedError(f"a {role.value} may not {action.value}")
