import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="session", autouse=True)
def _one_qapplication():
    """One QApplication for the whole run, made before any code makes a QGuiApplication
    (captions do), so that the app's widget tests can run after the media tests."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    yield app
