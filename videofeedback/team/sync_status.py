"""The sync indicator's model (Qt-free): what the app says about the team store.

States: no store set up, offline, syncing (phase, done of total), up to date, conflict
(N to choose), error (one line), sync not available (a build without the engine). It also
says how many items are only on this laptop when the engine can tell. ``run_sync`` is the
one function the app calls to sync; it moves the model through its states and imports the
engine lazily (``engine.py``). Listeners get a ``SyncSnapshot`` after every change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from .engine import engine
from .errors import StoreError, StoreUnreachableError
from .remotes import Remote


class SyncState(Enum):
    NO_REMOTE = "no team store"
    OFFLINE = "offline"
    SYNCING = "syncing"
    UP_TO_DATE = "up to date"
    CONFLICT = "conflict"
    ERROR = "error"
    UNAVAILABLE = "sync not available"


@dataclass(frozen=True)
class SyncSnapshot:
    state: SyncState = SyncState.NO_REMOTE
    phase: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    local_only: int | None = None  # items only on this laptop (None: not known)
    conflicts: int = 0
    last_sync: str = ""  # ISO time of the last sync that finished

    def text(self) -> str:
        """One short line for a status bar."""
        state = self.state
        if state is SyncState.SYNCING:
            if self.total:
                return f"Syncing {self.phase}: {100 * self.done // self.total}%"
            return f"Syncing {self.phase}…".replace(" …", "…")
        base = {
            SyncState.NO_REMOTE: "Not shared with a team",
            SyncState.OFFLINE: "Offline",
            SyncState.UP_TO_DATE: "Up to date",
            SyncState.CONFLICT: f"{self.conflicts} conflict(s) to resolve",
            SyncState.ERROR: "Sync failed",
            SyncState.UNAVAILABLE: "Sync not available",
        }[state]
        if self.local_only:
            base += f" · {self.local_only} item(s) only on this laptop"
        return base


Listener = Callable[[SyncSnapshot], None]


class SyncStatus:
    """The model: thread-safe setters (the sync runs on a worker thread), events to
    listeners in the thread that made the change (a widget queues them to its own)."""

    def __init__(self) -> None:
        self._snapshot = SyncSnapshot()
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> SyncSnapshot:
        with self._lock:
            return self._snapshot

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._snapshot = replace(self._snapshot, **changes)
            snapshot = self._snapshot
        for listener in list(self._listeners):
            listener(snapshot)

    # --- transitions -------------------------------------------------------------------------

    def no_remote(self) -> None:
        self._set(state=SyncState.NO_REMOTE, message="", phase="", done=0, total=0)

    def syncing(self, phase: str, done: int = 0, total: int = 0) -> None:
        self._set(state=SyncState.SYNCING, phase=phase, done=done, total=total, message="")

    def offline(self, message: str, local_only: int | None = None) -> None:
        self._set(state=SyncState.OFFLINE, message=message, local_only=local_only)

    def unavailable(self, message: str) -> None:
        self._set(state=SyncState.UNAVAILABLE, message=message)

    def failed(self, message: str) -> None:
        self._set(state=SyncState.ERROR, message=message)

    def finished(self, conflicts: int, local_only: int | None) -> None:
        state = SyncState.CONFLICT if conflicts else SyncState.UP_TO_DATE
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._set(
            state=state, conflicts=conflicts, local_only=local_only, last_sync=now, message=""
        )


def _count(report: Any, name: str) -> int:
    """A count from the engine's report: an int, a list, or per case (a dict of either)."""
    value = getattr(report, name, None)
    if value is None and isinstance(report, dict):
        value = report.get(name)
    if isinstance(value, dict):
        return sum(_count_value(v) for v in value.values())
    return _count_value(value)


def _count_value(value: Any) -> int:
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple | set):
        return len(value)
    return 0


def _pending(library: Any, session: Any, remote: Remote) -> int | None:
    """Items only on this laptop, if the engine can count them without the store."""
    module = engine()
    counter = getattr(module, "pending_items", None) if module else None
    if counter is None:
        return None
    return int(counter(library, session, remote.name))


def seal_unsynced(library: Any, session: Any) -> int:
    """This user's unsynced changes sealed into batches they sign, without the store (a
    sync that cannot run, or the user about to lock or close the app: the next user of this
    laptop must not sign them; FORMAT §10.6). How many batches; 0 without the engine."""
    module = engine()
    seal = getattr(module, "seal_offline", None) if module else None
    return int(seal(library, session)) if seal is not None else 0


def run_sync(library: Any, session: Any, remote: Remote, status: SyncStatus) -> Any:
    """Sync once (push and pull) and move ``status`` through its states; the engine's report,
    or None when offline or unavailable. Call it off the GUI thread. Errors other than the
    store being unreachable are reported in ``status`` and raised."""
    status.syncing("connecting")
    try:
        remote.store().check()
    except StoreUnreachableError as exc:
        seal_unsynced(library, session)
        status.offline(str(exc), _pending(library, session, remote))
        return None
    except StoreError as exc:
        seal_unsynced(library, session)
        status.failed(str(exc))
        raise
    module = engine()
    if module is None:
        status.unavailable("this build of videofeedback has no sync engine; update it to sync")
        return None
    try:
        report = module.sync_library(library, session, remote.name, progress=status.syncing)
    except StoreUnreachableError as exc:
        status.offline(str(exc), _pending(library, session, remote))
        return None
    except Exception as exc:
        status.failed(str(exc))
        raise
    known = hasattr(report, "local_only") or (isinstance(report, dict) and "local_only" in report)
    local_only = _count(report, "local_only") if known else _pending(library, session, remote)
    status.finished(_count(report, "conflicts"), local_only)
    return report
