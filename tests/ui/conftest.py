import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from clips.synthetic import SyntheticSource
from tests.templates import built_once
from ui.main_window import MainWindow
from videofeedback.demo import MARKER, build_demo_library

SECONDS = 30
PASSPHRASE = "pat-demo-passphrase"


@pytest.fixture(scope="session", autouse=True)
def _widgets_app(_one_qapplication):
    """Every widget test gets the run's one QApplication (tests/conftest.py)."""
    return _one_qapplication


@pytest.fixture(scope="session")
def small_demo() -> Path:
    """A demo library with a 30 s, 640×360 recording (two moments, fitting) (the real demo has
    2 minutes at 720p), built once per run of the suite (tests/conftest.py, built_once)."""

    def build(folder: Path) -> None:
        build_demo_library(folder, lambda _: None, SECONDS, SyntheticSource(640, 360, voice=True))
        (folder / MARKER).write_text("demo\n")

    return built_once("small-demo", build)


@pytest.fixture
def library(small_demo, tmp_path, monkeypatch) -> Path:
    """A fresh copy for each test, which may change it, opened as on a computer of its own:
    copies of one library share its id, and this computer would take an earlier test's
    longer trail for the newer one and refuse the copy as rolled back (FORMAT.md, 10.1)."""
    folder = tmp_path / "lib"
    shutil.copytree(small_demo, folder)
    monkeypatch.setenv("VIDEOFEEDBACK_STATE_DIR", str(tmp_path / "state"))
    return folder


@pytest.fixture
def window(qtbot, library):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_library(library)
    yield window
    window.close()


def unlock(qtbot, window, user="pat", passphrase=PASSPHRASE):
    view = window.unlock_view
    view.user.setCurrentText(user)
    view.passphrase.setText(passphrase)
    view.unlock()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.cases_view, timeout=15_000)
    qtbot.waitUntil(lambda: window.cases_view.cases.count() > 0, timeout=10_000)


def open_first_case(qtbot, window):
    item = window.cases_view.cases.item(0)
    window.cases_view.cases.itemActivated.emit(item)
    assert window.stack.currentWidget() is window.case_view
    # the view reads the case in the case's queue, then shows it
    qtbot.waitUntil(lambda: window.case_view.showing is window.case, timeout=10_000)


def shared_review_of(qtbot, window):
    """The shared review window, once its session is made (in the case's queue)."""
    qtbot.waitUntil(lambda: window.shared_review is not None, timeout=60_000)
    return window.shared_review


def recording_item(window):
    """The demo recording in the case view's session tree (sessions of a day come in any order)."""
    tree = window.case_view.sessions
    for index in range(tree.topLevelItemCount()):
        session = tree.topLevelItem(index)
        for child in range(session.childCount()):
            if session.child(child).data(0, Qt.ItemDataRole.UserRole)[2] == "recording":
                return session.child(child)
    raise AssertionError("no recording in the case view")


def open_review(qtbot, window):
    window.case_view.sessions.setCurrentItem(recording_item(window))
    window.case_view.buttons["review"].click()
    review = window.review_view
    qtbot.waitUntil(lambda: review.notes is not None, timeout=30_000)
    qtbot.waitUntil(lambda: review.player.duration() > 0, timeout=15_000)
    return review


def frame_seconds(frame: int, fps: int = 30) -> Fraction:
    return Fraction(frame, fps)
