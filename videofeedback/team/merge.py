"""The deterministic merge of a case's changes from several laptops (pure: no I/O).

A case's synced state is a set of *records* (kind, key), each a set of *fields*. Every
change is an ``Op`` setting one field; its ``prev`` names the ops of that field it
replaced. Per field, the *frontier* is the ops no op of that same field replaced (a
prev naming another field's op is ignored): one op gives the value;
several with different values are a ``Conflict`` (all kept; the provisional winner is
the greatest (Lamport, device, index)). The result depends only on the set of ops, never on
the order they arrived in (docs/FORMAT.md §12.3, docs/ARCHITECTURE.md "Team sync").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import SyncError

RecordKey = tuple[str, str]
Doc = dict[RecordKey, dict[str, Any]]
FieldKey = tuple[RecordKey, str]
DELETED = "_deleted"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def op_id(lamport: int, device: str, index: int) -> str:
    return f"{lamport:012d}.{device}.{index}"


@dataclass(frozen=True)
class Op:
    """One field of one record set to ``value`` by ``author`` on ``device``."""

    id: str  # LAMPORT.DEVICE.INDEX
    record: RecordKey
    field: str
    value: Any
    prev: tuple[str, ...] = ()
    author: str = ""

    @property
    def order(self) -> tuple[int, str, int]:
        lamport, device, index = self.id.split(".")
        return int(lamport), device, int(index)

    @property
    def lamport(self) -> int:
        return self.order[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rec": list(self.record),
            "field": self.field,
            "value": self.value,
            "prev": list(self.prev),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], author: str) -> Op:
        kind, key = data["rec"]
        prev = tuple(str(p) for p in data.get("prev", ()))
        return cls(
            str(data["id"]), (str(kind), str(key)), str(data["field"]), data["value"], prev, author
        )


@dataclass(frozen=True)
class Conflict:
    """Concurrent values of one field: ``ops[0]`` stands until a member chooses."""

    record: RecordKey
    field: str
    ops: tuple[Op, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "record": list(self.record),
            "field": self.field,
            "versions": [{"op": o.id, "author": o.author, "value": o.value} for o in self.ops],
        }


@dataclass
class Merged:
    """The state the ops give: live records, every record's fields, frontiers, conflicts."""

    doc: Doc = field(default_factory=dict)  # live records (no deleted ones, no _deleted field)
    fields: Doc = field(default_factory=dict)  # every record, deleted ones too
    frontier: dict[FieldKey, tuple[Op, ...]] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    lamport: int = 0


def merge(ops: Iterable[Op]) -> Merged:
    by_field: dict[FieldKey, dict[str, Op]] = {}
    # an op's prev replaces only ops of its own (record, field): an op a member may write
    # (her comment) never settles a field she may not change (FORMAT §12.3)
    replaced: dict[FieldKey, set[str]] = {}
    lamport = 0
    for op in ops:
        by_field.setdefault((op.record, op.field), {})[op.id] = op
        replaced.setdefault((op.record, op.field), set()).update(op.prev)
        lamport = max(lamport, op.lamport)
    result = Merged(lamport=lamport)
    for key in sorted(by_field):
        gone = replaced.get(key, set())
        front = sorted(
            (o for o in by_field[key].values() if o.id not in gone),
            key=lambda o: o.order,
            reverse=True,
        )
        if not front:  # cannot happen (Lamport grows along prev), but never lose a field
            front = sorted(by_field[key].values(), key=lambda o: o.order, reverse=True)[:1]
        record, name = key
        result.frontier[key] = tuple(front)
        result.fields.setdefault(record, {})[name] = front[0].value
        if len({canonical(o.value) for o in front}) > 1:
            result.conflicts.append(Conflict(record, name, tuple(front)))
    for record, values in result.fields.items():
        if values.get(DELETED) is not True:
            result.doc[record] = {k: v for k, v in values.items() if k != DELETED}
    return result


def _set(
    base: Merged, record: RecordKey, name: str, value: Any, made: list[tuple[FieldKey, Any]]
) -> None:
    current = base.fields.get(record, {})
    if name not in current or canonical(current[name]) != canonical(value):
        made.append(((record, name), value))


def diff(base: Merged, current: Doc, device: str, author: str, lamport: int) -> list[Op]:
    """The ops that take ``base`` to ``current`` (one Lamport value, ``lamport``)."""
    made: list[tuple[FieldKey, Any]] = []
    for record in sorted(current):
        if record not in base.doc and DELETED in base.fields.get(record, {}):
            _set(base, record, DELETED, False, made)
        for name in sorted(current[record]):
            _set(base, record, name, current[record][name], made)
    for record in sorted(base.doc):
        if record not in current:
            made.append(((record, DELETED), True))
    return [
        Op(
            op_id(lamport, device, index),
            record,
            name,
            json.loads(canonical(value)),
            tuple(o.id for o in base.frontier.get((record, name), ())),
            author,
        )
        for index, ((record, name), value) in enumerate(made)
    ]


def resolve(base: Merged, conflict: Conflict, choice: str, device: str, author: str) -> Op:
    """The op that settles ``conflict`` on the version made by op ``choice``: it replaces
    every version of the frontier, so it syncs like any change."""
    chosen = next((o for o in conflict.ops if o.id == choice), None)
    if chosen is None:
        known = ", ".join(o.id for o in conflict.ops)
        raise SyncError(f"{choice!r} is not one of the versions ({known}); choose one of those")
    front = base.frontier.get((conflict.record, conflict.field), conflict.ops)
    return Op(
        op_id(base.lamport + 1, device, 0),
        conflict.record,
        conflict.field,
        chosen.value,
        tuple(o.id for o in front),
        author,
    )
