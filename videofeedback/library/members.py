"""``case.members``: who may open a case. Adding or removing a member rewraps the case key
(removing one starts a new key epoch the removed member never had)."""

from __future__ import annotations

from collections.abc import Iterable

from encryption import Recipient

from .audit import now_iso
from .case_part import CasePart
from .errors import LibraryError, NotFoundError, PermissionDeniedError
from .keyring import write_key_file
from .records import Member, fetch
from .roles import Action, Role


class Members(CasePart):
    def all(self) -> list[Member]:
        rows = fetch(self.case.db, "SELECT user, role FROM members ORDER BY user")
        return [Member(row["user"], row["role"]) for row in rows]

    def names(self) -> list[str]:
        """The members as the signed trail has them (the database's table is a cache any
        member could edit: keys are never wrapped to a name only the database holds)."""
        signed = self.case.history().members
        if signed is not None:
            return sorted(signed)
        return [m.user for m in self.all()]  # a trail begun before format 2

    def write_key(self, members: Iterable[str]) -> None:
        case = self.case
        library = case.session.library
        # a member removed from the library keeps nothing new (docs/FORMAT.md §12.9)
        recipients: list[Recipient] = [
            library.recipient_of(m) for m in members if not library.is_removed(m)
        ]
        recipients.append(library.recovery_recipient())
        write_key_file(case.folder, case.identity, recipients)

    def add(self, user: str) -> None:
        case = self.case
        case.require(Action.EDIT_CASE)
        role = Role(case.session.library.user_record(user).role)
        case.session.library.recipient_of(user)  # refused if removed from the library
        if role == Role.ADMIN:
            raise PermissionDeniedError("an administrator cannot be a case member")
        case.db.execute(
            "INSERT OR REPLACE INTO members VALUES (?, ?, ?, ?)",
            (user, role.value, case.session.name, now_iso()),
        )
        case.audit("member.add", user)
        case.save()  # the member list first, then the key: a crash in between grants nothing
        self.write_key(self.names())

    def remove(self, user: str) -> None:
        case = self.case
        case.require(Action.EDIT_CASE)
        # a removal starts a key epoch, after which the closure (signed with the closing
        # epoch's case key) would never verify again: the case would outlive its retention
        if case.closed:
            raise LibraryError(
                f"case {case.id} is closed; its members stay as they were until it is purged"
            )
        if user not in self.names():
            raise NotFoundError(f"{user} is not a member of case {case.id}")
        case.db.execute("DELETE FROM members WHERE user = ?", (user,))
        # a new key epoch, and the key first: access ends before anything else, and whatever
        # is written from now on is encrypted to the new epoch, which the removed user never had
        case.start_key_epoch(removes=user)
        self.write_key([m for m in self.names() if m != user])
        case.audit("member.remove", user)
        # the library trail learns the new epoch's signing key: a closure signed with an
        # older one (which the removed member may have kept) no longer leads to a purge
        case.announce_key("case.rekey")
        case.save()
