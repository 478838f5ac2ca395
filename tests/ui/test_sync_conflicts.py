"""The app and the team store (real SeaweedFS, real widgets): a supervisor's window shows a
practitioner's new moment after "Sync now", and a conflict two laptops made is listed with
its versions, who wrote them and when, and settled by choosing one."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from fractions import Fraction

import pytest
from PySide6.QtCore import Qt

from tests.team.conftest import seaweed, store_for, wait_writable  # noqa: F401 - fixture
from tests.ui.conftest import open_first_case, open_review, unlock
from videofeedback.demo import USERS
from videofeedback.library import Library
from videofeedback.library.annotating import open_annotations
from videofeedback.library.cases import list_cases
from videofeedback.library.local_state import STATE_ENV
from videofeedback.team.conflicts import list_conflicts
from videofeedback.team.remotes import Remote, save_remote
from videofeedback.team.store import StoreCredentials
from videofeedback.team.sync import open_for_sync, sync_library
from videofeedback.team.sync_status import SyncState


@contextlib.contextmanager
def laptop(folder, state, user):
    """(library, session) of another laptop: its own folder and its own state folder."""
    before = os.environ.get(STATE_ENV)
    os.environ[STATE_ENV] = str(state)
    try:
        with Library.open(folder) as library:
            yield library, library.unlock(user, USERS[user][1], sleep=lambda _: None)
    finally:
        os.environ[STATE_ENV] = before if before is not None else ""
        if before is None:
            del os.environ[STATE_ENV]


def _sync(folder, state, user):
    with laptop(folder, state, user) as (library, session):
        report = sync_library(library, session, "office")
    assert report.ok, report.to_json()
    return report


@pytest.fixture
def team(library, tmp_path, seaweed):  # noqa: F811
    """The window's library (sam will unlock it) and pat's laptop (a copy taken now, its
    own state): both with the remote; pat has pushed the demo case."""
    store = store_for(seaweed, prefix="t-" + secrets.token_hex(6))
    wait_writable(store)
    keys = StoreCredentials(seaweed.credentials.access_key, seaweed.credentials.secret_key)
    remote = Remote("office", store.location, keys)
    pat = (tmp_path / "pat-laptop", tmp_path / "pat-state", "pat")
    shutil.copytree(library, pat[0])
    with Library.open(library) as opened:
        for user in ("sam", "pat"):  # the window is sam's, or pat's other laptop
            save_remote(opened.unlock(user, USERS[user][1], sleep=lambda _: None), remote)
    with laptop(*pat) as (_, session):
        save_remote(session, remote)
        [summary] = list_cases(session)
    _sync(*pat)
    return {"pat": pat, "case": summary.id, "library": library, "tmp": tmp_path}


def _synced(qtbot, window):
    """Click "Sync now" (or wait for the sync on unlock) until the indicator settles."""
    indicator = window.sync_indicator
    qtbot.waitUntil(lambda: indicator._running is None, timeout=120_000)
    seen = []
    indicator.model.subscribe(lambda snapshot: seen.append(snapshot.state))
    qtbot.mouseClick(indicator.sync_button, Qt.MouseButton.LeftButton)
    settled = (SyncState.UP_TO_DATE, SyncState.CONFLICT, SyncState.ERROR)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1] in settled and indicator._running is None,
                    timeout=120_000)  # fmt: skip
    assert seen[-1] is not SyncState.ERROR, indicator.model.snapshot.message
    return seen[-1]


def test_a_supervisor_sees_the_practitioners_new_moment_after_sync_now(qtbot, team, window):
    unlock(qtbot, window, "sam", USERS["sam"][1])
    assert _synced(qtbot, window) is SyncState.UP_TO_DATE
    with laptop(*team["pat"]) as (_, pat):
        case = open_for_sync(pat, team["case"])
        [(media_id,)] = case.db.execute("SELECT id FROM media WHERE kind = 'recording'")
        work = open_annotations(case, media_id)
        work.editor.add_moment(Fraction(1), Fraction(2), caption="pat after the visit")
        work.save()
    _sync(*team["pat"])
    assert _synced(qtbot, window) is SyncState.UP_TO_DATE
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    captions = [m.caption for m in review.notes.annotations.moments]
    assert "pat after the visit" in captions
    shown = [review.moment_list.item(i).text() for i in range(review.moment_list.count())]
    assert any("pat after the visit" in text for text in shown), shown


def _relabel(where, case_id, title):
    with laptop(*where) as (_, session):
        case = open_for_sync(session, case_id)
        case.db.execute("UPDATE meta SET value = ? WHERE key = 'label'", (title,))
        case.save()
    _sync(*where)


def test_a_conflict_is_listed_and_settled_in_the_app(qtbot, team, window):
    """pat retitles the case offline on two laptops (a supervisor may not: his change would
    not count); the window (pat's third) pulls both: "Resolve…" lists the versions with who
    and when; keeping one settles it and the choice reaches the other laptops."""
    tmp, case_id = team["tmp"], team["case"]
    other = (tmp / "pat-laptop-2", tmp / "pat2-state", "pat")
    shutil.copytree(team["pat"][0], other[0])  # with pat's remote; its own device
    _sync(*other)
    unlock(qtbot, window, "pat", USERS["pat"][1])
    indicator = window.sync_indicator
    assert _synced(qtbot, window) is SyncState.UP_TO_DATE
    for where in (team["pat"], other):  # every copy's first state seen everywhere
        _sync(*where)
    _relabel(team["pat"], case_id, "Title by pat")
    _relabel(other, case_id, "Title on the other laptop")
    assert _synced(qtbot, window) is SyncState.CONFLICT
    assert indicator.label.text().startswith("1 conflict")
    assert indicator.conflicts_button.isVisible()
    qtbot.mouseClick(indicator.conflicts_button, Qt.MouseButton.LeftButton)
    dialog = indicator.dialog
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 1, timeout=30_000)
    top = dialog.tree.topLevelItem(0)
    assert "label" in top.text(0)
    versions = {top.child(i).text(0): top.child(i) for i in range(top.childCount())}
    assert set(versions) == {"Title by pat", "Title on the other laptop"}
    assert {v.text(1) for v in versions.values()} == {"pat"}
    assert all(v.text(2).startswith("20") for v in versions.values())  # when, ISO
    assert not dialog.keep_button.isEnabled()
    rect = dialog.tree.visualItemRect(versions["Title on the other laptop"])
    qtbot.mouseClick(dialog.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.keep_button.isEnabled()
    qtbot.mouseClick(dialog.keep_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.tree.topLevelItemCount() == 0, timeout=30_000)
    assert dialog.note.text() == "No conflicts left."
    # the choice syncs at once; the indicator says so, and pat's laptop takes it
    qtbot.waitUntil(lambda: indicator.model.snapshot.state is SyncState.UP_TO_DATE
                    and indicator._running is None, timeout=120_000)  # fmt: skip
    assert not indicator.conflicts_button.isVisible()
    _sync(*team["pat"])
    with laptop(*team["pat"]) as (_, pat):
        case = open_for_sync(pat, case_id)
        assert case.label == "Title on the other laptop"
        assert not list_conflicts(case)
