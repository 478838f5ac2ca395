"""The player reads the encrypted recording through a decrypting QIODevice: it plays, and a
seek or a frame step shows exactly the frame asked for."""

from fractions import Fraction

from PySide6.QtCore import QIODevice

from annotations import ReelItem, ReelPlan
from encryption import read_encrypted
from tests.paths import REPO
from tests.ui.conftest import SECONDS
from tests.ui.helpers import frame_number
from ui.player import DecryptingDevice, Player
from videofeedback import media
from videofeedback.library import Library
from videofeedback.library.cases import list_cases, open_case


def _case(library_folder):
    library = Library(library_folder)
    user = library.unlock("pat", "pat-demo-passphrase", sleep=lambda _: None)
    return open_case(user, list_cases(user)[0].id)


def _recording(library_folder):
    case = _case(library_folder)
    record = case.db.execute("SELECT file FROM media").fetchone()
    return case.folder / record[0], case.identity


def test_device_reads_the_plaintext_at_any_offset(library):
    path, identity = _recording(library)
    plain = read_encrypted(path, [identity])
    device = DecryptingDevice(path, [identity])
    assert device.open(QIODevice.OpenModeFlag.ReadOnly)
    assert device.size() == len(plain) and not device.isSequential()
    for offset in (0, 1000, len(plain) // 2, len(plain) - 10):
        device.seek(offset)
        assert bytes(device.read(10).data()) == plain[offset : offset + 10]
    device.close()
    assert bytes(device.read(10).data()) == b""


def test_player_plays_then_seeks_to_the_exact_frame(qtbot, library):
    path, identity = _recording(library)
    player = Player()
    frames = []
    player.frame_ready.connect(frames.append)
    player.load(path, [identity], Fraction(30))
    qtbot.waitUntil(lambda: player.duration() > 0, timeout=15_000)
    assert abs(player.duration() - SECONDS) < Fraction(1, 10)
    player.play()
    qtbot.waitUntil(lambda: player.seconds() > Fraction(1, 2), timeout=15_000)
    assert len(frames) > 5
    player.pause()

    for target in (100, 37, 151):
        player.seek_frame(target)
        qtbot.waitUntil(lambda t=target: frames and frame_number(frames[-1]) == t, timeout=10_000)
    player.step(1)
    qtbot.waitUntil(lambda: frame_number(frames[-1]) == 152, timeout=10_000)
    player.step(-30)
    qtbot.waitUntil(lambda: frame_number(frames[-1]) == 122, timeout=10_000)
    assert player.frame() == 122
    player.unload()


def test_a_smart_cut_draft_plays_and_seeks_to_the_exact_frame(qtbot, library):
    """Drafts are written by clips.muxer, not ffmpeg: x264's re-encoded heads, the recording's
    own GOPs (the last cut short) and copied sound, in one fragmented MP4 QMediaPlayer plays."""
    case = _case(library)
    media_id, session_id = case.db.execute(
        "SELECT id, session_id FROM media WHERE kind = 'recording'"
    ).fetchone()
    spans = [(17, 100), (5, 40)]
    items = [ReelItem("clip", media_id, Fraction(a, 30), Fraction(b, 30)) for a, b in spans]
    reel = media.draft_reel(case, session_id, ReelPlan(tuple(items), fade=Fraction(0)))
    player = Player()
    frames = []
    player.frame_ready.connect(frames.append)
    player.load(case.folder / case.media.get(reel).file, [case.identity], Fraction(30))
    qtbot.waitUntil(lambda: player.duration() > 0, timeout=15_000)
    assert abs(player.duration() - Fraction(83 + 35, 30)) < Fraction(1, 10)
    player.play()
    qtbot.waitUntil(lambda: player.seconds() > Fraction(1, 2), timeout=15_000)
    player.pause()
    shown = [n for a, b in spans for n in range(a, b)]
    for target in (0, 12, 13, 82, 83, 96, 117):  # heads, copied GOPs, the joins, the end
        player.seek_frame(target)
        expected = shown[target]
        qtbot.waitUntil(lambda e=expected: frames and frame_number(frames[-1]) == e, timeout=10_000)
    player.unload()


def test_playing_then_unloading_many_times_never_hangs(library):
    """Stopping joins the player's demuxer thread; a read of it into Python while the GUI
    thread holds the interpreter lock would hang forever. Run apart, with a time limit."""
    import subprocess
    import sys
    import textwrap

    path, identity = _recording(library)
    code = textwrap.dedent(
        f"""
        import os, time
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from fractions import Fraction
        from pathlib import Path
        from PySide6.QtWidgets import QApplication
        from encryption import X25519Identity
        from ui.player import Player
        app = QApplication([])
        identity = X25519Identity.parse({str(identity.newest)!r})
        player = Player()
        for round in range(25):
            player.load(Path({str(path)!r}), [identity], Fraction(30))
            loading = time.monotonic() + 10
            while player.duration() == 0 and round % 3:  # loaded, then playing, then gone
                app.processEvents()
                assert time.monotonic() < loading, f"round {{round}} never loaded"
            player.play(4.0)
            end = time.monotonic() + 0.05 * (round % 5)
            while time.monotonic() < end:
                app.processEvents()
            player.unload(wait=round % 2 == 0)
        player.unload(wait=True)
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
