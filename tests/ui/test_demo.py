"""The newcomer's path: ``videofeedback demo`` makes the demo library once (a practitioner and
a supervisor, a family case with consent, a 2-minute recording with VIG moments) and reuses it;
the app opens on it showing the demo passphrases."""

import json

import pytest

from tests.ui.conftest import open_first_case, open_review, unlock
from ui.main import main
from ui.main_window import MainWindow
from videofeedback.library import Library
from videofeedback.library.annotating import open_annotations
from videofeedback.library.cases import list_cases, open_case


@pytest.mark.slow
def test_demo_is_made_once_then_reused_and_opens_in_the_app(qtbot, tmp_path, capsys):
    folder = tmp_path / "demo"
    assert main(["demo", "--no-app", "--json", "--library", str(folder)]) == 0
    told = json.loads(capsys.readouterr().out)
    assert told["passphrases"]["pat"] == "pat-demo-passphrase" and "sam" in told["passphrases"]
    stamp = (folder / "manifest.json").stat().st_mtime_ns
    assert main(["demo", "--no-app", "--library", str(folder)]) == 0
    assert "pat-demo-passphrase" in capsys.readouterr().out
    assert (folder / "manifest.json").stat().st_mtime_ns == stamp  # reused, not rebuilt

    library = Library(folder)
    assert {u: r.role for u, r in library.manifest.users.items()} == {
        "admin": "admin",
        "pat": "practitioner",
        "sam": "supervisor",
    }
    for user in ("pat", "sam"):
        session = library.unlock(user, f"{user}-demo-passphrase", sleep=lambda _: None)
        [summary] = list_cases(session)
        case = open_case(session, summary.id)
        assert all(
            v == "given"
            for row in case.consent.table()
            for v in row.status.values()
        )
    media_id = case.db.execute("SELECT id FROM media").fetchone()[0]
    notes = open_annotations(case, media_id).annotations
    assert notes.duration == 120 and len(notes.moments) == 6
    assert all(m.codes and m.caption for m in notes.moments)

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.open_library(folder)
    assert "sam-demo-passphrase" in window.unlock_view.demo.text()
    unlock(qtbot, window)
    open_first_case(qtbot, window)
    review = open_review(qtbot, window)
    assert len(review.timeline.moments) == 6 and len(review.timeline.data.thumbnails) == 60
    review.close_media()
    window.close()


def test_other_arguments_go_to_the_command_line(capsys, tmp_path):
    assert main(["case", "list", "--library", str(tmp_path / "none"), "--user", "x"]) == 1
    assert "library" in capsys.readouterr().err


def test_without_a_display_the_app_says_so(capsys, monkeypatch):
    for variable in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(variable, raising=False)
    assert main([]) == 1
    assert "no display" in capsys.readouterr().err
