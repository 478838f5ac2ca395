"""Sync of many small changes across cases, against a local SeaweedFS: time and requests.

Laptop A makes CHANGES goals spread over CASES cases and syncs (push); laptop B (a copy of
the folder, its own device) syncs (pull + merge). Printed: seconds and S3 requests of each,
and the requests of a sync where nothing changed (what a larger library costs per sync).

Usage: .venv/bin/python benchmarks/bench_sync.py [--cases 10] [--changes 1000]
Goal (issue 17): 1,000 small changes across 10 cases under 5 s to the local server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import fast_scrypt  # noqa: E402

fast_scrypt.install()  # benchmark users only: identities at scrypt 2^10

from videofeedback.library import Library, Role  # noqa: E402
from videofeedback.library.cases import Programme, create_case  # noqa: E402
from videofeedback.library.local_state import STATE_ENV  # noqa: E402
from videofeedback.team.devserver import DevServer  # noqa: E402
from videofeedback.team.remotes import Remote, save_remote  # noqa: E402
from videofeedback.team.store import S3Store, StoreCredentials, StoreLocation  # noqa: E402
from videofeedback.team.sync import open_for_sync, sync_library  # noqa: E402

PW = "{}-quiet-harbour-lantern"
REQUESTS: Counter[str] = Counter()


def _count(**kwargs: object) -> None:
    REQUESTS[str(kwargs.get("event_name", "")).split(".")[-1]] += 1


def _session(folder: Path, state: Path, user: str):  # type: ignore[no-untyped-def]
    os.environ[STATE_ENV] = str(state)
    library = Library.open(folder)
    return library, library.unlock(user, PW.format(user), sleep=lambda _: None)


def _sync(folder: Path, state: Path, user: str) -> tuple[float, int]:
    library, session = _session(folder, state, user)
    try:
        REQUESTS.clear()
        start = time.perf_counter()
        report = sync_library(library, session, "office")
        seconds = time.perf_counter() - start
        assert report.ok, report.to_json()
        return seconds, sum(REQUESTS.values())
    finally:
        library.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10)
    parser.add_argument("--changes", type=int, default=1000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    server = DevServer(root / "store").start()
    try:
        store = S3Store(
            StoreLocation(server.endpoint, "team", "bench"),
            StoreCredentials(server.credentials.access_key, server.credentials.secret_key),
        )
        for _ in range(100):
            try:
                store.ensure_bucket()
                store.put_if("probe", b"x", None)
                break
            except Exception:  # noqa: BLE001 (the volume server starts after S3)
                time.sleep(0.3)
        store.s3.meta.events.register("before-send.s3", _count)
        run(root, store, args.cases, args.changes)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def run(root: Path, store: S3Store, cases: int, changes: int) -> None:
    a, b = root / "lib-a", root / "lib-b"
    sa, sb = root / "state-a", root / "state-b"
    os.environ[STATE_ENV] = str(sa)
    library, alice = Library.create(a, "alice", PW.format("alice"), root / "rec.age", 30)
    library.add_user(alice, "pat", Role.PRACTITIONER, PW.format("pat"))
    library.close()
    library, pat = _session(a, sa, "pat")
    ids = [create_case(pat, f"case {n}", Programme.VIG, date(2026, 11, 1)).id for n in range(cases)]
    save_remote(pat, Remote("office", store.location, store._credentials))  # noqa: SLF001
    library.close()
    shutil.copytree(a, b)
    # the benchmark's client counts the requests: give the sync that very client
    client = store.s3
    S3Store.s3 = property(lambda self: client)  # type: ignore[method-assign,assignment]
    print(f"first sync, {cases} cases (A, B): {_sync(a, sa, 'pat')} {_sync(b, sb, 'pat')}")
    library, pat = _session(a, sa, "pat")
    for n in range(changes):
        case = open_for_sync(pat, ids[n % cases])
        case.goals.add(f"goal {n}")
        case.save()
    library.close()
    push = _sync(a, sa, "pat")
    pull = _sync(b, sb, "pat")
    idle = _sync(b, sb, "pat")
    print(f"{changes} changes over {cases} cases: push {push[0]:.2f} s, {push[1]} requests")
    print(f"  pull + merge on the other laptop: {pull[0]:.2f} s, {pull[1]} requests")
    print(f"  a sync with nothing new: {idle[0]:.2f} s, {idle[1]} requests")


if __name__ == "__main__":
    main()
