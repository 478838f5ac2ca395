"""A case's trail across laptops: its own chain and the chains pulled from other devices.

Each device's chain stays as it was written (docs/FORMAT.md §9); pulled chains are kept as
ciphertext in ``cases/ID/peers/DEVICE/``. The merged trail is the union of the chains
(entries identical in bytes counted once: copies of one folder share a prefix) in a causal
order: an entry comes after its chain's parent and after everything its author had seen
(its signed ``seen`` detail names how far each device's chain and change batches reached
on the author's laptop); concurrent entries by (time, SHA-256 of the ciphertext). A claimed
clock therefore orders only entries whose authors had not seen each other's
(docs/FORMAT.md §12.3).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from encryption import EncryptionError, Identity, SignatureError, VerifyKey, read_encrypted

from .audit import AuditEntry, AuditLog, Policy, Problem
from .history import CaseHistory
from .roles import Action, role_may

PEERS = "peers"
OWN = ""  # the laptop's own chain, before its device id is known


@dataclass(frozen=True)
class Node:
    digest: str  # SHA-256 hex of the ciphertext
    parent: str | None
    path: Path
    places: tuple[tuple[str, int], ...] = ()  # (device, number) in every chain that holds it


@dataclass
class Merged:
    """The merged order, and each entry's causal past as a vector (device -> number)."""

    order: list[tuple[AuditEntry | None, Node]]
    clocks: dict[str, dict[str, int]] = field(default_factory=dict)

    def before(self, earlier: Node, later: Node) -> bool:
        """Whether ``earlier`` is in the causal past of ``later`` (or is it)."""
        clock = self.clocks.get(later.digest, {})
        return any(clock.get(device, 0) >= number for device, number in earlier.places)


def peer_folders(case_folder: Path) -> list[Path]:
    peers = case_folder / PEERS
    return sorted(p for p in peers.iterdir() if p.is_dir()) if peers.exists() else []


def chain_logs(case_folder: Path, case_id: str) -> list[AuditLog]:
    """The laptop's own chain first, then each pulled device's."""
    folders = [case_folder / "audit", *peer_folders(case_folder)]
    return [AuditLog(folder, case_id, []) for folder in folders]


def chain_sizes(case_folder: Path, case_id: str) -> tuple[int, ...]:
    """How many entries each chain holds (a listing: to notice that one grew)."""
    return tuple(len(log._entry_files()) for log in chain_logs(case_folder, case_id))  # noqa: SLF001


def _count(folder: Path) -> int:
    if not folder.exists():
        return 0
    return sum(1 for p in folder.iterdir() if p.name.endswith(".age") and p.name[0] != ".")


def is_synced(case_folder: Path) -> bool:
    return (case_folder / PEERS).exists() or (case_folder / "sync" / "batches").exists()


def seen_vector(case_folder: Path, case_id: str, own_device: str) -> str:
    """What this laptop holds of every device's chain and change batches, as an entry's
    ``seen`` detail: ``DEVICE:ENTRIES:BATCHES`` joined by ``;`` (sorted)."""
    logs = chain_logs(case_folder, case_id)
    devices = [own_device, *(log.folder.name for log in logs[1:])]
    batches = case_folder / "sync" / "batches"
    if batches.exists():
        devices.extend(p.name for p in batches.iterdir() if p.is_dir())
    sizes = {own_device: len(logs[0]._entry_files())}  # noqa: SLF001
    sizes.update({log.folder.name: len(log._entry_files()) for log in logs[1:]})  # noqa: SLF001
    return ";".join(f"{d}:{sizes.get(d, 0)}:{_count(batches / d)}" for d in sorted(set(devices)))


def parse_seen(text: str) -> dict[str, tuple[int, int]]:
    """``seen_vector``'s text back (malformed parts are left out)."""
    found: dict[str, tuple[int, int]] = {}
    for part in text.split(";") if text else []:
        bits = part.split(":")
        if len(bits) == 3 and bits[1].isdigit() and bits[2].isdigit():
            found[bits[0]] = (int(bits[1]), int(bits[2]))
    return found


def _nodes(
    chains: Sequence[tuple[str, AuditLog]],
) -> tuple[dict[str, Node], dict[str, list[str]]]:
    nodes: dict[str, Node] = {}
    places: dict[str, list[tuple[str, int]]] = {}
    by_chain: dict[str, list[str]] = {}
    for device, log in chains:
        parent: str | None = None
        listing = by_chain.setdefault(device, [])
        for number, (_, path) in enumerate(log._entry_files(), 1):  # noqa: SLF001
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            nodes.setdefault(digest, Node(digest, parent, path))
            places.setdefault(digest, []).append((device, number))
            listing.append(digest)
            parent = digest
    for digest, node in nodes.items():
        nodes[digest] = Node(digest, node.parent, node.path, tuple(places[digest]))
    return nodes, by_chain


def _read(
    nodes: Mapping[str, Node], identities: Sequence[Identity]
) -> dict[str, AuditEntry | None]:
    entries: dict[str, AuditEntry | None] = {}
    for digest, node in nodes.items():
        try:
            entries[digest] = AuditEntry.from_bytes(read_encrypted(node.path, identities))
        except (EncryptionError, ValueError, TypeError):
            entries[digest] = None
    return entries


def _depends(
    node: Node,
    entry: AuditEntry | None,
    by_chain: Mapping[str, list[str]],
    nodes: Mapping[str, Node],
) -> set[str]:
    """The entries ``node`` must come after: its parent, the last of each chain it saw."""
    found = {node.parent} if node.parent in nodes else set()
    seen = parse_seen(entry.detail.get("seen", "")) if entry else {}
    for device, (entries, _) in seen.items():
        chain = by_chain.get(device, [])
        if entries and chain:
            found.add(chain[min(entries, len(chain)) - 1])
    found.discard(node.digest)
    return {d for d in found if d is not None}


def merged_order(
    case_folder: Path, case_id: str, identities: Sequence[Identity], device: str = OWN
) -> Merged:
    """Every entry of every chain once, in the causal merged order (None: cannot be read)."""
    logs = chain_logs(case_folder, case_id)
    chains = [(device, logs[0]), *((log.folder.name, log) for log in logs[1:])]
    nodes, by_chain = _nodes(chains)
    entries = _read(nodes, identities)
    deps = {d: _depends(n, entries[d], by_chain, nodes) for d, n in nodes.items()}
    waits = {d: set(found) for d, found in deps.items()}
    children: dict[str, list[str]] = {}
    for digest in nodes:
        for dep in deps[digest]:
            children.setdefault(dep, []).append(digest)

    def key(digest: str) -> tuple[str, str]:
        entry = entries[digest]
        return (entry.time if entry else "", digest)

    ready = [(key(d), d) for d, w in waits.items() if not w]
    heapq.heapify(ready)
    merged = Merged([])
    placed: set[str] = set()
    while ready:
        _, digest = heapq.heappop(ready)
        _place(merged, nodes[digest], entries[digest], deps[digest])
        placed.add(digest)
        for child in children.get(digest, []):
            waits[child].discard(digest)
            if not waits[child]:
                heapq.heappush(ready, (key(child), child))
    for digest in sorted(set(nodes) - placed, key=key):  # a cycle of claims: forged; last
        _place(merged, nodes[digest], entries[digest], set())
    return merged


def _place(merged: Merged, node: Node, entry: AuditEntry | None, deps: set[str]) -> None:
    """Append ``node``; its clock: the union of its dependencies' clocks, and its places."""
    clock: dict[str, int] = {}
    for dep in deps:
        for device, number in merged.clocks.get(dep, {}).items():
            clock[device] = max(clock.get(device, 0), number)
    for device, number in node.places:
        clock[device] = max(clock.get(device, 0), number)
    merged.clocks[node.digest] = clock
    merged.order.append((entry, node))


def merged_entries(
    case_folder: Path, case_id: str, identities: Sequence[Identity], device: str = OWN
) -> list[tuple[AuditEntry | None, Node]]:
    return merged_order(case_folder, case_id, identities, device).order


def _signed(entry: AuditEntry, case_id: str, keys: Mapping[str, VerifyKey]) -> bool:
    key = keys.get(entry.user)
    try:
        if key is None:
            raise SignatureError("unknown user")
        key.verify(entry.signed_bytes(case_id), base64.b64decode(entry.signature))
    except (SignatureError, ValueError):
        return False
    return True


@dataclass
class _Guard:
    """What the merged order adds to the policy: entries a removed member wrote after their
    removal (concurrent with it or later) are refused; a consent given concurrently with a
    withdrawal does not undo it (fail-safe)."""

    merged: Merged
    removals: dict[str, list[Node]] = field(default_factory=dict)
    additions: dict[str, list[Node]] = field(default_factory=dict)
    consent: dict[tuple[str, str], Node] = field(default_factory=dict)

    def after_removal(self, entry: AuditEntry, node: Node) -> bool:
        before = self.merged.before
        for removal in self.removals.get(entry.user, []):
            if before(node, removal):
                continue
            if not any(
                before(removal, add) and before(add, node)
                for add in self.additions.get(entry.user, [])
            ):
                return True
        return False

    def keeps_withdrawal(self, entry: AuditEntry, node: Node, history: CaseHistory) -> bool:
        key = (entry.object, entry.detail.get("purpose", ""))
        last = self.consent.get(key)
        if entry.action not in ("consent.give", "consent.withdraw"):
            return False
        withdrawn = history.consent.get(key, ("", ""))[0] == "withdrawn"
        if (
            entry.action == "consent.give"
            and withdrawn
            and last
            and not self.merged.before(last, node)
        ):
            return True
        self.consent[key] = node
        return False


def _guard(merged: Merged, case_id: str, keys: Mapping[str, VerifyKey], policy: Policy) -> _Guard:
    guard = _Guard(merged)
    roles = policy.roles if isinstance(policy, CaseHistory) else None
    for entry, node in merged.order:
        if entry is None or entry.action not in ("member.remove", "member.add"):
            continue
        if not entry.signature or not _signed(entry, case_id, keys):
            continue
        if roles is not None and not role_may(roles.get(entry.user), Action.EDIT_CASE):
            continue
        found = guard.removals if entry.action == "member.remove" else guard.additions
        found.setdefault(entry.object, []).append(node)
    return guard


def replay_merged(
    case_folder: Path,
    case_id: str,
    identities: Sequence[Identity],
    keys: Mapping[str, VerifyKey],
    policy: Policy,
    legacy: int = 0,
    device: str = OWN,
) -> list[Problem]:
    """Feed the merged trail to ``policy`` (signatures checked); the refusals, numbered by
    their place in the merged order."""
    problems: list[Problem] = []
    merged = merged_order(case_folder, case_id, identities, device)
    guard = _guard(merged, case_id, keys, policy)
    for place, (entry, node) in enumerate(merged.order, 1):
        if entry is None:
            problems.append(Problem(place, f"merged entry {place} cannot be read"))
            continue
        if not entry.signature or entry.seq <= legacy:
            policy(entry, False)
            continue
        if not _signed(entry, case_id, keys):
            problems.append(Problem(place, f"merged entry {place} is not signed by {entry.user}"))
            continue
        if guard.after_removal(entry, node):
            problems.append(
                Problem(
                    place,
                    f"merged entry {place} ({entry.action}): {entry.user} wrote it after their "
                    "removal from the case (concurrently or later); refused",
                )
            )
            continue
        if isinstance(policy, CaseHistory) and guard.keeps_withdrawal(entry, node, policy):
            kept = dict(policy.consent)
            refusal = policy(entry, True)
            policy.consent = kept  # a concurrent withdrawal stands (fail-safe)
        else:
            refusal = policy(entry, True)
        if refusal:
            problems.append(Problem(place, f"merged entry {place} ({entry.action}): {refusal}"))
    return problems
