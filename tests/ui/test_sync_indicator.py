"""The status bar's sync indicator against real stores: none set up → hidden; the store
stopped → offline; the real SeaweedFS running → syncing, then up to date (or "sync not
available" in a build without the engine); a saved change starts a sync after a pause."""

import secrets

from PySide6.QtCore import Qt

from tests.team.conftest import seaweed, store_for, wait_writable  # noqa: F401 - fixture
from tests.ui.conftest import unlock
from ui.operations import operations
from videofeedback.operations import Changes
from videofeedback.team.engine import available
from videofeedback.team.remotes import Remote, save_remote
from videofeedback.team.store import StoreCredentials, StoreLocation
from videofeedback.team.sync_status import SyncState


def _states(indicator):
    seen = []
    indicator.model.subscribe(lambda snapshot: seen.append(snapshot.state))
    return seen


def test_indicator_goes_offline_then_syncing_then_done(qtbot, window, seaweed):  # noqa: F811
    unlock(qtbot, window)
    indicator = window.sync_indicator
    qtbot.waitUntil(lambda: indicator.model.snapshot.state is SyncState.NO_REMOTE)
    assert indicator.isHidden()  # no team store: nothing to say
    seen = _states(indicator)
    keys = StoreCredentials(seaweed.credentials.access_key, seaweed.credentials.secret_key)
    user = window.state.user
    # a store that is stopped (nothing listens on its port)
    save_remote(user, Remote("office", StoreLocation("http://127.0.0.1:9", "team"), keys))
    qtbot.mouseClick(indicator.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: indicator.model.snapshot.state is SyncState.OFFLINE, timeout=30_000)
    qtbot.waitUntil(lambda: indicator.label.text().startswith("Offline"))
    assert not indicator.isHidden() and indicator.sync_button.isEnabled()
    assert seen[:2] == [SyncState.SYNCING, SyncState.OFFLINE]
    assert "cannot be reached" in indicator.label.toolTip()
    # the real store, running, with nothing to do
    store = store_for(seaweed, prefix="t-" + secrets.token_hex(6))
    wait_writable(store)
    save_remote(user, Remote("office", store.location, keys))
    seen.clear()
    qtbot.mouseClick(indicator.sync_button, Qt.MouseButton.LeftButton)
    done = SyncState.UP_TO_DATE if available() else SyncState.UNAVAILABLE
    qtbot.waitUntil(lambda: indicator.model.snapshot.state is done, timeout=60_000)
    assert seen[0] is SyncState.SYNCING and seen[-1] is done
    expected = "Up to date" if available() else "Sync not available"
    qtbot.waitUntil(lambda: indicator.label.text().startswith(expected))
    assert indicator.progress.isHidden()
    # a change saved elsewhere in the app starts a sync once things are quiet
    seen.clear()
    indicator.debounce.setInterval(100)
    operations().emit_changes(Changes(moments=True), None)
    assert indicator.debounce.isActive()
    qtbot.waitUntil(lambda: len(seen) >= 2 and seen[-1] is done, timeout=60_000)
    assert seen[0] is SyncState.SYNCING
    # locking stops a pending sync
    operations().emit_changes(Changes(moments=True), None)
    window.state.lock()
    assert not indicator.debounce.isActive()
