"""A case's trail across laptops: its own chain and the chains pulled from other devices.

Each device's chain stays as it was written (docs/FORMAT.md §9); pulled chains are kept as
ciphertext in ``cases/ID/peers/DEVICE/``. The merged trail is the union of the chains
(entries identical in bytes counted once: copies of one folder share a prefix), parents
before children, then by (time, SHA-256 of the ciphertext): every member computes the same
order from the same chains (docs/FORMAT.md §12.3).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from encryption import EncryptionError, Identity, SignatureError, VerifyKey, read_encrypted

from .audit import AuditEntry, AuditLog, Policy, Problem

PEERS = "peers"


@dataclass(frozen=True)
class Node:
    digest: str  # SHA-256 hex of the ciphertext
    parent: str | None
    path: Path


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


def _nodes(logs: Sequence[AuditLog]) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for log in logs:
        parent: str | None = None
        for _, path in log._entry_files():  # noqa: SLF001 (same package)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            nodes.setdefault(digest, Node(digest, parent, path))
            parent = digest
    return nodes


def merged_entries(
    case_folder: Path, case_id: str, identities: Sequence[Identity]
) -> list[tuple[AuditEntry | None, Node]]:
    """Every entry of every chain once, in the merged order (None: cannot be read)."""
    nodes = _nodes(chain_logs(case_folder, case_id))
    entries: dict[str, AuditEntry | None] = {}
    for digest, node in nodes.items():
        try:
            entries[digest] = AuditEntry.from_bytes(read_encrypted(node.path, identities))
        except (EncryptionError, ValueError, TypeError):
            entries[digest] = None
    children: dict[str | None, list[str]] = {}
    for node in nodes.values():
        children.setdefault(node.parent if node.parent in nodes else None, []).append(node.digest)

    def key(digest: str) -> tuple[str, str]:
        entry = entries[digest]
        return (entry.time if entry else "", digest)

    ready = [(key(d), d) for d in children.get(None, [])]
    heapq.heapify(ready)
    order: list[tuple[AuditEntry | None, Node]] = []
    while ready:
        _, digest = heapq.heappop(ready)
        order.append((entries[digest], nodes[digest]))
        for child in children.get(digest, []):
            heapq.heappush(ready, (key(child), child))
    return order


def replay_merged(
    case_folder: Path,
    case_id: str,
    identities: Sequence[Identity],
    keys: Mapping[str, VerifyKey],
    policy: Policy,
    legacy: int = 0,
) -> list[Problem]:
    """Feed the merged trail to ``policy`` (signatures checked); the refusals, numbered by
    their place in the merged order."""
    problems: list[Problem] = []
    for place, (entry, _) in enumerate(merged_entries(case_folder, case_id, identities), 1):
        if entry is None:
            problems.append(Problem(place, f"merged entry {place} cannot be read"))
            continue
        if not entry.signature or entry.seq <= legacy:
            policy(entry, False)
            continue
        key = keys.get(entry.user)
        try:
            if key is None:
                raise SignatureError("unknown user")
            key.verify(entry.signed_bytes(case_id), base64.b64decode(entry.signature))
        except (SignatureError, ValueError):
            problems.append(Problem(place, f"merged entry {place} is not signed by {entry.user}"))
            continue
        if refusal := policy(entry, True):
            problems.append(Problem(place, f"merged entry {place} ({entry.action}): {refusal}"))
    return problems
