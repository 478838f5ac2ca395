"""Helpers for side-by-side benchmarks: alternate the contenders, report medians and ratios."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"


def run_quiet(argv: Sequence[str | Path], stdout_path: Path | None = None) -> None:
    if stdout_path is None:
        subprocess.run([str(a) for a in argv], check=True, stdout=subprocess.DEVNULL)
        return
    with open(stdout_path, "wb") as out:
        subprocess.run([str(a) for a in argv], check=True, stdout=out)


@dataclass(frozen=True)
class Timing:
    wall: float  # median seconds
    cpu: float  # median user+sys seconds of this process and its children


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def alternate(contenders: dict[str, Callable[[], None]], rounds: int) -> dict[str, Timing]:
    """Run each contender once per round, in turn; return the medians of each."""
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, work in contenders.items():
            start, start_cpu = time.perf_counter(), _cpu_seconds()
            work()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(_cpu_seconds() - start_cpu)
    return {
        name: Timing(statistics.median(wall[name]), statistics.median(cpu[name]))
        for name in contenders
    }


def report(title: str, medians: dict[str, Timing], baselines: Sequence[str]) -> None:
    print(f"\n{title}  (median wall time, ratios; then median CPU time, ratios)")
    for name, timing in medians.items():
        others = [b for b in baselines if b != name]
        wall = "  ".join(f"{timing.wall / medians[b].wall:.2f}x {b}" for b in others)
        cpu = "  ".join(f"{timing.cpu / medians[b].cpu:.2f}x" for b in others)
        print(f"  {name:<34} {timing.wall:7.3f} s {wall:<26} | cpu {timing.cpu:6.2f} s {cpu}")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores"
    return f"{system}, {cpu}, Python {platform.python_version()}"
