"""`videofeedback sync`, `conflicts` and `remote status` as a person runs them."""

from __future__ import annotations

import json

from tests.cli.conftest import assert_one_line_error, run_cli
from tests.team.laptops import PASSPHRASES, first_laptop
from videofeedback.team.sync import open_for_sync


def _env(laptop, user):
    return {
        "VIDEOFEEDBACK_LIBRARY": str(laptop.folder),
        "VIDEOFEEDBACK_STATE_DIR": str(laptop.state),
        "VIDEOFEEDBACK_PASSPHRASE": PASSPHRASES[user],
    }


def test_sync_status_and_conflicts_from_the_command_line(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store, members=("pat", "cat"))  # two practitioners
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "cat")
    pat, cat = _env(a, "pat"), _env(b, "cat")
    status = run_cli("--user", "pat", "remote", "status", "--json", env=pat)
    before = json.loads(status.out)
    assert before["pending_uploads"] > 0 and before["last_sync"] is None
    done = run_cli("--user", "pat", "sync", "--json", env=pat)
    assert done.code == 0, done.err
    (case,) = json.loads(done.out)["cases"]
    assert case["case"] == case_id and case["pushed"] > 0 and case["error"] is None
    after = json.loads(run_cli("--user", "pat", "remote", "status", "--json", env=pat).out)
    assert after["pending_uploads"] == 0 and after["last_sync"]
    assert run_cli("--user", "cat", "sync", env=cat).code == 0
    for laptop, text in ((a, "pat's title"), (b, "cat's title")):
        with laptop.session() as (_, session):
            opened = open_for_sync(session, case_id)
            opened.db.execute("UPDATE meta SET value = ? WHERE key = 'label'", (text,))
            opened.save()
    assert run_cli("--user", "pat", "sync", env=pat).code == 0
    shown = run_cli("--user", "cat", "sync", env=cat)
    assert shown.code == 0 and "1 conflict(s)" in shown.text
    listed = json.loads(run_cli("--user", "cat", "conflicts", case_id, "--json", env=cat).out)
    (conflict,) = listed["conflicts"]
    pats = next(v["op"] for v in conflict["versions"] if v["value"] == "pat's title")
    kept = run_cli("--user", "cat", "conflicts", case_id, "--keep", pats, "--json", env=cat)
    assert kept.code == 0 and json.loads(kept.out)["conflicts"] == []
    wrong = run_cli("--user", "cat", "conflicts", case_id, "--keep", "nope", env=cat)
    assert_one_line_error(wrong, "no conflict")


def test_a_store_that_cannot_be_reached_is_one_line_and_keeps_the_work(tmp_path, store):
    from tests.team.laptops import Laptop
    from videofeedback.team.remotes import Remote, save_remote
    from videofeedback.team.store import StoreLocation

    a, case_id = first_laptop(tmp_path, store)
    with a.session() as (_, pat):
        away = StoreLocation("http://127.0.0.1:9", "team", "x")
        save_remote(pat, Remote("away", away, store._credentials))
    assert isinstance(a, Laptop)
    before = sorted(p.name for p in (a.folder / "cases" / case_id).rglob("*"))
    failed = run_cli("--user", "pat", "sync", "--remote", "away", env=_env(a, "pat"))
    assert_one_line_error(failed, "cannot be reached")
    assert sorted(p.name for p in (a.folder / "cases" / case_id).rglob("*")) == before
