"""Loaded by Python at start-up in processes the tests start (PYTHONPATH): test work factor."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout, for tests.*
from tests import fast_scrypt  # noqa: E402

sys.path.pop(0)
fast_scrypt.install()
