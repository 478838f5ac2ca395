"""The status bar's sync indicator: offline / syncing with progress / up to date / conflict,
what is only on this laptop, and "Sync now". It shows ``SyncStatus`` (Qt-free, in
videofeedback/team/sync_status.py) and runs ``run_sync`` on the library's one sync thread,
never on the GUI thread: on unlock, on demand, and a while after the last saved change."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from ui.conflict_dialog import ConflictDialog
from ui.gui_thread import to_gui
from ui.operations import describe, operations
from ui.state import AppState
from videofeedback.library import Library, UserSession
from videofeedback.library.cases import Case
from videofeedback.operations import Changes
from videofeedback.team.errors import StoreError
from videofeedback.team.remotes import Remote, find_remote
from videofeedback.team.sync_status import (
    SyncSnapshot,
    SyncState,
    SyncStatus,
    run_sync,
    seal_unsynced,
)

if TYPE_CHECKING:  # the engine is imported on first sync, not at start-up
    from videofeedback.team.sync import SyncReport

DEBOUNCE_MS = 30_000  # after the last saved change, sync once things are quiet
EVERYTHING = Changes(**{name: True for name in Changes.__dataclass_fields__})


class SyncIndicator(QWidget):
    snapshot_changed = Signal(object)  # a SyncSnapshot (in the GUI thread)
    sync_finished = Signal(object)  # the finished Future (in the GUI thread)

    def __init__(self, state: AppState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncIndicator")
        self.state = state
        self.model = SyncStatus()
        self.label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(120)
        self.sync_button = QToolButton()
        self.sync_button.setText("Sync now")
        self.sync_button.setToolTip("Send and fetch the team's changes now")
        self.sync_button.clicked.connect(self.sync_now)
        self.conflicts_button = QToolButton()
        self.conflicts_button.setText("Resolve…")
        self.conflicts_button.setToolTip("See the conflicting versions and choose one")
        self.conflicts_button.clicked.connect(self.show_conflicts)
        self.conflicted: list[str] = []  # cases with conflicts, from the last sync's report
        self.dialog: ConflictDialog | None = None
        self.open_case: Callable[[str], Case] = state.open_case  # the window shares its own
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.label, self.progress, self.conflicts_button, self.sync_button):
            layout.addWidget(widget)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sync")
        self._running: Future[Any] | None = None
        self._again = False
        self._unsynced: tuple[Library, UserSession] | None = None  # a change not synced yet
        self.debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self.debounce.timeout.connect(self.sync_now)
        self.snapshot_changed.connect(self._on_snapshot_changed)
        self.sync_finished.connect(self._on_sync_finished)
        # emitted in the GUI thread (ui.gui_thread), never from the sync thread: this widget
        # may be deleted while a sync runs
        self.model.subscribe(to_gui(self, self.snapshot_changed.emit))
        self._finished = to_gui(self, self.sync_finished.emit)
        state.unlocked.connect(self.sync_now)
        state.locked.connect(self._on_locked)
        operations().changes.connect(self._on_changes)
        self._on_snapshot_changed(self.model.snapshot)

    # --- what starts a sync ------------------------------------------------------------------

    def _remote(self) -> Remote | None:
        user = self.state.user
        if user is None:
            return None
        try:
            return find_remote(user, None)
        except StoreError:  # no remote (or several and none chosen): nothing to sync with
            return None

    def sync_now(self) -> None:
        if self._running is not None:
            self._again = True  # one more when this one ends: what changed meanwhile goes up
            return
        remote = self._remote()
        library, user = self.state.library, self.state.user
        if remote is None or library is None or user is None:
            self.model.no_remote()
            return
        self.debounce.stop()
        self._unsynced = None  # the sync seals or sends them, whatever happens
        self._running = self._thread.submit(run_sync, library, user, remote, self.model)
        self._running.add_done_callback(self._finished)

    def _on_changes(self, changes: Changes, initiator: object) -> None:
        library, user = self.state.library, self.state.user
        if initiator is self or library is None or user is None or self._remote() is None:
            return
        self._unsynced = (library, user)
        self.debounce.start()

    def _on_locked(self) -> None:
        self.debounce.stop()
        self._again = False
        self._seal_unsynced()

    def _seal_unsynced(self) -> None:
        """A change saved since the last sync started: sealed now, signed by its author, on
        the sync thread (after a running sync), so that the next user of this laptop does
        not sign it with their sync (FORMAT §10.6)."""
        if self._unsynced is not None:
            library, user = self._unsynced
            self._unsynced = None
            self._thread.submit(seal_unsynced, library, user)

    # --- what it shows -------------------------------------------------------------------------

    def _on_sync_finished(self, future: Future[Any]) -> None:
        self._running = None
        exc = future.exception()
        report: SyncReport | None = None if exc is not None else future.result()
        if report is not None:
            self.conflicted = [c.case for c in report.cases if c.conflicts]
            operations().emit_changes(EVERYTHING, self)  # what came in: every view refreshes
        elif exc is not None and self.model.snapshot.state is not SyncState.ERROR:
            self.model.failed(describe(exc))
        if self._again and self.state.user is not None:
            self._again = False
            self.sync_now()

    def _on_snapshot_changed(self, snapshot: SyncSnapshot) -> None:
        self.setVisible(snapshot.state is not SyncState.NO_REMOTE)
        self.label.setText(snapshot.text())
        self.label.setToolTip(snapshot.message or snapshot.text())
        syncing = snapshot.state is SyncState.SYNCING
        self.progress.setVisible(syncing)
        self.progress.setRange(0, snapshot.total if snapshot.total else 0)
        self.progress.setValue(snapshot.done)
        self.sync_button.setEnabled(not syncing)
        self.conflicts_button.setVisible(snapshot.state is SyncState.CONFLICT)

    def show_conflicts(self) -> None:
        """The conflicts of the last sync, to choose a version of each (ui/conflict_dialog)."""
        self.dialog = ConflictDialog(list(self.conflicted), self.open_case, self.window())
        self.dialog.resolved.connect(self._on_resolved)
        self.dialog.show()

    def _on_resolved(self) -> None:
        self.debounce.stop()
        self.sync_now()  # the choice travels like any change; the count is taken afresh

    def shutdown(self) -> None:
        """Let a running sync end, and seal what was not synced (closing the window)."""
        self.debounce.stop()
        self._seal_unsynced()
        self._thread.shutdown(wait=True)
