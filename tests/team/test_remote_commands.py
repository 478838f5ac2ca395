"""`videofeedback remote …` as a person runs it, against the real server."""

import json
import os
import signal
import socket
import subprocess

from tests.cli.conftest import SCRIPT, assert_one_line_error, run_cli

ADMIN_PASSPHRASE = "alice-quiet-harbour-lantern"
PRACTITIONER_PASSPHRASE = "bob-quiet-harbour-lantern"


def _library(tmp_path):
    env = {
        "VIDEOFEEDBACK_LIBRARY": str(tmp_path / "lib"),
        "VIDEOFEEDBACK_PASSPHRASE": ADMIN_PASSPHRASE,
        "VIDEOFEEDBACK_NEW_PASSPHRASE": ADMIN_PASSPHRASE,
    }
    assert run_cli("--user", "alice", "init", env=env, cwd=tmp_path).code == 0
    new = {**env, "VIDEOFEEDBACK_NEW_PASSPHRASE": PRACTITIONER_PASSPHRASE}
    assert (
        run_cli("--user", "alice", "user", "add", "bob", "--role", "practitioner", env=new).code
        == 0
    )
    return env


def test_remote_add_keeps_the_keys_encrypted_to_the_user(seaweed, store, tmp_path):
    env = _library(tmp_path)
    keys = {
        "VIDEOFEEDBACK_S3_ACCESS_KEY": seaweed.credentials.access_key,
        "VIDEOFEEDBACK_S3_SECRET_KEY": seaweed.credentials.secret_key,
    }
    added = run_cli(
        "--user",
        "alice",
        "remote",
        "add",
        "office",
        "--endpoint",
        seaweed.endpoint,
        "--bucket",
        "team",
        "--prefix",
        store.location.prefix,
        "--json",
        env={**env, **keys},
    )
    assert added.code == 0, added.err
    assert json.loads(added.out)["reachable"] is True
    assert "secret_key" not in json.loads(added.out)
    status = run_cli("--user", "alice", "remote", "status", "--json", env=env)
    assert status.code == 0 and json.loads(status.out)["reachable"] is True
    listed = run_cli("--user", "alice", "remote", "list", "--json", env=env)
    assert [r["name"] for r in json.loads(listed.out)["remotes"]] == ["office"]
    # the secret is in no file of the library, in any form a reader could find
    secret = seaweed.credentials.secret_key.encode()
    for root, _, files in os.walk(tmp_path / "lib"):
        for name in files:
            data = open(os.path.join(root, name), "rb").read()
            assert secret not in data and seaweed.credentials.access_key.encode() not in data
    # another library user has no remotes and cannot open alice's
    bob = {**env, "VIDEOFEEDBACK_PASSPHRASE": PRACTITIONER_PASSPHRASE}
    assert json.loads(run_cli("--user", "bob", "remote", "list", "--json", env=bob).out) == {
        "remotes": []
    }
    assert_one_line_error(run_cli("--user", "bob", "remote", "status", env=bob), "no remote yet")


def test_an_unreachable_remote_is_kept_and_reported(tmp_path):
    env = _library(tmp_path)
    keys = {"VIDEOFEEDBACK_S3_ACCESS_KEY": "a", "VIDEOFEEDBACK_S3_SECRET_KEY": "b"}
    added = run_cli(
        "--user",
        "alice",
        "remote",
        "add",
        "away",
        "--endpoint",
        "http://127.0.0.1:9",
        "--bucket",
        "team",
        env={**env, **keys},
    )
    assert added.code == 0 and "not reachable now" in added.text
    status = run_cli("--user", "alice", "remote", "status", "away", env=env)
    assert status.code == 1 and "cannot be reached" in status.text


def test_dev_server_runs_on_loopback_and_stops_on_ctrl_c(tmp_path):
    child = subprocess.Popen(
        [str(SCRIPT), "remote", "dev-server", "--dir", str(tmp_path / "store")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = child.stdout.readline()
        assert first.startswith("SeaweedFS on http://127.0.0.1:"), first + child.stderr.read()
        port = int(first.split(":")[2].split()[0])
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=30) == 0
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        raise AssertionError("the store still listens after Ctrl+C")
    except OSError:
        pass
