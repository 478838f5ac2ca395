"""Each view on its own: unlock, cases, case (consent at a glance), record refused without
consent, the idle lock, and errors shown as dialogs."""

from PySide6.QtWidgets import QMessageBox

from tests.ui.conftest import open_first_case, unlock
from videofeedback.library import Library
from videofeedback.library.cases import Purpose, list_cases, open_case


def dialogs(window):
    return [w for w in window.findChildren(QMessageBox) if w.isVisible()]


def test_unlock_screen_shows_the_demo_users_and_refuses_a_wrong_passphrase(qtbot, window):
    view = window.unlock_view
    assert window.stack.currentWidget() is view
    assert "pat-demo-passphrase" in view.demo.text() and "sam" in view.demo.text()
    assert view.user.currentText() == "pat"
    view.passphrase.setText("not it")
    view.unlock()
    qtbot.waitUntil(lambda: bool(dialogs(window)), timeout=15_000)
    assert "wrong passphrase for pat" in dialogs(window)[0].text()
    assert window.state.user is None and window.stack.currentWidget() is view


def test_cases_then_the_case_with_consent_sessions_and_goals(qtbot, window):
    unlock(qtbot, window)
    assert window.cases_view.cases.item(0).text().startswith("Family A (demo)")
    open_first_case(qtbot, window)
    view = window.case_view
    assert view.title.text() == "Family A (demo)"
    assert view.consent.rowCount() == 2
    names = {view.consent.item(r, 0).text() for r in range(2)}
    assert names == {"Amira (demo)", "Lily (demo)"}
    assert all(view.consent.item(r, 2).text() == "✔ given" for r in range(2))
    assert view.sessions.topLevelItemCount() == 1
    assert view.sessions.topLevelItem(0).child(0).text(0) == "recording"
    assert [len(g.scores) for g in view.goals.goals] == [4, 3]


def test_recording_is_refused_when_filming_consent_is_withdrawn(qtbot, window, monkeypatch):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    mother = window.case.participants.all()[0].id
    window.case.consent.set(mother, Purpose.FILMING, False)
    window.case.save()
    window.case_view.refresh()
    qtbot.waitUntil(lambda: window.case_view.consent.item(0, 2).text() == "✖ withdrawn")
    window.case_view.sessions.setCurrentItem(window.case_view.sessions.topLevelItem(0))
    window.case_view.buttons["record"].click()
    record = window.record_view
    assert window.stack.currentWidget() is record
    assert not record.start_stop.isEnabled() and not record.import_button.isEnabled()
    assert "withdrew consent to filming" in record.consent.text()


def test_consent_is_recorded_from_the_table(qtbot, window, monkeypatch):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    column = 2 + list(Purpose).index(Purpose.TRAINING)
    window.case_view.consent.item(1, column).setText("✖ withdrawn")  # the cell is not the model
    window.case_view._on_consent_double_clicked(1, column)
    person = window.case.participants.all()[1].id
    status = window.case.consent.status
    qtbot.waitUntil(lambda: status(person, Purpose.TRAINING)[0] == "withdrawn", timeout=10_000)
    qtbot.waitUntil(lambda: window.case_view.consent.item(1, column).text() == "✖ withdrawn")
    library = Library(window.state.library.folder)
    user = library.unlock("pat", "pat-demo-passphrase", sleep=lambda _: None)
    stored = open_case(user, list_cases(user)[0].id).consent.table()
    assert stored[1].status[Purpose.TRAINING] == "withdrawn"
    assert stored[0].status[Purpose.TRAINING] == "given"


def test_idle_lock_hides_the_case(qtbot, window):
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    window.idle.timer.start(50)  # the setting is in minutes; the test cannot wait that long
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.unlock_view, timeout=5_000)
    assert window.state.user is None and window.case is None
    assert window.case_view.title.text() == "" and window.case_view.consent.rowCount() == 0
    assert window.cases_view.cases.count() == 0
    unlock(qtbot, window)  # and back in
    assert window.cases_view.cases.count() == 1


def test_lock_button_and_activity_keeps_it_unlocked(qtbot, window):
    unlock(qtbot, window)
    window.idle.timer.start(400)
    for _ in range(4):
        qtbot.wait(150)
        qtbot.keyPress(window.cases_view.cases, "a")  # activity restarts the timer
    assert window.state.user is not None
    window.idle.timer.setInterval(window.state.idle_lock_minutes() * 60_000)
    window.lock_action.trigger()
    assert window.state.user is None and window.stack.currentWidget() is window.unlock_view


def test_a_camera_is_offered_and_records(qtbot, window, tmp_path, monkeypatch):
    """No camera is attached to CI: OpenCV opens a file in its place."""
    import subprocess

    from clips.ffmpeg import ffmpeg_exe
    from ui import record_view

    film = tmp_path / "camera.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-t", "5", "-pix_fmt", "yuv420p", str(film)],
        check=True,
    )  # fmt: skip
    monkeypatch.setattr(record_view, "cameras", lambda: [str(film)])
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    window.case_view.new_recording_session("Play with blocks 2")
    record = window.record_view
    qtbot.waitUntil(lambda: record.source.count() == 2, timeout=10_000)  # found in a job
    assert record.source.currentData() == str(film)
    assert record.source.itemText(1) == "Synthetic test picture and tone"
    record.start_stop.click()
    qtbot.waitUntil(lambda: record.timer.text() == "00:01", timeout=10_000)
    record.start_stop.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.review_view, timeout=30_000)
    problems = [w.text() for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert all(p.startswith("the microphone gave no sound") for p in problems)
    rows = window.case.db.execute("SELECT info FROM media WHERE kind = 'recording'").fetchall()
    assert len(rows) == 2 and '"width": 1280' in rows[-1][0]


def test_a_new_library_is_created_from_the_start_screen(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox

    from ui.main_window import MainWindow

    folder, key = tmp_path / "new-library", tmp_path / "recovery.age"
    folder.mkdir()
    strong = "ana-quiet-harbour-lantern"
    answers = iter(
        [("ana", True), ("a long passphrase", True), (strong, True), ("typo", True)]
        + [(strong, True), (strong, True)]
    )  # too weak, then a repeat that differs, then the same passphrase twice
    labels = []

    def answer(parent, title, label, *rest, **kw):
        labels.append(label)
        return next(answers)

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(key), ""))
    monkeypatch.setattr(QInputDialog, "getText", answer)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.unlock_view.create_requested.emit()
    assert (folder / "manifest.json").exists() and key.exists()
    assert "too easy to guess" in labels[2] and "differ" in labels[4]
    shown = window.findChild(QMessageBox, "recoverySecretDialog")
    assert shown is not None and shown.text().count("-") >= 7
    shown.close()
    assert window.unlock_view.user.currentText() == "ana"
    assert window.unlock_view.passphrase.echoMode() == QLineEdit.EchoMode.Password
    assert not window.unlock_view.demo.isVisibleTo(window.unlock_view)
    window.unlock_view.passphrase.setText(strong)
    window.unlock_view.unlock()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.cases_view, timeout=15_000)
    assert window.state.user.name == "ana" and window.cases_view.cases.count() == 0
    window.close()
