"""Who was allowed to do what at each point of a log, replayed from the signed entries.

``CaseHistory`` follows membership (case.create names the first members, member.add and
member.remove change them) and each member's role (from the signed roster; roles do not
change), and keeps the consent and closure the signed entries record. ``LibraryHistory``
follows roles from library.create and user.add, and the case keys announced by case.create.
Both are the ``policy`` of ``AuditLog.verify`` (docs/FORMAT.md, sections 9 and 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .audit import AuditEntry
from .key_announcements import ANNOUNCEMENTS, EpochKeys
from .roles import Action, Role, allowed

CASE_ACTIONS: dict[str, Action] = {
    "case.create": Action.CREATE_CASE,
    "member.add": Action.EDIT_CASE,
    "member.remove": Action.EDIT_CASE,
    "participant.add": Action.EDIT_CASE,
    "consent.give": Action.EDIT_CASE,
    "consent.withdraw": Action.EDIT_CASE,
    "goal.add": Action.EDIT_CASE,
    "goal.score": Action.EDIT_CASE,
    "case.close": Action.EDIT_CASE,
    "session.create": Action.CREATE_SESSION,
    "comment.add": Action.COMMENT,
    "cycle.signoff": Action.SIGN_OFF,
    "redact.approve": Action.ANNOTATE,
}
LIBRARY_ACTIONS: dict[str, Action] = {
    "user.add": Action.MANAGE_USERS,
    "user.remove": Action.MANAGE_USERS,
    "case.purge": Action.PURGE,
    "case.create": Action.CREATE_CASE,
    "case.rekey": Action.EDIT_CASE,
    "case.key": Action.VIEW,  # a sync brought an epoch: any member's laptop announces it
    "case.reopen": Action.VIEW,  # a sync found the closure refused: its record is dropped
    "library.upgrade": Action.MANAGE_USERS,
}


def _role(text: str | None) -> Role | None:
    try:
        return Role(text) if text else None
    except ValueError:
        return None


def _may(role: Role | None, action: Action | None) -> bool:
    return role is not None and (action is None or allowed(role, action))


@dataclass
class CaseHistory:
    """The policy of a case log; afterwards, the consent and closure it recorded."""

    roles: dict[str, str]  # user -> role, from the signed roster
    members: set[str] | None = None  # None: not known (a log begun before format 2)
    consent: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    closures: list[AuditEntry] = field(default_factory=list)
    reels: dict[str, str] = field(default_factory=dict)  # reel media id -> its session
    # reel media id -> the purpose its signed reel.build says it was redacted for ("" none)
    reel_purposes: dict[str, str] = field(default_factory=dict)
    reviews: dict[str, str] = field(default_factory=dict)  # review session -> the reel shown
    removals: dict[str, list[str]] = field(default_factory=dict)  # user -> each removal's seen
    comments: dict[str, str] = field(default_factory=dict)  # comment id -> its signed author
    # media id -> (approver, plan digest or its first 16 hex digits) of each signed approval
    approvals: dict[str, set[tuple[str, str]]] = field(default_factory=dict)

    def __call__(self, entry: AuditEntry, authenticated: bool) -> str | None:
        refusal = self._check(entry) if authenticated else None
        if refusal is None:
            self._apply(entry)
        return refusal

    def _check(self, entry: AuditEntry) -> str | None:
        role = _role(self.roles.get(entry.user))
        action = CASE_ACTIONS.get(entry.action)
        if entry.action == "case.create":
            if entry.seq != 1:
                return "a case.create in the middle of a case's trail"
            if "members" in entry.detail and entry.user not in entry.detail["members"].split(","):
                return f"{entry.user} created the case without being one of its members"
        elif self.members is not None and entry.user not in self.members:
            return f"{entry.user} was not a member of the case when this was recorded"
        if not _may(role, action):
            what = action.value if action else entry.action
            return f"{entry.user} ({role.value if role else 'no role'}) may not {what}"
        return None

    def _apply(self, entry: AuditEntry) -> None:
        if entry.action == "case.create" and "members" in entry.detail:
            self.members = set(entry.detail["members"].split(","))
        elif entry.action == "member.add" and self.members is not None:
            self.members.add(entry.object)
        elif entry.action == "member.remove" and self.members is not None:
            self.members.discard(entry.object)
            self.removals.setdefault(entry.object, []).append(entry.detail.get("seen", ""))
        elif entry.action == "comment.add":
            self.comments[entry.object] = entry.user
        elif entry.action in ("consent.give", "consent.withdraw"):
            status = "given" if entry.action == "consent.give" else "withdrawn"
            purpose = entry.detail.get("purpose", "")
            self.consent[(entry.object, purpose)] = (status, entry.time)
        elif entry.action == "case.close":
            self.closures.append(entry)
        elif entry.action == "redact.approve":
            digest = entry.detail.get("plan") or entry.detail.get("digest", "")
            self.approvals.setdefault(entry.object, set()).add((entry.user, digest))
        elif entry.action == "reel.build":
            self.reel_purposes[entry.object] = entry.detail.get("purpose", "")
        elif entry.action == "media.reel" and "session" in entry.detail:
            self.reels[entry.object] = entry.detail["session"]
        elif entry.action == "session.create" and entry.detail.get("reel"):
            self.reviews[entry.object] = entry.detail["reel"]


@dataclass
class LibraryHistory:
    """The policy of the library log; afterwards, the case keys announced in it."""

    roles: dict[str, str] = field(default_factory=dict)  # as the log has built them so far
    case_keys: dict[str, str] = field(default_factory=dict)  # case id -> vfsign1… of its key
    closures: dict[str, AuditEntry] = field(default_factory=dict)
    keyholders: dict[str, set[str]] = field(default_factory=dict)  # who announced case keys
    epochs: EpochKeys = field(default_factory=EpochKeys)  # each epoch's announced key

    def __post_init__(self) -> None:
        self.epochs.roles = self.roles  # who may sign the note of a replaced epoch

    def __call__(self, entry: AuditEntry, authenticated: bool) -> str | None:
        if not authenticated:  # before the upgrade: nobody's signature, so no case key or
            if entry.action in ("library.create", "user.add"):  # closure counts from it
                self._apply(entry)
            return None
        refusal = self._check(entry)
        if refusal is None:
            self._apply(entry)
        return refusal

    def _check(self, entry: AuditEntry) -> str | None:
        if entry.action == "library.create":
            return None if entry.seq == 1 else "a second library.create"
        role = _role(self.roles.get(entry.user))
        if role is None:
            return f"{entry.user} was not a user of the library when this was recorded"
        action = LIBRARY_ACTIONS.get(entry.action)
        if not _may(role, action):
            what = action.value if action else entry.action
            return f"{entry.user} ({role.value}) may not {what}"
        if entry.action in ANNOUNCEMENTS and "case_key" in entry.detail:
            return self._check_announcement(entry)
        return None

    def _check_announcement(self, entry: AuditEntry) -> str | None:
        if "epoch" in entry.detail:  # docs/FORMAT.md §12.8: epoch by epoch, proven
            return self.epochs.check(entry)
        if entry.action == "case.key":
            return f"a key announcement of case {entry.object} without its epoch"
        if entry.action == "case.create" and entry.object in self.case_keys:
            return f"case {entry.object} was already created: a second announcement is forged"
        if entry.action == "case.rekey" and entry.user not in self.keyholders.get(
            entry.object, set()
        ):
            return (
                f"{entry.user} announced a new key of case {entry.object} without having "
                "announced one before (only its creator, or who rotated its key, may)"
            )
        return self.epochs.check(entry)  # none without an epoch after one with

    def _apply(self, entry: AuditEntry) -> None:
        if entry.action == "library.create":
            self.roles[entry.user] = Role.ADMIN.value
        elif entry.action == "user.add":
            self.roles[entry.object] = entry.detail.get("role", "")
        elif entry.action == "user.remove":
            self.roles.pop(entry.object, None)  # their later entries are "not a user"
        elif entry.action in ANNOUNCEMENTS and "case_key" in entry.detail:
            # a member's removal announces the new epoch's key: closures must be signed with
            # the newest, which a removed member never had
            self.epochs.apply(entry)
            self.case_keys[entry.object] = self.epochs.newest(entry.object) or ""
            self.keyholders.setdefault(entry.object, set()).add(entry.user)
        elif entry.action == "case.close":
            self.closures[entry.object] = entry
        elif entry.action == "case.reopen":  # the case's replay refuses the closing entry
            self.closures.pop(entry.object, None)
