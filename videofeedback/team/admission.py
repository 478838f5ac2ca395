"""Which synced changes count: each batch judged by its signer's membership, each op by the
signer's role and, for owned records, by whose record it is (pure: no I/O; FORMAT §12.3).

A batch's author is the user who signed the head that brought it, never the name the batch
carries. A batch counts if its author is a member by the signed trail, or was removed and the
removal had seen the batch (its ``seen`` detail reaches it); a never-member's counts nowhere.
An op counts if the author's role (signed roster) may change that kind of record; comments,
sign-offs and a supervisor's own coding only by the user the record names. The rules depend
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
    author: str  # the signer of the head that brought it (this laptop's own: its writer)
    ops: tuple[Op, ...]


@dataclass
class Judge:
    roles: Mapping[str, str]  # user -> role, from the signed roster
    members: set[str] | None  # the signed trail's members (None: a trail before format 2)
    removals: Mapping[str, list[str]] = field(default_factory=dict)  # user -> removals' seen
    refused: list[str] = field(default_factory=list)

    def admit(self, batches: Iterable[Batch]) -> list[Op]:
        taken = [b for b in batches if self._member(b)]
        ops = [o for b in taken for o in b.ops]
        owners = _owners(ops)
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


def _owners(ops: Iterable[Op]) -> dict[RecordKey, set[str]]:
    """A record's owner (a comment's author, a moment's coder): the author of the first op
    (by op order) that names its own author in the owner field; a name set by anyone else
    claims nothing."""
    first: dict[RecordKey, Op] = {}
    for op in ops:
        if OWNER_FIELDS.get(op.record[0]) == op.field and op.value == op.author:
            if op.record not in first or op.order < first[op.record].order:
                first[op.record] = op
    return {record: {op.author} for record, op in first.items()}


def _authors(ops: Iterable[Op]) -> dict[RecordKey, set[str]]:
    found: dict[RecordKey, set[str]] = {}
    for op in ops:
        found.setdefault(op.record, set()).add(op.author)
    return found
