"""Sync of many small changes across cases, against a local SeaweedFS: time and requests.

Laptop A makes CHANGES goals spread over CASES cases and syncs (push); laptop B (a copy of
the folder, its own device) syncs (pull + merge). Printed: seconds and S3 requests of each,
and the requests of a sync where nothing changed (what a larger library costs per sync).

Usage: .venv/bin/python benchmarks/bench_sync.py [--cases 10] [--changes 1000]
Goal (issue 17): 1,000 small changes across 10 cases under 5 s to the local server.

``--library-mib N``: memory while syncing a large library. Laptop A's library gets N MiB of
recordings (age-encrypted random bytes, 512 MiB each, spread over the cases) and some small
changes; A syncs them up, then laptop B (a copy made before the media, its own state folder)
syncs them down, each sync in a child process of its own whose resident memory a thread
samples every 20 ms; then boto3 uploads and downloads the same files (the baseline), also
in child processes. Printed per contender: peak RSS, wall and CPU time, bytes/s.
Goal (issue 17): memory flat (<= 300 MB) while syncing a 2 GiB library.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import PeakRss  # noqa: E402
from tests import fast_scrypt  # noqa: E402

fast_scrypt.install()  # benchmark users only: identities at scrypt 2^10

from encryption import AgeWriter, Recipient  # noqa: E402
from videofeedback.library import Library, Purpose, Role, SessionKind  # noqa: E402
from videofeedback.library.cases import Programme, create_case  # noqa: E402
from videofeedback.library.local_state import STATE_ENV  # noqa: E402
from videofeedback.team.devserver import DevServer  # noqa: E402
from videofeedback.team.remotes import Remote, save_remote  # noqa: E402
from videofeedback.team.store import MIB, S3Store, StoreCredentials, StoreLocation  # noqa: E402
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
    parser.add_argument("--library-mib", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # a measured child's job (JSON)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
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
        if args.library_mib:
            run_large(root, store, args.cases, args.library_mib)
            return
        store.s3.meta.events.register("before-send.s3", _count)
        run(root, store, args.cases, args.changes)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def two_laptops(root: Path, store: S3Store, cases: int) -> list[str]:
    """Laptop A's library (alice, pat, ``cases`` cases, the remote) and B, a copy of it."""
    a, b = root / "lib-a", root / "lib-b"
    sa = root / "state-a"
    os.environ[STATE_ENV] = str(sa)
    library, alice = Library.create(a, "alice", PW.format("alice"), root / "rec.age", 30)
    library.add_user(alice, "pat", Role.PRACTITIONER, PW.format("pat"))
    library.close()
    library, pat = _session(a, sa, "pat")
    ids = [create_case(pat, f"case {n}", Programme.VIG, date(2026, 11, 1)).id for n in range(cases)]
    save_remote(pat, Remote("office", store.location, store._credentials))  # noqa: SLF001
    library.close()
    shutil.copytree(a, b)
    return ids


def run(root: Path, store: S3Store, cases: int, changes: int) -> None:
    a, b = root / "lib-a", root / "lib-b"
    sa, sb = root / "state-a", root / "state-b"
    ids = two_laptops(root, store, cases)
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


# --- --library-mib: memory while syncing a large library ------------------------------------

RECORDING_MIB = 512


def run_large(root: Path, store: S3Store, cases: int, mib: int) -> None:
    from benchmarks.common import machine

    a, b = root / "lib-a", root / "lib-b"
    sa, sb = root / "state-a", root / "state-b"
    ids = two_laptops(root, store, cases)
    for folder, state in ((a, sa), (b, sb)):  # both know the cases; B has no media yet
        _sync(folder, state, "pat")
    files = add_recordings(a, sa, ids, mib)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.2f} before the runs")
    print(f"library: {mib} MiB in {len(files)} recordings over {cases} cases, 100 small changes")
    location, keys = store.location, store._credentials  # noqa: SLF001
    server = {"endpoint": location.endpoint, "bucket": location.bucket}
    server.update(access=keys.access_key, secret=keys.secret_key)
    down = root / "boto3-down"
    jobs = {
        "A: sync up (ours)": {"kind": "sync", "folder": str(a), "state": str(sa)},
        "B: sync down (ours)": {"kind": "sync", "folder": str(b), "state": str(sb)},
        "boto3 upload_file": {"kind": "boto3-up", "files": files, **server},
        "boto3 download_file": {"kind": "boto3-down", "files": files, "to": str(down), **server},
    }
    print(
        f"{'':22} {'peak RSS':>9} {'(start)':>8} {'wall s':>7} {'CPU s':>6} {'MiB/s':>6}"
        "  peak RSS per quarter of the run (MB)"
    )
    for name, job in jobs.items():
        got = measured_child(job)
        rate = got["bytes"] / got["wall"] / MIB
        quarters = " ".join(f"{q:4.0f}" for q in got["quarters"])
        print(
            f"{name:22} {got['peak']:6.0f} MB {got['start']:5.0f} MB "
            f"{got['wall']:7.1f} {got['cpu']:6.1f} {rate:6.0f}  {quarters}"
        )
    print(f"load average after the runs: {os.getloadavg()[0]:.2f}")


def add_recordings(folder: Path, state: Path, ids: list[str], mib: int) -> list[str]:
    """Recordings of random bytes, sealed to their case, on a consented session, with small
    changes beside them; the file names."""
    library, pat = _session(folder, state, "pat")
    files = []
    try:
        for n in range(max(1, mib // RECORDING_MIB)):
            case = open_for_sync(pat, ids[n % len(ids)])
            if not case.participants.all():
                case.consent.set(case.participants.add("Bea", "mother"), Purpose.FILMING, True)
            session = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
            path = case.folder / "media" / f"r{n}.age"
            path.parent.mkdir(exist_ok=True, mode=0o700)
            sealed_random(path, min(RECORDING_MIB, mib - n * RECORDING_MIB) * MIB, case.recipients)
            case.media.add(session, "recording", f"media/r{n}.age", {})
            for g in range(100 // max(1, mib // RECORDING_MIB)):
                case.goals.add(f"goal {n}.{g}")
            case.save()
            files.append(str(path))
    finally:
        library.close()
    return files


def sealed_random(path: Path, size: int, recipients: list[Recipient]) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as out:
        writer = AgeWriter(out, recipients)
        for _ in range(size // MIB):
            writer.write(block)
        writer.close()


def measured_child(job: dict[str, object]) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", json.dumps(job)]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def child(job: dict[str, object]) -> dict[str, Any]:
    """In the child: do the job with a sampler running; its peak RSS, times and bytes."""
    work = {"sync": _child_sync, "boto3-up": _boto3_up, "boto3-down": _boto3_down}
    prepare = work[str(job["kind"])](job)
    cpu = _cpu()
    with PeakRss() as rss:
        start = time.perf_counter()
        moved = prepare()
        wall = time.perf_counter() - start
    return {
        "peak": rss.peak, "start": rss.before, "wall": wall, "cpu": _cpu() - cpu, "bytes": moved,
        "quarters": rss.quarters(),
    }  # fmt: skip


def _child_sync(job: dict[str, object]):  # type: ignore[no-untyped-def]
    library, session = _session(Path(str(job["folder"])), Path(str(job["state"])), "pat")

    def sync() -> int:
        report = sync_library(library, session, "office")
        assert report.ok, report.to_json()
        return sum(c.bytes_up + c.bytes_down for c in report.cases)

    return sync


def _client(job: dict[str, object]):  # type: ignore[no-untyped-def]
    location = StoreLocation(str(job["endpoint"]), str(job["bucket"]))
    return S3Store(location, StoreCredentials(str(job["access"]), str(job["secret"]))).s3


def _boto3_up(job: dict[str, object]):  # type: ignore[no-untyped-def]
    s3, files = _client(job), [Path(f) for f in job["files"]]  # type: ignore[attr-defined]

    def up() -> int:
        for n, path in enumerate(files):
            s3.upload_file(str(path), str(job["bucket"]), f"boto3-{n}")
        return sum(p.stat().st_size for p in files)

    return up


def _boto3_down(job: dict[str, object]):  # type: ignore[no-untyped-def]
    s3, count, to = _client(job), len(job["files"]), Path(str(job["to"]))  # type: ignore[arg-type]
    to.mkdir(exist_ok=True)

    def down() -> int:
        moved = 0
        for n in range(count):
            s3.download_file(str(job["bucket"]), f"boto3-{n}", str(to / str(n)))
            moved += (to / str(n)).stat().st_size
            (to / str(n)).unlink()
        return moved

    return down


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


if __name__ == "__main__":
    main()
