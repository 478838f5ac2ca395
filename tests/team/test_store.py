"""The object store's promises, against a real SeaweedFS server."""

import hashlib
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.paths import REPO
from tests.procnet import listening
from tests.team.conftest import store_for
from videofeedback.team.devserver import LOOPBACK, DevServer, weed_arguments
from videofeedback.team.errors import (
    StoreAccessError,
    StoreConflictError,
    StoreNotFoundError,
    StoreUnreachableError,
)
from videofeedback.team.store import MIB, S3Store, StoreCredentials, StoreLocation, expected_etag


def test_weed_is_told_to_bind_loopback_only(tmp_path):
    arguments = weed_arguments(tmp_path, [1, 2, 3, 4, 5])
    assert f"-ip.bind={LOOPBACK}" in arguments and f"-ip={LOOPBACK}" in arguments
    assert "-webdav=false" in arguments and "-admin.ui=false" in arguments


def test_the_server_listens_on_loopback_only(seaweed):
    addresses = {address for address, _ in listening(seaweed._process.pid)}
    assert addresses, "weed listens on nothing?"
    assert addresses <= {"0100007F"}, addresses  # 127.0.0.1, never 0.0.0.0 or ::


def test_write_once_objects_are_never_replaced(store):
    store.put_new("media/a", b"first")
    with pytest.raises(StoreConflictError):
        store.put_new("media/a", b"second")
    assert store.get("media/a") == b"first"


def test_pointers_move_by_compare_and_swap(store):
    etag = store.put_if("head", b"v1", None)
    with pytest.raises(StoreConflictError):
        store.put_if("head", b"v1-again", None)
    newer = store.put_if("head", b"v2", etag)
    with pytest.raises(StoreConflictError, match="lost race"):
        store.put_if("head", b"v3 from a stale reader", etag)
    assert store.get_with_etag("head") == (b"v2", newer)


def test_ranged_reads_listing_and_missing_objects(store):
    store.put_new("cases/x/one", bytes(range(256)))
    store.put_new("cases/x/two", b"2")
    store.put_new("cases/y/three", b"3")
    assert store.get("cases/x/one", 10, 14) == bytes([10, 11, 12, 13])
    assert store.get("cases/x/one", 250) == bytes(range(250, 256))
    assert [o.name for o in store.list("cases/x/")] == ["cases/x/one", "cases/x/two"]
    assert store.head("cases/x/one").size == 256
    assert store.head("nothing") is None
    with pytest.raises(StoreNotFoundError):
        store.get("nothing")


def test_wrong_keys_and_a_stopped_store_give_clear_errors(seaweed, store):
    wrong = S3Store(store.location, StoreCredentials("nobody", "not-the-secret"))
    with pytest.raises(StoreAccessError, match="remote add"):
        wrong.get("anything")
    gone = S3Store(
        StoreLocation(f"http://{LOOPBACK}:9", "team"), StoreCredentials("a", "b"), timeout=1
    )
    with pytest.raises(StoreUnreachableError, match="stays on this laptop"):
        gone.check()


def _random_file(path, size):
    path.write_bytes(os.urandom(size))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_large_upload_goes_in_parts_and_appears_whole(store, tmp_path):
    source = tmp_path / "recording.age"
    digest = _random_file(source, 12 * MIB + 123)
    seen = []
    etag = store.upload_file(
        "media/big",
        source,
        tmp_path / "state.json",
        progress=lambda d, t: seen.append(d),
        part_size=5 * MIB,
    )
    assert etag.strip('"') == expected_etag(source, 5 * MIB)
    assert hashlib.sha256(store.get("media/big")).hexdigest() == digest
    assert seen[-1] == source.stat().st_size and len(seen) == 4  # before + 3 parts
    assert not (tmp_path / "state.json").exists()
    # a retry of the same upload (say, after a crash) is fine; other bytes never replace it
    assert store.upload_file("media/big", source, tmp_path / "s2.json", part_size=5 * MIB) == etag
    _random_file(source, 12 * MIB)
    with pytest.raises(StoreConflictError, match="nothing was replaced"):
        store.upload_file("media/big", source, tmp_path / "s3.json", part_size=5 * MIB)


UPLOADER = textwrap.dedent(
    """
    import sys, os, time
    from pathlib import Path
    from tests.team.conftest import store_for
    from videofeedback.team.devserver import DevServer, DevCredentials
    from videofeedback.team.store import S3Store, StoreLocation, StoreCredentials
    endpoint, key, secret, prefix, source, state = sys.argv[1:]
    store = S3Store(StoreLocation(endpoint, "team", prefix), StoreCredentials(key, secret))
    def progress(done, total):
        print(done, flush=True)
        if done:
            time.sleep(30)  # killed here, after the first part
    store.upload_file("media/cut-off", Path(source), Path(state), progress, part_size=5 * 1024 * 1024)
    """
)


def test_a_killed_upload_resumes_and_is_never_seen_half_done(store, tmp_path):
    source = tmp_path / "recording.age"
    digest = _random_file(source, 21 * MIB)
    state = tmp_path / "state.json"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            UPLOADER,
            store.location.endpoint,
            store._credentials.access_key,
            store._credentials.secret_key,
            store.location.prefix,
            str(source),
            str(state),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert child.stdout.readline().strip() == "0"
    first = int(child.stdout.readline())
    assert 0 < first < source.stat().st_size
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert state.exists()
    assert store.head("media/cut-off") is None  # no half object is visible
    starts = []
    store.upload_file(
        "media/cut-off", source, state, progress=lambda d, t: starts.append(d), part_size=5 * MIB
    )
    assert starts[0] >= first  # what was sent before the kill is not sent again
    assert hashlib.sha256(store.get("media/cut-off")).hexdigest() == digest


def test_a_store_that_is_stopped_and_started_keeps_its_objects(tmp_path):
    server = DevServer(tmp_path / "store").start()
    try:
        from tests.team.conftest import wait_writable

        first = store_for(server)
        wait_writable(first)
        first.put_new("kept", b"still here")
        server.stop()
        with pytest.raises(StoreUnreachableError):
            S3Store(first.location, first._credentials, timeout=1).get("kept")
        server.start()
        again = store_for(server)
        wait_writable(again)
        assert again.get("kept") == b"still here"
    finally:
        server.stop()
