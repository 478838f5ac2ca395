"""Parallel, resumable downloads from the real store (``team/download.py``): blocks fetched
on several threads land in order in the file, an interrupted download goes on from its last
checkpoint, and nothing but a whole, checked object is ever put under the target's name."""

from __future__ import annotations

import hashlib
import os

import pytest

from videofeedback.team import download as dl
from videofeedback.team.download import DownloadMismatchError, Wanted, download, partial_of
from videofeedback.team.errors import StoreUnreachableError
from videofeedback.team.store import MIB

SIZE = 150 * MIB + 12345  # 19 blocks, the last one short; two checkpoints of 64 MiB


class Interrupted(Exception):
    pass


@pytest.fixture
def stored(store, tmp_path):
    data = os.urandom(SIZE)
    source = tmp_path / "source"
    source.write_bytes(data)
    store.upload_file("o/big", source, tmp_path / "up.json")
    return Wanted("o/big", SIZE, hashlib.sha256(data).hexdigest()), data


def test_a_parallel_download_is_the_object_byte_for_byte(store, stored, tmp_path):
    wanted, data = stored
    target = tmp_path / "media" / "r1.age"
    seen: list[int] = []
    download(store, wanted, target, tmp_path / "state", seen.append)
    assert target.read_bytes() == data
    assert seen == sorted(seen) and seen[-1] == SIZE  # progress in order, to the last byte
    assert not partial_of(target).exists() and not (tmp_path / "state").exists()
    assert target.stat().st_mode & 0o077 == 0  # this account only, like the partial file


def test_an_interrupted_download_resumes_from_its_checkpoint(store, stored, tmp_path):
    wanted, data = stored
    target, state = tmp_path / "media" / "r1.age", tmp_path / "state"

    def stop_late(done: int) -> None:
        if done > dl.CHECKPOINT + 3 * dl.BLOCK:
            raise Interrupted

    with pytest.raises(Interrupted):
        download(store, wanted, target, state, stop_late)
    assert not target.exists()  # never half an object under its name
    assert partial_of(target).exists() and state.exists()
    seen: list[int] = []
    download(store, wanted, target, state, seen.append)
    assert seen[0] > dl.CHECKPOINT  # went on from there, not from 0
    assert target.read_bytes() == data


def test_a_damaged_partial_file_is_caught_by_the_hash_and_fetched_again(store, stored, tmp_path):
    wanted, data = stored
    target, state = tmp_path / "media" / "r1.age", tmp_path / "state"

    def stop(done: int) -> None:
        if done > dl.CHECKPOINT:
            raise Interrupted

    with pytest.raises(Interrupted):
        download(store, wanted, target, state, stop)
    with open(partial_of(target), "r+b") as partial:  # someone altered the kept prefix
        partial.seek(1000)
        partial.write(b"\0" * 16)
    with pytest.raises(DownloadMismatchError):
        download(store, wanted, target, state)
    assert not target.exists() and not partial_of(target).exists()
    download(store, wanted, target, state)
    assert target.read_bytes() == data


def test_other_bytes_under_the_name_are_refused_and_nothing_is_kept(store, stored, tmp_path):
    wanted, _ = stored
    target = tmp_path / "media" / "r1.age"
    other = Wanted(wanted.name, wanted.size, hashlib.sha256(b"another").hexdigest())
    with pytest.raises(DownloadMismatchError):
        download(store, other, target, tmp_path / "state")
    assert not target.exists() and not partial_of(target).exists()


def test_a_stopped_store_is_one_clear_error_and_the_download_resumes_later(tmp_path):
    from tests.team.conftest import store_for, wait_writable
    from videofeedback.team.devserver import DevServer

    server = DevServer(tmp_path / "own-store").start()
    try:
        store = store_for(server, prefix="stop")
        wait_writable(store)
        data = os.urandom(SIZE)
        (tmp_path / "source").write_bytes(data)
        store.upload_file("o/big", tmp_path / "source", tmp_path / "up.json")
        wanted = Wanted("o/big", SIZE, hashlib.sha256(data).hexdigest())
        target, state = tmp_path / "media" / "r1.age", tmp_path / "state"

        stopped: list[bool] = []

        def stop_store(done: int) -> None:
            if done > dl.CHECKPOINT and not stopped:
                stopped.append(True)
                server.stop()

        with pytest.raises(StoreUnreachableError) as caught:
            download(store, wanted, target, state, stop_store)
        assert "sync" in str(caught.value) and "\n" not in str(caught.value)
        assert not target.exists()
        server.start()
        wait_writable(store)
        seen: list[int] = []
        download(store, wanted, target, state, seen.append)
        assert seen[0] > dl.CHECKPOINT and target.read_bytes() == data
    finally:
        server.stop()


def test_a_downloaded_recording_is_not_sent_back_at_the_next_sync(tmp_path, store):
    from tests.team.laptops import first_laptop, sync_ok
    from tests.team.test_sync_media import SIZE as RECORDING
    from tests.team.test_sync_media import _recording
    from videofeedback.team.sync import open_for_sync

    a, case_id = first_laptop(tmp_path, store)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    _recording(a, case_id)
    sync_ok(a)
    pulled = sync_ok(b).cases[0]
    assert pulled.bytes_down >= RECORDING
    with a.session() as (_, pat):  # something new, so that b's next sync is a full one
        case = open_for_sync(pat, case_id)
        case.goals.add("a goal")
        case.save()
    sync_ok(a)
    again = sync_ok(b).cases[0]
    assert again.bytes_up < MIB, again.to_json()  # its head, maybe a batch: not the film
