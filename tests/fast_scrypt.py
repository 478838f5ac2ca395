"""Test-only: identity files protected by scrypt 2^10 instead of 2^18 (about 1 ms instead of
~0.5-2.5 s a key), so the suite can make and unlock hundreds of identities.

It lowers ``encryption.keys.MIN_WRITE_WORK_FACTOR`` in the test process (tests/conftest.py)
and, through ``sitecustomize`` in tests/fast_scrypt_site on PYTHONPATH, in every Python
process the tests start (the console script, ``python -c`` children). The application never
runs this module (tests/ is not part of the installed package), so it keeps writing 2^18 and
refuses, unread, any identity file below it: a test-made identity cannot protect a real
library (tests/encryption/test_keys.py::test_a_test_made_identity_is_refused_by_the_application).
Tests about key derivation itself use the ``production_scrypt`` fixture.
"""

import os
from pathlib import Path

TEST_WORK_FACTOR = 10
SITE = Path(__file__).resolve().parent / "fast_scrypt_site"


def install() -> None:
    from encryption import keys

    keys.MIN_WRITE_WORK_FACTOR = TEST_WORK_FACTOR


def child_pythonpath(*first: str) -> str:
    """A PYTHONPATH for a child process that also lowers the work factor there."""
    rest = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    parts = [*first, str(SITE), *rest]
    return os.pathsep.join(dict.fromkeys(p for p in parts if p))


def child_env() -> dict[str, str]:
    """Variables to add to a child's own environment so that it reads test-made identities."""
    return {"PYTHONPATH": child_pythonpath()}
