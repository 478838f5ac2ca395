"""The lists of slow and real-time tests in tests/conftest.py name tests that exist (a renamed
test would otherwise silently move to the quick tier or to the parallel run)."""

import re
from types import SimpleNamespace

import pytest

from tests import conftest, scheduling
from tests.paths import REPO


@pytest.mark.parametrize("entry", [*conftest.SLOW, *conftest.REALTIME])
def test_listed_tests_exist(entry):
    path, _, name = entry.partition("::")
    assert (REPO / path).is_file(), f"{path} (tests/conftest.py) does not exist"
    if name:
        source = (REPO / path).read_text()
        assert re.search(rf"^def {re.escape(name)}\(", source, re.M), f"no {name} in {path}"


@pytest.mark.parametrize("path", [*conftest.HEAVY_FIRST, *conftest.SPLIT])
def test_files_ordered_or_split_exist(path):
    assert (REPO / path).is_file(), f"{path} (tests/conftest.py) does not exist"


@pytest.mark.parametrize(
    ("expression", "leaves_out"),
    [("not slow", True), ("slow", False), ("not slow and not gui", True), ("", False)],
)
def test_the_quick_tier_leaves_out_the_real_time_phase(expression, leaves_out):
    """With -m "not slow" the real-time phase collects nothing (its tests are all slow)."""
    config = SimpleNamespace(getoption=lambda name: {"markexpr": expression}[name])
    assert conftest._leaves_out_slow(config) is leaves_out


def test_parts_of_a_split_file_are_consecutive_and_even():
    tests = [f"a.py::t{i}" for i in range(7)] + ["b.py::u0", "b.py::u1"]
    parts = scheduling.parts_of(tests, {"a.py": 3, "c.py": 2})
    assert [parts[t] for t in tests[:7]] == [
        "a.py::part-0", "a.py::part-0", "a.py::part-0",
        "a.py::part-1", "a.py::part-1",
        "a.py::part-2", "a.py::part-2",
    ]
    assert "b.py::u0" not in parts
    assert scheduling.parts_of(["c.py::only"], {"c.py": 2}) == {"c.py::only": "c.py::part-0"}


def test_heavy_files_go_first_and_each_file_keeps_its_order():
    items = [SimpleNamespace(nodeid=n) for n in ("a.py::1", "b.py::1", "c.py::1", "b.py::2", "a.py::2")]
    scheduling.heavy_first(items, ("c.py", "b.py"))
    assert [i.nodeid for i in items] == ["c.py::1", "b.py::1", "b.py::2", "a.py::1", "a.py::2"]
