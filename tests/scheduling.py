"""How ./test.sh spreads test files over its pytest-xdist workers (tests/conftest.py).

pytest-xdist's ``--dist loadfile`` gives each worker whole files, in order of their number
of tests: a long file of few tests (a walkthrough of the app) then started last and decided
the end of the run while the other core idled. Here the files that take longest go first
(``HEAVY_FIRST`` in tests/conftest.py, slowest first; the others follow, most tests
first, as before), and the longest files are cut into consecutive parts that different
workers may run (``SPLIT``): their tests are independent of order and keep no state between
them but read-only session templates (tests/templates.py), which each worker builds or
reuses on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from xdist.scheduler import LoadFileScheduling


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def heavy_first(items: list[pytest.Item], heavy: Sequence[str]) -> None:
    """Sorts ``items`` in place: the files of ``heavy`` first, in its order; the tests of one
    file keep their order."""
    rank = {name: index for index, name in enumerate(heavy)}
    items.sort(key=lambda item: rank.get(file_of(item.nodeid), len(rank)))


def parts_of(collection: Sequence[str], split: dict[str, int]) -> dict[str, str]:
    """Each test of a file in ``split`` → its part ("file::part-k"): ``split[file]`` runs of
    consecutive tests of about the same number."""
    by_file: dict[str, list[str]] = {}
    for nodeid in collection:
        if file_of(nodeid) in split:
            by_file.setdefault(file_of(nodeid), []).append(nodeid)
    parts = {}
    for name, nodeids in by_file.items():
        count = min(split[name], len(nodeids))
        for index, nodeid in enumerate(nodeids):
            parts[nodeid] = f"{name}::part-{index * count // len(nodeids)}"
    return parts


class HeavyFirstFileScheduling(LoadFileScheduling):
    """``--dist loadfile`` in the order of the collection (tests/conftest.py puts the heavy
    files first), with the files of ``split`` cut into parts."""

    def __init__(self, config: pytest.Config, log: object, split: dict[str, int]) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self._split = split
        self._parts: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._parts is None:
            collection = next(iter(self.registered_collections.values()))
            self._parts = parts_of(list(collection), self._split)
        return self._parts.get(nodeid) or file_of(nodeid)

    # --- a crashed worker (pytest-xdist 3.8's LoadScopeScheduling hangs the run here) --------
    # xdist's remove_node puts back *every* unit the dead node ever had, completed ones too,
    # and the crashed test still pending: a replacement then got a unit with nothing left to
    # run (an empty "runtests": never completed, the controller waits for ever) or re-ran the
    # crashing test until the restarts were spent. And a re-scheduled replacement was given one
    # unit and no shutdown: a worker holds its last test until it hears of another, so a unit
    # of one test never ran. Upstream: pytest-xdist #1313, #1323, #1327, #1371.

    def remove_node(self, node: Any) -> str | None:
        """Forget ``node``; if it died with tests pending, the test it died on is returned (xdist
        reports it failed) and only the tests that never ran go back to the queue."""
        workload = self.assigned_work.pop(node)
        crashitem = first_pending(workload)
        if crashitem is None:
            return None
        workload[self._split_scope(crashitem)][crashitem] = True  # reported, never re-run
        for scope, unit in workload.items():
            if not all(unit.values()):
                self.workqueue[scope] = unit
        self._feed_all()
        return crashitem

    def schedule(self) -> None:
        """As xdist's; but when a replacement worker joins late, each worker is given tests
        until it holds two (a worker holds its last test until it hears of another or of
        the end: one alone never ran) or, once the queue is empty, told to stop."""
        if self.collection is None:
            super().schedule()
        else:
            self._feed_all()

    def _feed_all(self) -> None:
        for node in self.nodes:
            while (
                self.workqueue
                and not node.shutting_down
                and self._pending_of(self.assigned_work[node]) < 2
            ):
                self._assign_work_unit(node)
        if not self.workqueue:
            for node in self.nodes:
                if not node.shutting_down:
                    node.shutdown()

    def _assign_work_unit(self, node: Any) -> None:
        while self.workqueue and all(next(iter(self.workqueue.values())).values()):
            self.workqueue.popitem(last=False)  # nothing left to run in it: never sent empty
        if self.workqueue:
            super()._assign_work_unit(node)
        elif not node.shutting_down:
            node.shutdown()


def first_pending(workload: dict[str, dict[str, bool]]) -> str | None:
    """The first test of a node's workload that had not completed (the one it was running)."""
    for unit in workload.values():
        for nodeid, completed in unit.items():
            if not completed:
                return nodeid
    return None
