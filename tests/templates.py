"""Read-only templates (a demo library) that tests copy, built once per run of the suite."""

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

#: A folder for the run's templates: ./test.sh makes one for both its phases; a bare pytest
#: run makes its own (tests/conftest.py), which xdist workers inherit.
SHARED = "VIDEOFEEDBACK_TEST_SHARED"


def built_once(name: str, build: Callable[[Path], None]) -> Path:
    """The template ``name``: the first process (xdist worker or the real-time phase) to ask
    builds it, the others wait for it and use it. Tests copy it, never change it."""
    root = Path(os.environ[SHARED])
    folder = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released if the builder dies
        if not folder.exists():
            partial = root / f"{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            build(partial)
            partial.rename(folder)
    return folder
