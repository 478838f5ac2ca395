"""Which synced changes count: each batch judged by its signer's membership, each op by the
signer's role and, for owned records, by whose record it is (pure: no I/O; FORMAT §12.3).

A batch's author is its signer (``signed_batches``); for an unsigned batch from before, the
user who signed the head that brought it, never the name the batch carries. A batch counts
if its author is a member by the signed trail, or was removed and the removal had seen the
batch (its ``seen`` detail reaches it); a never-member's counts nowhere. An op counts if the
author's role (signed roster) may change that kind of record; comments, sign-offs and a
supervisor's own coding only by their owner, ordered by causality (``_owners``). The rules depend
only on the set of batches and the signed trail, so every laptop keeps the same ops.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from videofeedback.library.merged_trail import parse_seen
from videofeedback.library.roles import Action, Role, allowed

from .merge import Op, RecordKey

KIND_ACTIONS: dict[str, frozenset[Action]] = {
    "members": frozenset({Action.EDIT_CASE}),
    "participants": frozenset({Action.EDIT_CASE}),
    "goals": frozenset({Action.EDIT_CASE}),
    "goal_scores": frozenset({Action.EDIT_CASE}),
    "consent": frozenset({Action.EDIT_CASE}),
    "meta": frozenset({Action.EDIT_CASE}),
    "sessions": frozenset({Action.CREATE_SESSION, Action.RUN_REVIEW}),
    "parent_words": frozenset({Action.RUN_REVIEW}),
    "media": frozenset({Action.RECORD, Action.BUILD_REEL, Action.ANNOTATE}),
    "annotation": frozenset({Action.ANNOTATE}),
    "moment": frozenset({Action.ANNOTATE}),
    "still": frozenset({Action.ANNOTATE}),
    "plan": frozenset({Action.ANNOTATE}),  # a recording's redaction plan (FORMAT §12.7)
    "comments": frozenset({Action.COMMENT}),
    "signoffs": frozenset({Action.SIGN_OFF}),
}
META_ACTIONS = {"codebook": frozenset({Action.EDIT_CASE, Action.ANNOTATE})}
OWNER_FIELDS = {"comments": "author", "signoffs": "signed_by", "moment": "coder"}


@dataclass(frozen=True)
class Batch:
    device: str
    number: int
    author: str  # its signer; an unsigned (older) batch: the signer of the head that brought it
    ops: tuple[Op, ...]
    seen: Mapping[str, tuple[int, int]] | None = None  # what its writer had seen (signed only)


@dataclass
class Judge:
    roles: Mapping[str, str]  # user -> role, from the signed roster
    members: set[str] | None  # the signed trail's members (None: a trail before format 2)
    removals: Mapping[str, list[str]] = field(default_factory=dict)  # user -> removals' seen
    refused: list[str] = field(default_factory=list)

    def admit(self, batches: Iterable[Batch]) -> list[Op]:
        taken = [b for b in batches if self._member(b)]
        ops = [o for b in taken for o in b.ops]
        owners = _owners(taken)
        for record, names in sorted(owners.items()):
            if len(names) != 1:
                self.refused.append(
                    f"{record[0]} {record[1]} is claimed by {', '.join(sorted(names)) or '?'} "
                    "without any of them having seen the other's claim: nobody owns it"
                )
        creators = _authors(ops)
        kept = [o for o in ops if self._may(o, owners, creators)]
        if len(kept) < len(ops):
            self.refused.append(f"{len(ops) - len(kept)} change(s) outside their author's role")
        return kept

    def _member(self, batch: Batch) -> bool:
        if self.members is None or batch.author in self.members:
            return True
        for seen in self.removals.get(batch.author, []):
            if batch.number <= parse_seen(seen).get(batch.device, (0, 0))[1]:
                return True
        self.refused.append(
            f"{batch.author} is not a member: their change batch {batch.number} of device "
            f"{batch.device[:8]} was not merged"
        )
        return False

    def _may(
        self, op: Op, owners: Mapping[RecordKey, set[str]], creators: Mapping[RecordKey, set[str]]
    ) -> bool:
        try:
            role = Role(self.roles.get(op.author, ""))
        except ValueError:
            return False
        kind, key = op.record
        needed = META_ACTIONS.get(key, KIND_ACTIONS["meta"]) if kind == "meta" else None
        needed = needed or KIND_ACTIONS.get(kind, frozenset())
        if kind in ("comments", "signoffs") and owners.get(op.record) != {op.author}:
            return False  # someone else's comment or sign-off, or one in another's name
        if any(allowed(role, a) for a in needed):
            return True
        if role == Role.SUPERVISOR and kind in ("moment", "still", "annotation"):
            return self._own_coding(op, owners, creators)
        return False

    @staticmethod
    def _own_coding(
        op: Op, owners: Mapping[RecordKey, set[str]], creators: Mapping[RecordKey, set[str]]
    ) -> bool:
        """A supervisor's own coding: moments she codes, headers only she wrote."""
        if op.record[0] == "moment":
            return owners.get(op.record) == {op.author}
        return creators.get(op.record) == {op.author}


Claim = tuple[Op, Batch]


def _owners(batches: Iterable[Batch]) -> dict[RecordKey, set[str]]:
    """A record's owner (a comment's author, a moment's coder): the author of the first op
    that names its own author in the owner field (a name set by anyone else claims nothing).
    First by causality among signed batches (a claim whose writer had seen another claim
    comes after it), whatever Lamport clock either claims; claims none of whose writers had
    seen the others' leave the record disputed (several names: nobody owns it). Only when no
    signed batch claims the record, the claimed clock (op order) decides (older batches)."""
    claims: dict[RecordKey, list[Claim]] = {}
    for batch in batches:
        for op in batch.ops:
            if OWNER_FIELDS.get(op.record[0]) == op.field and op.value == op.author:
                claims.setdefault(op.record, []).append((op, batch))
    return {record: _first_claimants(found) for record, found in claims.items()}


def _first_claimants(claims: list[Claim]) -> set[str]:
    signed = [c for c in claims if c[1].seen is not None]
    if not signed:
        return {min(claims, key=lambda c: c[0].order)[0].author}
    return {c[0].author for c in signed if not any(_before(o, c) for o in signed if o is not c)}


def _before(earlier: Claim, later: Claim) -> bool:
    """Whether ``earlier``'s batch is in the causal past of ``later``'s (signed ``seen``)."""
    (op_a, a), (op_b, b) = earlier, later
    if a.device == b.device:
        return (a.number, op_a.order) < (b.number, op_b.order)
    return (b.seen or {}).get(a.device, (0, 0))[1] >= a.number


def _authors(ops: Iterable[Op]) -> dict[RecordKey, set[str]]:
    found: dict[RecordKey, set[str]] = {}
    for op in ops:
        found.setdefault(op.record, set()).add(op.author)
    return found
