"""Which key epochs a laptop takes from the store (docs/FORMAT.md §12.6; pure: no I/O).

Every device offers its chain of epoch parts with the signed note of each rotation. Epoch by
epoch, among the parts the offers that agree so far hold (competing rotations to the same
epoch number are concurrent: neither had seen the other), the valid ones compete: a rotation
whose signer another candidate removes loses; otherwise the smaller note digest wins. Every
laptop that sees the same offers takes the same chain; the parts that lost are kept as
``others`` (to read what was written with them, never to write).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from videofeedback.library.epoch_notes import EpochNote
from videofeedback.library.keyring import CaseKeys
from videofeedback.library.merged_trail import parse_seen
from videofeedback.library.roles import Action, role_may

Others = tuple[tuple[int, bytes], ...]


@dataclass(frozen=True)
class Offer:
    """A chain of epoch parts some device holds, and the note of each epoch (None: none
    that opens and verifies)."""

    parts: tuple[bytes, ...]
    notes: Mapping[int, EpochNote | None] = field(default_factory=dict)
    others: Others = ()


@dataclass(frozen=True)
class Rules:
    """Who may rotate, as far as this laptop knows (signed roster and merged trail)."""

    roles: Mapping[str, str]
    members: set[str] | None
    removals: Mapping[str, list[str]] = field(default_factory=dict)  # user -> removals' seen

    def why_not(self, note: EpochNote | None, keys: CaseKeys) -> str | None:
        if note is None:
            return "that key epoch has no signed note"
        if not note.matches(keys):
            return f"the note {note.user} signed names another key"
        if not role_may(self.roles.get(note.user), Action.EDIT_CASE):
            return f"{note.user} may not change the case's members"
        if self.members is None:
            return None
        removals = self.removals.get(note.user, [])
        if any(parse_seen(r).get(note.device, (0, 0))[0] <= note.entries for r in removals):
            return f"{note.user} was removed from the case before that rotation"
        if note.user not in self.members and not removals:
            return f"{note.user} is not a member of the case"
        return None


@dataclass(frozen=True)
class Decision:
    parts: tuple[bytes, ...]
    notes: dict[int, EpochNote]  # the winning note of each epoch that had one to check
    others: Others
    refused: str | None = None  # why a newer epoch was refused (nothing is taken then)
    dropped: list[str] = field(default_factory=list)  # rotations not taken, in words


def decide(case_id: str, kek: bytes, ours: Offer, offers: list[Offer], rules: Rules) -> Decision:
    chains = [ours, *(o for o in offers if o.parts[:1] == ours.parts[:1])]
    prefix, notes, dropped = list(ours.parts[:1]), {}, []
    for epoch in range(2, max(len(c.parts) for c in chains) + 1):
        candidates: dict[bytes, EpochNote | None] = {}
        for chain in chains:
            if len(chain.parts) >= epoch and list(chain.parts[: epoch - 1]) == prefix:
                candidates.setdefault(chain.parts[epoch - 1], chain.notes.get(epoch))
        if not candidates:
            break
        mine = ours.parts[epoch - 1] if len(ours.parts) >= epoch else None
        if mine is not None and list(candidates) == [mine]:  # held and unopposed
            prefix.append(mine)
            continue
        valid: dict[bytes, EpochNote] = {}
        for part, note in candidates.items():
            why = rules.why_not(note, CaseKeys(case_id, kek, (*prefix, part)))
            if why is None and note is not None:
                valid[part] = note
            else:  # read with (what it wrote is judged like anything else), never taken
                dropped.append(f"key epoch {epoch}: {why}; not taken")
        if not valid and mine in candidates:  # this laptop's own rotation stays, unopposed
            prefix.append(ours.parts[epoch - 1])
            continue
        if not valid:
            return Decision(ours.parts, {}, ours.others, dropped[0], dropped)
        pick = _winner(valid, _removals_along(chains, prefix, epoch))
        prefix.append(pick)
        notes[epoch] = valid[pick]
    kept = tuple(prefix)
    lost = {
        (e, p)
        for chain in chains
        for e, p in [*enumerate(chain.parts, 1), *chain.others]
        if e > len(kept) or kept[e - 1] != p
    }
    return Decision(kept, notes, tuple(sorted(lost)), None, dropped)


def _removals_along(chains: list[Offer], prefix: list[bytes], epoch: int) -> dict[bytes, set[str]]:
    """Per candidate part of ``epoch``: whom the rotations on its branch (it and the later
    epochs built on it) remove."""
    found: dict[bytes, set[str]] = {}
    for chain in chains:
        if len(chain.parts) >= epoch and list(chain.parts[: epoch - 1]) == prefix:
            names = found.setdefault(chain.parts[epoch - 1], set())
            names.update(n.removes for e, n in chain.notes.items() if e >= epoch and n)
    return found


def _winner(valid: dict[bytes, EpochNote], removals: dict[bytes, set[str]]) -> bytes:
    """A rotation whose signer another branch removes loses (a removal made at a later
    epoch on top of a concurrent rotation counts too); then the smaller note digest."""
    kept = {
        part: note
        for part, note in valid.items()
        if not any(note.user in removals.get(other, set()) for other in valid if other != part)
    }
    kept = kept or valid
    return min(kept, key=lambda p: kept[p].digest)
