"""The sync indicator's model, Qt-free: its states, its one-line texts and the counts it
takes from an engine's report (whatever shape: a number, a list, per case)."""

from dataclasses import dataclass, field

from videofeedback.team.sync_status import SyncSnapshot, SyncState, SyncStatus, _count


def test_transitions_reach_listeners_with_their_text():
    status = SyncStatus()
    seen = []
    unsubscribe = status.subscribe(seen.append)
    status.syncing("media", 25, 100)
    assert seen[-1].text() == "Syncing media: 25%"
    status.offline("the team store cannot be reached", local_only=3)
    assert seen[-1].text() == "Offline · 3 item(s) only on this laptop"
    status.finished(conflicts=2, local_only=0)
    assert seen[-1].state is SyncState.CONFLICT and seen[-1].last_sync
    assert seen[-1].text() == "2 conflict(s) to resolve"
    status.finished(conflicts=0, local_only=None)
    assert seen[-1].text() == "Up to date"
    unsubscribe()
    status.failed("x")
    assert len(seen) == 4 and status.snapshot.state is SyncState.ERROR
    assert SyncSnapshot(SyncState.UNAVAILABLE).text() == "Sync not available"
    assert SyncSnapshot(SyncState.SYNCING, phase="connecting").text() == "Syncing connecting…"


@dataclass
class Report:
    conflicts: dict = field(default_factory=dict)
    local_only: list = field(default_factory=list)


def test_counts_from_any_report_shape():
    assert _count(Report({"c-1": [1, 2], "c-2": 1}, ["a"]), "conflicts") == 3
    assert _count(Report(), "local_only") == 0
    assert _count({"conflicts": 4}, "conflicts") == 4
    assert _count(object(), "conflicts") == 0
