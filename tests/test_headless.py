"""The model packages' tests (encryption/, annotations/ and the clips-only media tests) pass
with PySide6 unimportable, as on a server without Qt (napari's headless run): they never
need a QApplication, and nothing they import pulls Qt in."""

import subprocess
import sys

import pytest

from tests.paths import REPO

HEADLESS_TESTS = (
    "tests/encryption",
    "tests/annotations",
    "tests/media/test_fmp4.py",
    "tests/media/test_muxer.py",
)
# PySide6 = None in sys.modules: any 'import PySide6…' raises ImportError. pytest-qt (which
# imports Qt when it starts) and xdist are left out; the run then checks nothing loaded Qt.
DRIVER = """
import sys
sys.modules["PySide6"] = None
import pytest
code = pytest.main(["-p", "no:pytest-qt", "-p", "no:xdist", "-p", "no:cacheprovider",
                    "-q", *sys.argv[1:]])
loaded = [name for name, module in sys.modules.items() if "PySide6" in name and module]
print("QT MODULES:", loaded)
sys.exit(code or bool(loaded))
"""


@pytest.mark.slow
def test_model_tests_pass_without_pyside6():
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, *HEADLESS_TESTS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "QT MODULES: []" in done.stdout
    summary = done.stdout.strip().splitlines()[-2]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    assert int(summary.split()[0]) > 300, summary  # every test ran, none was deselected
