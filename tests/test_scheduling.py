"""The test scheduler's bookkeeping when a pytest-xdist worker dies (tests/scheduling.py): a
crash must end as a red run, never a hang (xdist 3.8's loadfile scheduler hung)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

from tests.scheduling import HeavyFirstFileScheduling

COLLECTION = ["a.py::t1", "a.py::t2", "a.py::t3", "b.py::t1", "c.py::t1", "c.py::t2", "d.py::t1"]


class Node:
    """A worker as the scheduler sees it: what it was sent, and whether it was told to stop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[list[int]] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        assert not self.shutting_down, f"{self.name} sent tests after its shutdown"
        self.sent.append(list(indices))

    def shutdown(self) -> None:
        self.shutting_down = True


def scheduler(nodes: list[Node]) -> HeavyFirstFileScheduling:
    config = SimpleNamespace(
        getvalue=lambda name: [f"{len(nodes)}*popen"] if name == "tx" else None,
        option=SimpleNamespace(loadscopereorder=False),
    )
    sched = HeavyFirstFileScheduling(config, None, {})  # type: ignore[arg-type]
    for node in nodes:
        sched.add_node(node)  # type: ignore[arg-type]
        sched.add_node_collection(node, COLLECTION)  # type: ignore[arg-type]
    sched.schedule()
    return sched


def complete(sched: HeavyFirstFileScheduling, node: Node, nodeid: str) -> None:
    sched.mark_test_complete(node, COLLECTION.index(nodeid))  # type: ignore[arg-type]


def test_a_crashed_worker_s_unrun_tests_go_to_its_replacement_and_the_run_ends() -> None:
    one, two = Node("gw0"), Node("gw1")
    sched = scheduler([one, two])
    assert one.sent == [[0, 1, 2]] and two.sent == [[3], [4, 5]]  # a.py; b.py, c.py (d.py waits)
    crashed = sched.remove_node(two)  # type: ignore[arg-type]  # died in b.py::t1
    assert crashed == "b.py::t1"  # xdist reports it failed; it is not run again
    replacement = Node("gw2")
    sched.add_node(replacement)  # type: ignore[arg-type]
    sched.add_node_collection(replacement, COLLECTION)  # type: ignore[arg-type]
    sched.schedule()
    # d.py, then what two never ran of c.py; never b.py::t1 again, never an empty "runtests";
    # and it is told to stop: a worker holds its last test until it hears of another or of
    # the end (xdist 3.8 sent d.py alone, without shutdown: the run hung)
    assert replacement.sent == [[6], [4, 5]] and replacement.shutting_down
    for nodeid in ("d.py::t1", "c.py::t1", "c.py::t2"):
        complete(sched, replacement, nodeid)
    for nodeid in ("a.py::t1", "a.py::t2", "a.py::t3"):
        complete(sched, one, nodeid)
    assert one.shutting_down and sched.tests_finished and not sched.has_pending


def test_a_worker_crashing_on_its_last_test_leaves_nothing_to_reschedule() -> None:
    one, two = Node("gw0"), Node("gw1")
    sched = scheduler([one, two])
    for nodeid in ("b.py::t1", "c.py::t1", "c.py::t2"):
        complete(sched, two, nodeid)
    assert two.sent == [[3], [4, 5], [6]]
    assert sched.remove_node(two) == "d.py::t1"  # type: ignore[arg-type]  # its last one
    replacement = Node("gw2")
    sched.add_node(replacement)  # type: ignore[arg-type]
    sched.add_node_collection(replacement, COLLECTION)  # type: ignore[arg-type]
    sched.schedule()
    assert replacement.sent == [] and replacement.shutting_down
    for nodeid in ("a.py::t1", "a.py::t2", "a.py::t3"):
        complete(sched, one, nodeid)
    assert sched.tests_finished and not sched.has_pending


def test_a_worker_that_dies_ends_the_run_red_not_hung(tmp_path: Path) -> None:
    """End to end: real xdist workers, one killed by SIGSEGV mid-file."""
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            from tests.scheduling import HeavyFirstFileScheduling

            def pytest_xdist_make_scheduler(config, log):
                config.option.loadscopereorder = False
                return HeavyFirstFileScheduling(config, log, {})
            """
        )
    )
    (tmp_path / "test_a.py").write_text("def test_1():\n    pass\n\ndef test_2():\n    pass\n")
    (tmp_path / "test_b.py").write_text(
        "import os, signal\n\ndef test_crash():\n    os.kill(os.getpid(), signal.SIGSEGV)\n\n"
        "def test_after():\n    pass\n"
    )
    repo = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "1",
            "--dist",
            "loadfile",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            "-q",
            "test_b.py",
            "test_a.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,  # a hang (xdist 3.8) fails here
        env={**__import__("os").environ, "PYTHONPATH": str(repo)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 3 passed" in result.stdout, result.stdout
