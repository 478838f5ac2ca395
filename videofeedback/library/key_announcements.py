"""Case keys announced in the library trail, epoch by epoch (docs/FORMAT.md §12.8).

An announcement (``case.create``, ``case.rekey``, or ``case.key`` written by a sync that
brought an epoch to this laptop) names the case's signing key of one epoch (``case_key``),
the epoch (``epoch``) and, from epoch 2 on, a ``proof``: the previous epoch's case signing
key over ``key_message``. Only a holder of epoch E-1 can announce epoch E; a second,
different key for an epoch already announced (a removed member's old key signing a key of
her own) is refused, and the library trail then has a problem, so nothing is purged.
Announcements without an epoch (before this format) are read as before, until a case has
one with an epoch.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from encryption import SignatureError, SigningKey, VerifyKey

from .audit import AuditEntry

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
            return (
                f"{entry.user} announced a second, different key for epoch {epoch} of case "
                f"{case_id}: one of them is forged (a removed member's old key can sign a new "
                "one); nothing is purged until an administrator sorts it out"
            )
        if epoch == 1:
            return None if not known else f"a first key of case {case_id} announced again"
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

    def apply(self, entry: AuditEntry) -> None:
        case_id, detail = entry.object, entry.detail
        known = self.keys.setdefault(case_id, {})
        if "epoch" in detail:
            self.new_style.add(case_id)
            known.setdefault(int(detail["epoch"]), detail["case_key"])
        elif entry.action == "case.create" or not known:
            known[1] = detail["case_key"]
        else:
            known[max(known) + 1] = detail["case_key"]
