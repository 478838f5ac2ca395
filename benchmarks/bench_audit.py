"""Saving one change in a case whose audit trail has N entries (issue 16: the cached head).

Before: ``save()`` hashed every entry file to find the head (O(n)); we reproduce that by
dropping the cached head before each save. After: the head is cached and extended. Also
measured: opening the case (the rollback check hashes every entry once) and the first
consent check after a change (the signed trail is replayed: every entry is decrypted and
its signature checked).

    .venv/bin/python benchmarks/bench_audit.py --entries 5000 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import alternate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--dir", default="/dev/shm" if Path("/dev/shm").exists() else None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as temp:
        os.environ["VIDEOFEEDBACK_STATE_DIR"] = str(Path(temp) / "state")
        run(Path(temp), args.entries, args.rounds)


def run(temp: Path, entries: int, rounds: int) -> None:
    from videofeedback.library import Library, Programme, Purpose, Role, create_case, open_case

    library, alice = Library.create(temp / "lib", "alice", "pw-alice-bench", temp / "r.age", 30)
    library.add_user(alice, "bob", Role.PRACTITIONER, "pw-bob-bench")
    bob = library.unlock("bob", "pw-bob-bench")
    case = create_case(bob, "Bench", Programme.VIG, date(2026, 1, 1))
    mother = case.participants.add("M", "mother")
    case.consent.set(mother, Purpose.FILMING, True)
    start = time.perf_counter()
    while case.audit_log().head()[0] < entries:
        case.audit("case.open", case.id)
    print(f"{entries} entries written in {time.perf_counter() - start:.1f} s")
    case.save()

    def change() -> None:
        case.goals.add("one more goal")

    def save_uncached() -> None:  # what every save did before: hash every entry file
        change()
        case.audit_log().forget_head()
        case.save()

    def save_cached() -> None:
        change()
        case.save()

    medians = alternate(
        {
            "save, head from every entry (before)": save_uncached,
            "save, cached head (after)": save_cached,
        },
        rounds,
    )
    for name, timing in medians.items():
        print(f"{name:<40} {timing.wall * 1000:8.1f} ms wall  {timing.cpu * 1000:8.1f} ms CPU")

    def reopen() -> None:
        open_case(bob, case.id).save()

    def consent_check() -> None:
        fresh = open_case(bob, case.id)
        fresh.consent.status(mother, Purpose.FILMING)

    case.consent.status(mother, Purpose.FILMING)  # the open case has replayed its trail

    def consent_after_change() -> None:
        change()
        case.consent.status(mother, Purpose.FILMING)  # replays the new entry only

    more = alternate(
        {
            "open_case (rollback check) + save": reopen,
            "open_case + first consent check (replay)": consent_check,
            "one change + consent check (incremental)": consent_after_change,
            # what the supervision panel reads after a change while it is shown (issue 20)
            "audit table: verify + read every entry": lambda: (
                case.verify_audit(),
                case.audit_log().entries([case.identity]),
            ),
        },
        3,
    )
    for name, timing in more.items():
        print(f"{name:<40} {timing.wall * 1000:8.1f} ms wall  {timing.cpu * 1000:8.1f} ms CPU")
    library.close()


if __name__ == "__main__":
    main()
