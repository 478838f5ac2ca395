import os
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# What a computer remembers of its libraries (pinned administrators, signed heads) lives
# outside the library folder; the tests keep theirs in a folder of their own.
os.environ.setdefault(
    "VIDEOFEEDBACK_STATE_DIR", tempfile.mkdtemp(prefix="videofeedback-test-state-")
)


@pytest.fixture(scope="session", autouse=True)
def _one_qapplication():
    """One QApplication for the whole run, made before any code makes a QGuiApplication
    (captions do), so that the app's widget tests can run after the media tests."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    yield app
