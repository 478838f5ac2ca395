"""Case keys announced in the library trail, epoch by epoch (docs/FORMAT.md §12.8).

An announcement (``case.create``, ``case.rekey``, or ``case.key`` written by a sync that
brought an epoch to this laptop) names the case's signing key of one epoch (``case_key``),
the epoch (``epoch``) and, from epoch 2 on, a ``proof``: the previous epoch's case signing
key over ``key_message``. Only a holder of epoch E-1 can announce epoch E; a second,
different key for an epoch already announced (a removed member's old key signing a key of
her own) is refused, and the library trail then has a problem, so nothing is purged.
Announcements without an epoch (before this format) are read as before, until a case has
one with an epoch.

A laptop that announced its own epoch E and then took a competing rotation to E
(epochs.decide) announces the winner as a *replacement*: a ``case.key`` with ``replaces``
(the key it announced before) and ``note`` (the winning rotation's signed note, base64). It
is accepted only with the proof of epoch E-1, a note signed by a library user whose role may
change members, naming this case and epoch E, and a key this epoch never had before (no
flipping back); the epochs announced after E on the losing branch are forgotten.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

from encryption import SignatureError, SigningKey, VerifyKey

from .audit import AuditEntry, open_note
from .epoch_notes import EpochNote
from .errors import LibraryError
from .roles import Action, role_may

ANNOUNCEMENTS = ("case.create", "case.rekey", "case.key")


def key_message(case_id: str, epoch: int, case_key: str) -> bytes:
    return f"videofeedback case key v1\n{case_id}\n{epoch}\n{case_key}\n".encode()


def announcement(
    case_id: str, epoch: int, key: SigningKey, previous: SigningKey | None
) -> dict[str, str]:
    """The detail of an announcement of ``key`` as the case's epoch ``epoch``."""
    case_key = str(key.verify_key)
    detail = {"case_key": case_key, "epoch": str(epoch)}
    if previous is not None:
        proof = previous.sign(key_message(case_id, epoch, case_key))
        detail["proof"] = base64.b64encode(proof).decode()
    return detail


@dataclass
class EpochKeys:
    """The announced key of each epoch of each case, as the library trail has them."""

    keys: dict[str, dict[int, str]] = field(default_factory=dict)  # case -> epoch -> key
    new_style: set[str] = field(default_factory=set)  # cases with an epoch-numbered one
    signers: Mapping[str, VerifyKey] = field(default_factory=dict)  # who may sign notes
    roles: Mapping[str, str] = field(default_factory=dict)  # user -> role, as the log has them
    replaced: set[tuple[str, int, str]] = field(default_factory=set)  # never taken again

    def newest(self, case_id: str) -> str | None:
        known = self.keys.get(case_id)
        return known[max(known)] if known else None

    def check(self, entry: AuditEntry) -> str | None:
        """Why the announcement is refused, or None (one without an epoch is left to the
        older rules, until the case has one with an epoch)."""
        case_id, detail = entry.object, entry.detail
        known = self.keys.get(case_id, {})
        if "epoch" not in detail:
            if case_id in self.new_style:
                return (
                    f"{entry.user} announced a key of case {case_id} without its epoch after "
                    "announcements with epochs: forged (an old key announced again)"
                )
            return None
        try:
            epoch = int(detail["epoch"])
        except ValueError:
            return f"a key announcement of case {case_id} with a damaged epoch"
        key = detail.get("case_key", "")
        if epoch in known:
            if known[epoch] == key:
                return None
            if "replaces" in detail:
                return self._check_replacement(entry, epoch, key)
            return (
                f"{entry.user} announced a second, different key for epoch {epoch} of case "
                f"{case_id}: one of them is forged (a removed member's old key can sign a new "
                "one); nothing is purged until an administrator sorts it out"
            )
        if epoch == 1:
            return None if not known else f"a first key of case {case_id} announced again"
        return self._check_proof(entry, epoch, key)

    def _check_proof(self, entry: AuditEntry, epoch: int, key: str) -> str | None:
        case_id, detail = entry.object, entry.detail
        known = self.keys.get(case_id, {})
        if epoch - 1 not in known:
            return f"epoch {epoch} of case {case_id} announced before epoch {epoch - 1}"
        try:
            proof = base64.b64decode(detail.get("proof", ""), validate=True)
            VerifyKey.parse(known[epoch - 1]).verify(key_message(case_id, epoch, key), proof)
        except (SignatureError, ValueError):
            return (
                f"{entry.user} announced epoch {epoch} of case {case_id} without the proof of "
                f"epoch {epoch - 1}'s key: forged"
            )
        return None

    def _check_replacement(self, entry: AuditEntry, epoch: int, key: str) -> str | None:
        """A laptop that took a competing rotation to ``epoch`` announces the winner."""
        case_id, detail = entry.object, entry.detail
        forged = f"{entry.user} replaced the key of epoch {epoch} of case {case_id}"
        if epoch < 2 or detail["replaces"] != self.keys[case_id][epoch]:
            return f"{forged}, naming a key it did not have: forged"
        if (case_id, epoch, key) in self.replaced:
            return f"{forged} with a key it replaced before: forged"
        try:
            text, user = open_note(
                base64.b64decode(detail.get("note", ""), validate=True), self.signers
            )
            note = EpochNote.parse(text, user)
        except (LibraryError, ValueError, IndexError):
            return f"{forged} without a signed note of the winning rotation: forged"
        if (note.case, note.epoch) != (case_id, epoch):
            return f"{forged} with the note of another case or epoch: forged"
        if not role_may(self.roles.get(note.user), Action.EDIT_CASE):
            return f"{forged} with a rotation by {note.user}, who may not change members"
        return self._check_proof(entry, epoch, key)

    def apply(self, entry: AuditEntry) -> None:
        case_id, detail = entry.object, entry.detail
        known = self.keys.setdefault(case_id, {})
        if "epoch" in detail and "replaces" in detail:  # checked: the winner of its epoch
            epoch = int(detail["epoch"])
            self.replaced.add((case_id, epoch, known[epoch]))
            for later in [e for e in known if e >= epoch]:
                del known[later]  # the losing branch's later epochs go with it
            known[epoch] = detail["case_key"]
        elif "epoch" in detail:
            self.new_style.add(case_id)
            known.setdefault(int(detail["epoch"]), detail["case_key"])
        elif entry.action == "case.create" or not known:
            known[1] = detail["case_key"]
        else:
            known[max(known) + 1] = detail["case_key"]
