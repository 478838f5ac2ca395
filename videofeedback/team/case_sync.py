"""One case's sync: check heads, pull what other devices added, merge, push (FORMAT §12)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from encryption import EncryptionError, private_folder
from videofeedback.library.audit import GENESIS, chain_next
from videofeedback.library.case_db import get_meta, set_meta
from videofeedback.library.cases import Case
from videofeedback.library.epoch_notes import EpochNote, note_path, open_epoch_note
from videofeedback.library.epoch_notes import keep as keep_note
from videofeedback.library.errors import LibraryError
from videofeedback.library.keyring import CaseKeys, load_case_keys
from videofeedback.library.local_state import LocalState

from . import case_doc
from .case_files import CaseFiles, CaseReport, chain_of, numbered
from .epochs import Offer, Rules, decide
from .errors import StoreConflictError, StoreNotFoundError
from .heads import BATCH_GENESIS, CaseNames, Head, HeadKeyError, batch_next, pack, unpack
from .media_sync import MediaTransfer, Progress
from .merge import Doc, Merged, diff, merge
from .plan_sync import PlanSync
from .quiet import fetch_raw_heads
from .store import S3Store


class CaseSync(CaseFiles, MediaTransfer):
    """Sync of one open case with one store. ``run()`` raises SyncError naming the case."""

    def __init__(self, case: Case, store: S3Store, progress: Progress | None = None) -> None:
        super().__init__(case)
        self._store, self.progress = store, progress
        self.names = CaseNames.of(case.identity)
        self.report = CaseReport(case.id)
        self.raw_heads: list[tuple[str, bytes, str]] | None = None  # fetched just before
        self.fresh = False  # a case made from an invitation: its empty database is no change
        self._note_bytes: dict[str, bytes] = {}  # epoch notes seen this sync, by digest
        self._tags: list[str] = []  # the device tags of the case's heads in the store

    @property
    def local(self) -> LocalState:
        """Read afresh each time: a case's save writes the same state file."""
        return self.library.local

    @property
    def store(self) -> S3Store:
        return self._store

    def run(self) -> CaseReport:
        heads = self._fetch_heads()
        self._check_own(heads.pop(self.device, None))
        self._learn_keys(heads)
        if self.fresh:
            self._learn_trail(heads)
        for device, (head, _) in sorted(heads.items()):
            self._pull(device, head)
        self._merge()
        self._push()
        return self.report

    # --- heads -----------------------------------------------------------------------------

    def _fetch_heads(self) -> dict[str, tuple[Head, str]]:
        """Every device's head (by device id), each verified; refused if one rolled back."""
        accepted = self.local.sync_heads(self.case.id)
        found: dict[str, tuple[Head, str]] = {}
        unreadable = 0
        raw = self.raw_heads or fetch_raw_heads(self.store, self.names)
        self._tags = [name.rsplit("/", 1)[1] for name, _, _ in raw]  # where notes may be
        for name, data, etag in raw:
            try:
                head = self._open_head(name, data)
            except HeadKeyError:
                if name == self.names.head(self.device):
                    raise
                unreadable += 1
                continue
            if name != self.names.head(head.device):
                raise self._fail("a head is stored under another device's name", rollback=True)
            found[head.device] = (head, etag)
        if unreadable:
            raise self._fail(
                f"{unreadable} device(s) wrote with a key this laptop does not hold (were you "
                "removed from the case?); nothing was merged — ask the case's practitioner"
            )
        for device, state in accepted.items():
            if device not in found:
                raise self._fail(
                    f"the store no longer shows device {device[:8]}'s history of this case, "
                    "which this laptop saw: it was rolled back or hidden; nothing was merged",
                    rollback=True,
                )
            self._check_not_older(found[device][0], state)
        return found

    def _check_not_older(self, head: Head, state: dict[str, Any]) -> None:
        if head.entries < state["entries"] or head.batches < state["batches"]:
            raise self._fail(
                f"rolled back: this laptop has seen {state['entries']} entries and "
                f"{state['batches']} change batches from device {head.device[:8]}, the store "
                f"serves {head.entries} and {head.batches}; nothing was merged",
                rollback=True,
            )
        same = (head.entries == state["entries"], head.batches == state["batches"])
        if (same[0] and head.trail.hex() != state["trail"]) or (
            same[1] and head.batch_chain.hex() != state["batch_chain"]
        ):
            raise self._fail(
                f"the store serves a different history from device {head.device[:8]} than "
                "this laptop saw; nothing was merged",
                rollback=True,
            )

    def _check_own(self, own: tuple[Head, str] | None) -> None:
        self._own_etag = own[1] if own else None
        pushed = self.local.sync_heads(self.case.id).get(self.device)
        if own is None and pushed:
            raise self._fail("the store lost or hid this laptop's own head", rollback=True)
        if own and pushed:
            self._check_not_older(own[0], pushed)

    # --- pulling ---------------------------------------------------------------------------

    def _learn_trail(self, heads: dict[str, tuple[Head, str]]) -> None:
        """A case new here (from an invitation) has no members yet: every device's trail
        first (checked against its signed head), so that the members are the merged
        trail's, and only their change batches are taken."""
        for device, (head, _) in sorted(heads.items()):
            entries = self._fetch_entries(device, 0, GENESIS, head)
            self._writenumbered(self._peer_entries(device), 0, entries, 12)

    def _pull(self, device: str, head: Head) -> None:
        state = self.local.sync_heads(self.case.id).get(device)
        have_entries = state["entries"] if state else 0
        have_batches = state["batches"] if state else 0
        trail = bytes.fromhex(state["trail"]) if state else GENESIS
        chain = bytes.fromhex(state["batch_chain"]) if state else BATCH_GENESIS
        entries = self._fetch_entries(device, have_entries, trail, head)
        batches = self._fetchchain_of(
            [self.names.batch(device, n) for n in range(have_batches + 1, head.batches + 1)],
            chain,
            head.batch_chain,
            batch_next,
        )
        self._writenumbered(self._peer_entries(device), have_entries, entries, 12)
        self._writenumbered(self._batches_dir(device), have_batches, batches, 8)
        signers = list(state.get("signers", [])) if state else []
        if head.batches > have_batches:  # the head's signer wrote them (never the batch's claim)
            signers.append([head.batches, head.user])
        self.local.accept_sync_head(self.case.id, device, {**head.state(), "signers": signers})

    def _get_named(self, name: str) -> bytes:
        try:
            data = self.store.get(name)
        except StoreNotFoundError:
            raise self._fail(
                "an object a device's head names is missing from the store (hidden or "
                "deleted); nothing was merged",
                rollback=True,
            ) from None
        self.report.pulled += 1
        self.report.bytes_down += len(data)
        return data

    def _fetch_entries(self, device: str, have: int, value: bytes, head: Head) -> list[bytes]:
        """The device's entries after ``have``, in packs, checked against its signed head."""
        found: list[bytes] = []
        while have + len(found) < head.entries:
            try:
                items = unpack(self._get_named(self.names.entries(device, have + len(found) + 1)))
            except ValueError:
                items = []
            if not items:
                raise self._fail("a pack of entries in the store is damaged", rollback=True)
            found.extend(items)
        for item in found:
            value = chain_next(value, item)
        if have + len(found) != head.entries or value != head.trail:
            raise self._fail(
                "a device's entries in the store do not match its signed head (altered or "
                "rolled back); nothing was merged",
                rollback=True,
            )
        return found

    def _fetchchain_of(
        self,
        names: list[str],
        start: bytes,
        end: bytes,
        step: Callable[[bytes, bytes], bytes],
    ) -> list[bytes]:
        found, value = [], start
        for name in names:
            data = self._get_named(name)
            value = step(value, data)
            found.append(data)
        if value != end:
            raise self._fail(
                "a device's objects in the store do not match its signed head (altered or "
                "rolled back); nothing was merged",
                rollback=True,
            )
        return found

    # --- key epochs (docs/FORMAT.md §12.6) -------------------------------------------------

    def _open_head(self, name: str, data: bytes) -> Head:
        """A head; one that does not open may be to a newer key epoch (a member was removed
        on another laptop) or to a competing one: that device's key file and the signed
        notes of its epochs are fetched, and taken as ``epochs.decide`` says."""
        keys = self.library.verify_keys()
        try:
            return Head.open(data, [self.case.identity], keys, self.case.id)
        except HeadKeyError:
            offer = self._offer_of(name.rsplit("/", 1)[1])
            if offer is None:
                raise
            self._take([offer])
            return Head.open(data, [self.case.identity], keys, self.case.id)

    def _offer_of(self, tag: str) -> Offer | None:
        """The device's longest key file: epochs after this laptop's, else its own
        (a competing rotation)."""
        epoch, found = self.case.identity.epoch, None
        while (data := self._get_or_none(self.names.keys(f"{tag}\n{epoch + 1}"))) is not None:
            found, epoch = data, epoch + 1
        epoch = self.case.identity.epoch + 1
        while found is None and epoch > 2:
            epoch -= 1
            found = self._get_or_none(self.names.keys(f"{tag}\n{epoch}"))
        return None if found is None else self._offer(tag, found)

    def _get_or_none(self, name: str) -> bytes | None:
        try:
            return self.store.get(name)
        except StoreNotFoundError:
            return None

    def _offer(self, tag: str, data: bytes) -> Offer | None:
        """A fetched key file (if it opens here) with the notes of the epochs it differs in."""
        folder = self.case.folder / "sync" / "keys" / "fetched" / self.case.id
        private_folder(folder, parents=True)
        (folder / "key.age").write_bytes(data)
        try:
            theirs = load_case_keys(
                folder, self.case.id, self.library.key_store(), self.case.session.identities
            )
        except (EncryptionError, LibraryError):
            return None  # not to us: this user was removed; nothing new will open
        ours, notes = self.case.identity.parts, {}
        for epoch in range(2, theirs.epoch + 1):
            if epoch > len(ours) or ours[epoch - 1] != theirs.parts[epoch - 1]:
                keys = CaseKeys(self.case.id, theirs.kek, theirs.parts[:epoch])
                notes[epoch] = self._find_note(tag, epoch, keys)
        return Offer(theirs.parts, notes, theirs.others)

    def _find_note(self, tag: str, epoch: int, keys: CaseKeys) -> EpochNote | None:
        """The note of ``keys``' newest epoch: where the key file came from, else as any
        other device holds it (a laptop that joined by invitation has none of its own)."""
        for where in [tag, *(t for t in self._tags if t != tag)]:
            note = self._note(self._get_or_none(self.names.epoch_note(where, epoch)), keys)
            if note is not None and note.matches(keys):
                return note
        return None

    def _note(self, raw: bytes | None, keys: CaseKeys) -> EpochNote | None:
        if raw is None:
            return None
        try:
            note = open_epoch_note(raw, keys, self.library.verify_keys(), self.case.id)
        except LibraryError:
            return None
        self._note_bytes[note.digest] = raw
        return note

    def _own_offer(self) -> Offer:
        keys, notes = self.case.identity, {}
        for epoch in range(2, keys.epoch + 1):
            path = note_path(self.case.folder, epoch)
            notes[epoch] = self._note(path.read_bytes() if path.exists() else None, keys)
        return Offer(keys.parts, notes, keys.others)

    def _take(self, offers: list[Offer]) -> None:
        """Decide the case's epochs with ``offers``; a new chain or new lost parts rewrite
        key.age (to the members this laptop knows, less whoever a rotation removes)."""
        history = self.case.history()
        roles = {n: u.role for n, u in self.library.trusted_users().items()}
        ours = self._own_offer()
        keys = self.case.identity
        decision = decide(
            self.case.id, keys.kek, ours, offers, Rules(roles, history.members, history.removals)
        )
        if decision.refused:
            raise self._fail(
                f"{decision.refused}: a new key that they may not introduce (only a member who "
                "may change the case's members may); nothing was merged — tell your administrator"
            )
        self.report.notes.extend(decision.dropped)
        others = tuple(sorted({*keys.others, *decision.others}))
        if decision.parts == keys.parts and others == keys.others:
            return
        for epoch, note in decision.notes.items():
            if ours.notes.get(epoch) != note:
                keep_note(self.case.folder, epoch, self._note_bytes[note.digest])
        removed = {
            n.removes
            for offer in (ours, *offers)
            for n in offer.notes.values()
            if n is not None and n.removes
        }
        self.case.identity = CaseKeys(self.case.id, keys.kek, decision.parts, others)
        self.case.members.write_key([m for m in self.case.members.names() if m not in removed])
        self.case._log = None  # noqa: SLF001 (entries from now on: the new epoch)

    def _learn_keys(self, heads: dict[str, tuple[Head, str]]) -> None:
        """Devices whose key file changed since this laptop last saw them: their key file
        (by the hash their head signs) may hold rotations that lost, to read with."""
        accepted = self.local.sync_heads(self.case.id)
        mine = hashlib.sha256((self.case.folder / "key.age").read_bytes()).hexdigest()
        offers = []
        for device, (head, _) in sorted(heads.items()):
            if head.keys in (mine, accepted.get(device, {}).get("keys")):
                continue
            tag = self.names.head(device).rsplit("/", 1)[1]
            data = self._get_or_none(self.names.keys(f"{tag}\nsha {head.keys}"))
            offer = self._offer(tag, data) if data is not None else None
            if offer is not None:
                offers.append(offer)
        if offers:
            self._take(offers)

    # --- merging ---------------------------------------------------------------------------

    def _merge(self) -> None:
        base_counts = json.loads(get_meta(self.case.db, "sync_base", "{}"))
        base = merge(self.ops(base_counts))
        everything = self.ops()
        self.report.notes.extend(self.refused)
        lamport = max([base.lamport, *(o.lamport for o in self.all_ops())]) + 1
        self._stamp_media()  # before the diff: the hashes travel in this batch
        current = case_doc.extract(self.case.db)
        plans = PlanSync(self.case, self.store, self.names, self.report, self._fail)
        current.update(plans.current(base.doc, self.all_ops()))  # new plans go up first
        user = self.case.session.name
        new = [] if self.fresh else diff(base, current, self.device, user, lamport)
        if new:
            self.write_batch(new)
            everything = self.ops()  # this laptop's own changes judged like anyone's
        self.report.changes = len(new)
        merged = merge(everything)
        self._apply(merged, current)
        plans.settle(merged.doc)

    def _apply(self, merged: Merged, current: Doc) -> None:
        self.report.conflicts = [c.to_json() for c in merged.conflicts]
        counts = json.dumps(self.counts(), sort_keys=True)
        changed = merged.doc != current
        if changed:
            case_doc.apply(self.case.db, merged.doc)
        if changed or counts != get_meta(self.case.db, "sync_base", "{}"):
            set_meta(self.case.db, "sync_base", counts)
            self.case.save()

    # --- pushing ---------------------------------------------------------------------------

    def _put(self, name: str, data: bytes) -> None:
        try:
            self.store.put_new(name, data)
        except StoreConflictError:  # a retried upload: fine only if the bytes are the same
            if hashlib.sha256(self.store.get(name)).digest() != hashlib.sha256(data).digest():
                raise self._fail(
                    "the store holds a different object where this laptop's goes; nothing "
                    "was replaced — tell your administrator"
                ) from None
            return
        self.report.pushed += 1
        self.report.bytes_up += len(data)

    def _push(self) -> None:
        pushed = self.local.sync_heads(self.case.id).get(self.device) or {}
        entries = self._own_entries()
        batches = numbered(self._batches_dir(self.device))
        self._push_entries(entries, pushed.get("entries", 0))
        for number, path in enumerate(
            batches[pushed.get("batches", 0) :], pushed.get("batches", 0) + 1
        ):
            self._put(self.names.batch(self.device, number), path.read_bytes())
        self._push_keys(pushed)
        self._push_media()
        self._push_head(entries, batches)

    def _push_entries(self, entries: list[Path], have: int) -> None:
        """The entries the store lacks, as one pack; a pack a killed sync already wrote is
        kept (it must hold this laptop's very entries) and the rest follows it."""
        while have < len(entries):
            name = self.names.entries(self.device, have + 1)
            items = [p.read_bytes() for p in entries[have:]]
            data = pack(items)
            try:
                self.store.put_new(name, data)
            except StoreConflictError:
                try:
                    there = unpack(self.store.get(name))
                except ValueError:
                    there = []
                if not there or there != items[: len(there)]:
                    raise self._fail(
                        "the store holds other entries where this laptop's go; nothing was "
                        "replaced — tell your administrator"
                    ) from None
                have += len(there)
                continue
            self.report.pushed += 1
            self.report.bytes_up += len(data)
            have = len(entries)

    def _push_keys(self, pushed: dict[str, Any]) -> None:
        """The key file under each epoch it reaches that was not pushed yet (a laptop that
        looks for epoch e + 1 finds it, and with it every later epoch), with each epoch's
        signed note; and under its hash whenever it changed (what the head names)."""
        tag = self.names.head(self.device).rsplit("/", 1)[1]
        data = (self.case.folder / "key.age").read_bytes()
        for epoch in range(max(2, pushed.get("epoch", 1) + 1), self.case.identity.epoch + 1):
            self._put(self.names.keys(f"{tag}\n{epoch}"), data)
            note = note_path(self.case.folder, epoch)
            if note.exists():
                self._put(self.names.epoch_note(tag, epoch), note.read_bytes())
        digest = hashlib.sha256(data).hexdigest()
        if pushed.get("keys") != digest:
            self._put(self.names.keys(f"{tag}\nsha {digest}"), data)

    def _push_head(self, entries: list[Path], batches: list[Path]) -> None:
        all_ops = self.all_ops()
        head = Head(
            self.case.id,
            self.device,
            len(entries),
            chain_of(entries, GENESIS, chain_next),
            len(batches),
            chain_of(batches, BATCH_GENESIS, batch_next),
            hashlib.sha256((self.case.folder / "key.age").read_bytes()).hexdigest(),
            max((o.lamport for o in all_ops), default=0),
            self.case.session.name,
        )
        previous = self.local.sync_heads(self.case.id).get(self.device)
        if previous and previous == {**head.state(), "epoch": previous.get("epoch")}:
            return
        key = self.case.session.keys.require_signing_key()
        data = head.seal(key, self.case.recipients)
        try:
            self.store.put_if(self.names.head(self.device), data, self._own_etag)
        except StoreConflictError:
            raise self._fail(
                "another sync of this laptop moved its head at the same time; sync again"
            ) from None
        self.local.accept_sync_head(
            self.case.id, self.device, {**head.state(), "epoch": self.case.identity.epoch}
        )
