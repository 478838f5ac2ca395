"""Operations and the review's redraws at scale (issue 15).

1. Timeline repaint after one moment changes, 5,000 moments: the change goes through the
   model's event to the timeline, which repaints only the old and new rectangles (p50/p95
   over the rounds), against the old way (every moment handed over again, the whole
   widget repainted).
2. Saving one moment in a case with 2,000 moments and 5,000 audit entries through the
   case's queue (CaseOp's path): the time on the calling (GUI) thread, which is the snapshot
   of the annotations only, and the time until the save is done on the case's thread,
   against a save on the calling thread as before.

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_operations.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from annotations import Annotations, Editor, builtin_codebook  # noqa: E402
from annotations.model import Moment  # noqa: E402
from benchmarks.common import machine  # noqa: E402
from ui.timeline import HEIGHT, Timeline, TimelineData  # noqa: E402
from videofeedback.library import Library, Programme, Purpose, Role, create_case  # noqa: E402
from videofeedback.library.annotating import AnnotationSession  # noqa: E402
from videofeedback.library.audit import AuditLog, chain_next  # noqa: E402
from videofeedback.operations import runner_for, save_annotations  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def moments(count: int, coder: str = "pat") -> list[Moment]:
    return [
        Moment(f"mo-{n:05d}", Fraction(n, 2), Fraction(n, 2) + Fraction(2, 5), ("attentive",),
               f"moment {n}", "", coder)
        for n in range(count)
    ]  # fmt: skip


def bench_timeline(rounds: int, count: int = 5_000) -> None:
    app = QApplication.instance() or QApplication([])
    model = Annotations("m-1", Fraction(30), Fraction(count, 2) + 1, builtin_codebook("vig"))
    model.moments = moments(count)
    editor = Editor(model, "pat")
    timeline = Timeline()
    timeline.resize(1600, HEIGHT)
    timeline.show()
    timeline.set_data(TimelineData(duration=model.duration or Fraction(1), fps=Fraction(30)))
    timeline.watch(model)
    app.processEvents()
    incremental, cpu, full = [], [], []
    for n in range(rounds):
        changed = model.moments[(n * 37) % count]
        started, started_cpu = time.perf_counter(), time.thread_time()
        editor.trim(changed.id, changed.start, (changed.end or changed.start) + Fraction(1, 30))
        app.processEvents()  # the repaint of what the event changed
        incremental.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    for n in range(min(rounds, 50)):
        changed = model.moments[(n * 41) % count]
        started = time.perf_counter()
        editor.trim(changed.id, changed.start, (changed.end or changed.start) + Fraction(1, 30))
        timeline.set_annotations(model.in_time_order(), model.stills, model.codebook)
        timeline.repaint()  # as before: every moment again, the whole widget
        full.append(time.perf_counter() - started)
    print(f"timeline, one moment changed of {count}: event → repaint of its rectangles: "
          f"{percentiles(incremental)} ({rounds} rounds)")  # fmt: skip
    print(f"  the GUI thread's CPU time for it: {percentiles(cpu)} (wall time above includes "
          "waiting for a core on a shared machine)")  # fmt: skip
    print(f"  before (all moments again, whole widget repainted): {percentiles(full)}")
    timeline.close()


def remembered_head(original: Callable[[AuditLog], tuple[int, bytes]]) -> Callable[..., object]:
    """AuditLog.head kept in memory while the fixture's 5,000 entries are written."""
    known: dict[str, tuple[int, bytes]] = {}

    def head(log: AuditLog) -> tuple[int, bytes]:
        now = known.get(str(log.folder)) or original(log)
        while (path := log._entries_dir / f"{now[0] + 1:012d}.age").exists():
            now = (now[0] + 1, chain_next(now[1], path.read_bytes()))
        known[str(log.folder)] = now
        return now

    return head


def bench_save(entries: int = 5_000, count: int = 2_000, rounds: int = 5) -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "lib"
        library, alice = Library.create(folder, "alice", "pw-alice", Path(temp) / "r.age", 30)
        library.add_user(alice, "bob", Role.PRACTITIONER, "pw-bob")
        bob = library.unlock("bob", "pw-bob")
        case = create_case(bob, "Family B", Programme.VIG, date(2026, 1, 5))
        case.consent.set(case.participants.add("Bea", "mother"), Purpose.FILMING, True)
        original = AuditLog.head
        AuditLog.head = remembered_head(original)  # type: ignore[method-assign,assignment]
        for n in range(entries):
            case.audit("bench.filler", f"x-{n}")
        AuditLog.head = original  # type: ignore[method-assign]
        case.save()
        model = Annotations("m-big", Fraction(30), None, None, moments(count, "bob"))
        notes = AnnotationSession(case, model, Editor(model, "bob"))
        caller, whole, before = [], [], []
        runner = runner_for(case)
        for n in range(rounds):
            notes.editor.caption(model.moments[n].id, f"changed {n}")
            started = time.perf_counter()
            future = runner.submit(save_annotations(notes))  # what CaseOp does
            caller.append(time.perf_counter() - started)
            future.result()
            whole.append(time.perf_counter() - started)
            started = time.perf_counter()
            notes.save()  # as before: on the calling thread
            before.append(time.perf_counter() - started)
        print(f"saving one moment ({count} moments, {entries} audit entries):")
        print(f"  on the GUI thread now (the snapshot, then queued): {percentiles(caller)}")
        print(f"  until saved on the case's thread: {percentiles(whole)}")
        print(f"  before, all of it on the GUI thread: {percentiles(before)}")
        library.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    print(machine())
    bench_timeline(args.rounds)
    bench_save()


if __name__ == "__main__":
    main()
