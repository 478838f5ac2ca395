import os
import sys

import pytest

from tests import fast_scrypt

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Identity files at scrypt 2^10 in this process and in every process it starts
# (tests/fast_scrypt.py says why that cannot reach a real library).
fast_scrypt.install()
os.environ["PYTHONPATH"] = fast_scrypt.child_pythonpath()


@pytest.fixture
def production_scrypt(monkeypatch):
    """The application's scrypt work factor (2^18), for tests about key derivation itself."""
    from encryption import keys

    monkeypatch.setattr(keys, "MIN_WRITE_WORK_FACTOR", 18)
    return 18


# --- Qt: only the tests that need it get a QApplication -------------------------------------
# Tests of encryption/, annotations/ and clips/ run without Qt (they even pass with PySide6
# unimportable: tests/test_headless.py). Widget tests (tests/ui) get pytest-qt's `qapp`; a test
# whose code draws captions (videofeedback.captions) asks for `qt_gui`.


@pytest.fixture(scope="session")
def _one_qapplication(qapp):
    """The one QApplication of the run (pytest-qt's): widget tests and caption drawing share it."""
    return qapp


@pytest.fixture
def qt_gui(_one_qapplication):
    """For tests whose code draws captions or title cards: without it, captions would make a
    bare QGuiApplication, which the widget tests run after it in this process could not use."""
    return _one_qapplication


@pytest.fixture(autouse=True)
def _no_stray_qt_application(request):
    """Fails a test that made a Qt application without asking for one (it would break the
    widget tests that run after it in the same process, depending on the order)."""
    had_one = _qt_application() is not None
    yield
    app = _qt_application()
    if had_one or app is None:
        return
    widgets = sys.modules.get("PySide6.QtWidgets")
    if widgets is not None and isinstance(app, widgets.QApplication):
        return
    pytest.fail(
        f"{request.node.nodeid} made a bare QGuiApplication (captions?): ask for the qt_gui "
        "fixture so that it is the run's one QApplication"
    )


def _qt_application() -> object | None:
    gui = sys.modules.get("PySide6.QtGui")
    return None if gui is None else gui.QGuiApplication.instance()
