"""The lists of slow and real-time tests in tests/conftest.py name tests that exist (a renamed
test would otherwise silently move to the quick tier or to the parallel run)."""

import re

import pytest

from tests import conftest
from tests.paths import REPO


@pytest.mark.parametrize("entry", [*conftest.SLOW, *conftest.REALTIME])
def test_listed_tests_exist(entry):
    path, _, name = entry.partition("::")
    assert (REPO / path).is_file(), f"{path} (tests/conftest.py) does not exist"
    if name:
        source = (REPO / path).read_text()
        assert re.search(rf"^def {re.escape(name)}\(", source, re.M), f"no {name} in {path}"
