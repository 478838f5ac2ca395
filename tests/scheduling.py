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
