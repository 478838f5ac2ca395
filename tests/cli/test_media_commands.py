"""record → still → import → draft reel → family copy → recover, through the console script;
then no plaintext media in the library or the temp folder."""

import json
import subprocess

from clips.ffmpeg import ffmpeg_exe
from tests import fast_scrypt, plaintext
from tests.cli.conftest import SCRIPT, Result, assert_one_line_error
from tests.paths import media_file

FFMPEG = ffmpeg_exe()


def test_media_workflow_through_the_cli(tmp_path):
    gopro = media_file("gopro_max_heromode_gpmf.mp4")
    truncated = media_file("truncated_panasonic_ag_hmc151.mts")
    work, temp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir(), temp.mkdir()
    env = {
        "PATH": f"{SCRIPT.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TMPDIR": str(temp),
        "VIDEOFEEDBACK_LIBRARY": str(work / "lib"),
        "LANG": "C.UTF-8",
        **fast_scrypt.child_env(),  # reads the test-made identities
    }

    def vf(*args, user="bob", check=True):
        done = subprocess.run(
            [str(SCRIPT), "--user", user, *args],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=600,
            env={
                **env,
                "VIDEOFEEDBACK_PASSPHRASE": f"{user}-quiet-harbour-lantern",
                "VIDEOFEEDBACK_NEW_PASSPHRASE": "bob-quiet-harbour-lantern",
            },
        )
        if check:
            assert done.returncode == 0, (args, done.stderr)
            return json.loads(done.stdout) if "--json" in args else done.stdout
        return done

    vf("init", user="alice")
    vf("user", "add", "bob", "--role", "practitioner", user="alice")
    case = vf("case", "new", "Family Z", "--json")["id"]
    mother = vf("participant", "add", case, "Zofia", "--role", "mother", "--json")["id"]
    vf("consent", "set", case, mother, "--purpose", "filming", "--given")
    session = vf(
        "session", "new", case, "--kind", "recording", "--title", "Play with blocks", "--json"
    )["id"]
    assert vf("session", "list", case, "--json")["sessions"][0]["title"] == "Play with blocks"

    rec = vf(
        "record", session, "--source", "synthetic", "--duration", "4", "--size", "640x360", "--json"
    )
    assert rec["duration"] == "4" and rec["dropped_frames"] == 0
    info = vf("media", "info", rec["id"], "--json")
    assert (info["width"], info["fps"], info["state"]) == (640, "30", "sealed")

    # a "camera" that is a file (no camera on CI); without a sound server, a warning
    film = tmp_path / "camera.mp4"
    subprocess.run(
        [FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
         "-pix_fmt", "yuv420p", str(film)],
        check=True,
    )  # fmt: skip
    camera = ("--source", f"camera:{film}", "--size", "640x360")
    done = vf("record", session, *camera, "--duration", "2", "--json", check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["duration"] == "2"
    assert done.stderr == "" or done.stderr.startswith("warning: the microphone gave no sound")
    film.unlink()  # the test's own plaintext fixture, not something the tool wrote
    missing = vf(
        "record", session, "--source", "camera:/dev/no-camera", "--duration", "1", check=False
    )
    assert_one_line_error(Result(missing.returncode, b"", missing.stderr), "cannot be opened")
    wrong = vf("record", session, "--source", "webcam", "--duration", "1", check=False)
    assert_one_line_error(Result(wrong.returncode, b"", wrong.stderr), "use synthetic or camera")
    still = vf("still", rec["id"], "--at", "2.5", "--json")
    assert still["frame"] == 75
    imported = vf("import", session, str(gopro), "--json")
    assert imported["imported"][0]["duration"] == "21/2"

    refused = vf("import", session, str(truncated), check=False)
    assert_one_line_error(Result(refused.returncode, b"", refused.stderr), "no picture")

    plan = work / "plan.json"
    plan.write_text(
        json.dumps(
            {
                "fade": 0,
                "items": [
                    {"kind": "clip", "media": rec["id"], "start": "0.5", "end": "2"},
                    {"kind": "clip", "media": rec["id"], "start": "3", "end": "3.5"},
                ],
            }
        )
    )
    reel = vf("reel", "render", session, "--plan", str(plan), "--draft", "--json")
    assert reel["duration"] == "2" and reel["draft"]
    full = vf("reel", "render", session, "--plan", str(plan), "--json")
    assert full["duration"] == "2" and full["draft"] is False

    copy = work / "family.mp4"
    refused = vf("media", "export", rec["id"], "--out", str(copy), check=False)
    assert refused.returncode != 0 and "--purpose" in refused.stderr and not copy.exists()
    vf("consent", "set", case, mother, "--purpose", "family-copy", "--given")
    unreviewed = vf("media", "export", rec["id"], "--out", str(copy), "--purpose", "family-copy",
                    check=False)  # fmt: skip
    assert unreviewed.returncode != 0 and "people find" in unreviewed.stderr
    assert not copy.exists()
    vf("media", "export", rec["id"], "--out", str(copy), "--purpose", "own-review")
    assert copy.read_bytes()[4:8] == b"ftyp"
    copy.unlink()

    recovered = vf("media", "recover", rec["id"], "--json")
    assert recovered["already_sealed"] is True
    actions = {e["action"] for e in vf("audit", "show", case, "--json")["entries"]}
    assert {
        "media.recording",
        "media.sealed",
        "media.still",
        "media.import",
        "reel.build",
        "media.export",
    } <= actions

    for path in [p for p in tmp_path.rglob("*") if p.is_file()]:
        data = path.read_bytes()
        if path.name in ("manifest.json", "plan.json"):
            continue
        for marker in (*plaintext.MEDIA, *plaintext.names("Zofia", "Family Z")):
            assert marker not in data, f"{marker!r} in plaintext in {path}"


def test_source_argument_names_a_camera_by_index_path_or_default():
    import argparse

    from clips.camera import CameraSource
    from videofeedback.cli.media_commands import _source

    def source(text):
        return _source(argparse.Namespace(source=text, size="640x360", fps="30"))

    assert source("camera").camera == 0  # the default camera (no ":N")
    assert source("camera:2").camera == 2
    assert source("camera:/dev/video4").camera == "/dev/video4"
    assert isinstance(source("camera"), CameraSource) and source("camera").width == 640
