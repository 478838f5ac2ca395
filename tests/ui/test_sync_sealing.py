"""A shared laptop in the app (real SeaweedFS, real widgets): a change saved by one user and
not synced before she locks is sealed in her name when she locks, so the next user's sync
does not sign it (round 3 of the adversarial review, FORMAT §10.6)."""

from __future__ import annotations

from tests.team.conftest import seaweed  # noqa: F401 - fixture
from tests.ui.conftest import unlock
from tests.ui.test_sync_conflicts import _sync, _synced, laptop, team  # noqa: F401 - fixture
from ui.operations import operations
from videofeedback.demo import USERS
from videofeedback.operations import Changes
from videofeedback.team.sync import open_for_sync
from videofeedback.team.sync_status import SyncState


def _goals(where, case_id):
    with laptop(*where) as (_, session):
        rows = open_for_sync(session, case_id).db.execute("SELECT text FROM goals")
        return {text for (text,) in rows}


def test_a_change_left_unsynced_at_lock_is_not_signed_by_the_next_user(qtbot, team, window):  # noqa: F811
    """sam (a supervisor: no right to goals) adds a goal in the window's library (a patched
    program) and locks before the app's debounced sync; pat unlocks the same window and the
    app syncs as pat: pat's other laptop never gets the goal."""
    case_id = team["case"]
    unlock(qtbot, window, "sam", USERS["sam"][1])
    assert _synced(qtbot, window) is SyncState.UP_TO_DATE
    case = open_for_sync(window.state.user, case_id)
    case.db.execute("INSERT INTO goals(id, text) VALUES ('g-sam', 'by the supervisor')")
    case.save()
    operations().emit_changes(Changes(goals=True), None)
    assert window.sync_indicator.debounce.isActive()
    window.state.lock()
    unlock(qtbot, window, "pat", USERS["pat"][1])
    assert _synced(qtbot, window) is SyncState.UP_TO_DATE
    _sync(*team["pat"])
    assert "by the supervisor" not in _goals(team["pat"], case_id)
