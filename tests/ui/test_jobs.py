"""Long work runs off the GUI thread through one helper; the window shows it with a progress
bar and a Cancel button; errors become dialogs; a cancelled import leaves nothing behind."""

import subprocess
import threading

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox, QWidget

from clips.ffmpeg import ffmpeg_exe
from tests.ui.conftest import open_first_case, unlock
from ui.jobs import Jobs
from videofeedback.library.errors import LibraryError


def test_work_runs_off_the_gui_thread_and_reports_back(qtbot):
    jobs = Jobs()
    threads, results, errors = [], [], []

    def work(context):
        threads.append(threading.current_thread())
        context.report(0.5)
        return 42

    jobs.start("sum", work, results.append)
    # not waitSignal(job.finished): on a busy machine the thread can end before it connects
    qtbot.waitUntil(lambda: results == [42] and not jobs.running, timeout=5_000)
    assert threads[0] is not threading.main_thread()

    def failing(context):
        raise LibraryError("there is no case c-0000000000")

    job = jobs.start("fail", failing, on_failure=errors.append)
    qtbot.waitUntil(lambda: errors == ["there is no case c-0000000000"], timeout=5_000)
    qtbot.waitUntil(lambda: not jobs.running, timeout=5_000)  # ended, and let go of
    assert job not in jobs.running


def test_a_dropped_file_imports_with_progress_and_cancel_leaves_nothing(qtbot, window, tmp_path):
    film = tmp_path / "phone.mp4"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-t",
            "60",
            "-c:v",
            "mpeg4",
            "-q:v",
            "5",
            str(film),
        ],
        check=True,
    )
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    session = window.case_view.sessions.topLevelItem(0)
    window.case_view.sessions.setCurrentItem(session)
    window.case_view.buttons["record"].click()
    media_before = set((window.case.folder / "media").iterdir())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(film))])
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.record_view.dropEvent(drop)  # dropped on the record view
    qtbot.waitUntil(lambda: window.job_progress.isVisible(), timeout=5_000)
    qtbot.waitUntil(lambda: window.job_progress.value() > 0, timeout=30_000)
    assert window.job_label.text() == "Importing phone.mp4"
    assert len(window.jobs.running) == 1
    window.job_cancel.click()
    qtbot.waitUntil(lambda: not window.jobs.running, timeout=30_000)
    qtbot.waitUntil(lambda: not window.job_progress.isVisible(), timeout=5_000)
    assert set((window.case.folder / "media").iterdir()) == media_before
    assert window.case.db.execute("SELECT count(*) FROM media").fetchone()[0] == 1
    assert not [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_a_failed_import_is_one_dialog(qtbot, window, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(5000))
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    window.case_view.sessions.setCurrentItem(window.case_view.sessions.topLevelItem(0))
    window.case_view.buttons["record"].click()
    window.record_view.import_file(broken)
    qtbot.waitUntil(
        lambda: any(w.isVisible() for w in window.findChildren(QMessageBox)), timeout=30_000
    )
    [dialog] = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert "broken.mp4" in dialog.text() and "\n" not in dialog.text()
    assert isinstance(dialog.parent(), QWidget)
