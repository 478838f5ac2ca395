"""A fresh clone with nothing beside it (no ../shared) collects every test, runs the ones that
use test data from tests/data, and skips those that need the external media corpus, each
with one line saying what is missing and how to supply it."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.paths import CORPUS_VARIABLE, OUTSIDE, REPO

NOT_IN_A_CLONE = (".git", ".venv", "__pycache__", ".*_cache", ".hypothesis", "out", "*.egg-info")
IMPORTS = "tests/media/test_import_and_stills.py::test_every_real_file_imports"
NEEDS_CORPUS = [
    *(f"{IMPORTS}[{name}]" for name in OUTSIDE if "truncated" not in name),
    "tests/media/test_import_and_stills.py::test_damaged_file_is_refused_and_leaves_nothing",
    "tests/media/test_import_and_stills.py::test_cancelled_import_leaves_nothing",
    "tests/media/test_overview.py::test_silent_import_has_flat_peaks",
    "tests/cli/test_media_commands.py::test_media_workflow_through_the_cli",
]
IN_THE_REPOSITORY = ["tests/encryption/test_cctv_vectors.py"]


def pytest_in(folder, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOFEEDBACK_")}
    env["PYTHONPATH"] = ""  # the clone's own tests/fast_scrypt_site is added by its conftest
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


@pytest.mark.slow
def test_a_clone_without_shared_collects_everything_and_skips_only_the_corpus_tests(tmp_path):
    clone = tmp_path / "clone"  # tmp_path has no "shared" folder beside it
    shutil.copytree(REPO, clone, ignore=shutil.ignore_patterns(*NOT_IN_A_CLONE))
    assert not (tmp_path / "shared").exists()

    collected = pytest_in(clone, "--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-2000:]
    assert re.search(r"^\d{3,} tests collected", collected.stdout, re.M), collected.stdout[-500:]

    done = pytest_in(clone, "-rs", *NEEDS_CORPUS, *IN_THE_REPOSITORY)
    print(done.stdout[-4000:])  # the skip lines, as a contributor sees them
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips and all(CORPUS_VARIABLE in line and "shared/media" in line for line in skips)
    assert sum(int(re.search(r"\[(\d+)\]", line)[1]) for line in skips) == len(NEEDS_CORPUS)
    assert re.search(rf"\d+ passed, {len(NEEDS_CORPUS)} skipped", done.stdout), done.stdout[-500:]
