"""Helpers for side-by-side benchmarks: alternate the contenders, report medians and ratios."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import threading
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


class PeakRss:
    """This process's resident memory (psutil if installed, else /proc), sampled every
    20 ms by a thread while the block runs (MB)."""

    def __enter__(self) -> PeakRss:
        self.before = self.peak = rss_mb()
        self.samples: list[float] = [self.before]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.samples.append(rss_mb())
            self.peak = max(self.peak, self.samples[-1])

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())

    def quarters(self) -> list[float]:
        """The peak in each quarter of the samples (flat memory: four similar figures)."""
        n = len(self.samples)
        return [
            max(self.samples[q * n // 4 : max(q * n // 4 + 1, (q + 1) * n // 4)]) for q in range(4)
        ]


def rss_mb() -> float:
    try:
        import psutil  # type: ignore[import-untyped]

        return float(psutil.Process().memory_info().rss) / 1e6
    except ImportError:
        pass
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    return 0.0
