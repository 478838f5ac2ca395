"""Recordings travel through the store: progress reported, a sync killed mid-upload resumes,
and the store never shows half an object."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date

from encryption import write_encrypted
from tests.cli.conftest import SCRIPT
from tests.team.laptops import child_env, first_laptop
from videofeedback.library.cases import SessionKind
from videofeedback.team.heads import CaseNames
from videofeedback.team.sync import open_for_sync, sync_library

SIZE = 40 * 1024 * 1024  # three 16 MiB parts: a multipart upload


def _recording(laptop, case_id):
    with laptop.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        (case.folder / "media").mkdir(exist_ok=True, mode=0o700)
        write_encrypted(case.folder / "media" / "r1.age", os.urandom(SIZE), case.recipients)
        media_id = case.media.add(session_id, "recording", "media/r1.age", {})
        case.save()
        return media_id, CaseNames.of(case.identity).media(media_id)


def test_a_sync_killed_mid_upload_resumes_and_converges(tmp_path, store):
    a, case_id = first_laptop(tmp_path, store)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    media_id, name = _recording(a, case_id)
    local = (a.folder / "cases" / case_id / "media" / "r1.age").read_bytes()
    uploads = a.folder / "cases" / case_id / "sync" / "uploads" / media_id
    kills = 0
    for delay in (None, 0.2, 0.6, 1.0, 1.5, 2.0):
        child = subprocess.Popen(
            [str(SCRIPT), "--user", "pat", "sync"],
            env=child_env(a, "pat"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if delay is None:  # the moment the multipart upload has begun
            while not uploads.exists() and child.poll() is None:
                time.sleep(0.01)
        else:
            time.sleep(delay)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
        info = store.head(name)  # never half an object
        assert info is None or info.size == len(local)
    assert kills >= 2
    seen = []
    with a.session() as (library, pat):
        report = sync_library(library, pat, "office", lambda *p: seen.append(p))
    assert report.ok, report.to_json()
    assert store.head(name).size == len(local) and store.get(name) == local
    with b.session() as (library, sam):
        report = sync_library(library, sam, "office", lambda *p: seen.append(p))
        assert report.ok, report.to_json()
    pulled = b.folder / "cases" / case_id / "media" / "r1.age"
    assert pulled.read_bytes() == local
    downloads = [(done, total) for phase, done, total in seen if phase == "download"]
    assert downloads[-1] == (len(local), len(local))  # media bytes, to the last one
    assert [d for d, _ in downloads] == sorted(d for d, _ in downloads)


def test_the_store_stopped_mid_upload_and_restarted_converges(tmp_path):
    from tests.team.conftest import store_for, wait_writable
    from videofeedback.team.devserver import DevServer

    server = DevServer(tmp_path / "own-store").start()
    try:
        store = store_for(server, prefix="restart")
        wait_writable(store)
        a, case_id = first_laptop(tmp_path, store)
        b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
        media_id, name = _recording(a, case_id)
        uploads = a.folder / "cases" / case_id / "sync" / "uploads" / media_id
        child = subprocess.Popen(
            [str(SCRIPT), "--user", "pat", "sync"],
            env=child_env(a, "pat"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        while not uploads.exists() and child.poll() is None:
            time.sleep(0.01)
        server.stop()  # mid-upload, when the machine is not too slow to catch it
        err = child.communicate(timeout=300)[1].decode()
        if child.returncode != 0:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in err, err
        server.start()  # same folder, same ports
        wait_writable(store)
        local = (a.folder / "cases" / case_id / "media" / "r1.age").read_bytes()
        info = store.head(name)
        assert info is None or info.size == len(local)
        for laptop in (a, b):
            with laptop.session() as (library, session):
                report = sync_library(library, session, "office")
                assert report.ok, report.to_json()
        assert (b.folder / "cases" / case_id / "media" / "r1.age").read_bytes() == local
    finally:
        server.stop()
