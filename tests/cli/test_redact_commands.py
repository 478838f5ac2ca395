"""people find → list → mark → redact mute → review-status → export refused → approve →
export --purpose family-copy, through the console script; the audit trail has the review;
nothing in plaintext in the library or the temp folder."""

import json
import subprocess

import pytest

from tests import fast_scrypt, plaintext
from tests.cli.conftest import SCRIPT, Result, assert_one_line_error
from tests.media.redact_scenes import GRACE, two_people

pytestmark = pytest.mark.skipif(not GRACE.exists(), reason=f"no faces corpus at {GRACE.parent}")


def test_redaction_through_the_cli(tmp_path):
    work, temp = tmp_path / "work", tmp_path / "tmp"
    work.mkdir(), temp.mkdir()
    env = {
        "PATH": f"{SCRIPT.parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TMPDIR": str(temp),
        "VIDEOFEEDBACK_LIBRARY": str(work / "lib"),
        "LANG": "C.UTF-8",
        **fast_scrypt.child_env(),  # reads the test-made identities (2^10, not 2^18)
    }

    def vf(*args, user="bob", check=True):
        done = subprocess.run(
            [str(SCRIPT), "--user", user, *args],
            cwd=work, capture_output=True, text=True, timeout=600,
            env={**env, "VIDEOFEEDBACK_PASSPHRASE": f"{user}-quiet-harbour-lantern",
                 "VIDEOFEEDBACK_NEW_PASSPHRASE": "bob-quiet-harbour-lantern"},
        )  # fmt: skip
        if check:
            assert done.returncode == 0, (args, done.stderr)
            return json.loads(done.stdout) if "--json" in args else done
        return done

    vf("init", user="alice")
    vf("user", "add", "bob", "--role", "practitioner", user="alice")
    case = vf("case", "new", "Family Q", "--json")["id"]
    mother = vf("participant", "add", case, "Quentina", "--role", "mother", "--json")["id"]
    for purpose in ("filming", "family-copy"):
        vf("consent", "set", case, mother, "--purpose", purpose, "--given")
    session = vf("session", "new", case, "--kind", "recording", "--json")["id"]
    film = two_people(480, 270, 30, 2).write(tmp_path / "film.mp4")
    media_id = vf("import", session, str(film), "--json")["imported"][0]["id"]
    film.unlink()

    found = vf("people", "find", media_id)
    assert "finding people: frame 30" in found.stderr and "2 people tracked" in found.stdout
    tracks = vf("people", "list", media_id, "--json")["tracks"]
    left, right = sorted(tracks, key=lambda t: t["box_at_middle"][0])
    assert left["as"] is None and "not marked" in vf("people", "list", media_id).stdout

    unknown = vf("people", "mark", media_id, left["track"], "--as", "p-nobody", check=False)
    assert_one_line_error(Result(unknown.returncode, b"", unknown.stderr), "not a participant")
    vf("people", "mark", media_id, left["track"], "--as", mother)
    vf("people", "mark", media_id, right["track"], "--as", "other")
    vf("redact", "mute", media_id, "--start", "0.5", "--end", "1")
    bad = vf("redact", "box", media_id, "--start", "0", "--end", "1", "--box", "1,2", check=False)
    assert_one_line_error(Result(bad.returncode, b"", bad.stderr), "X,Y,W,H")
    vf("redact", "box", media_id, "--start", "0", "--end", "1", "--box", "0,0,40,40",
       "--to", "100,0,40,40")  # fmt: skip
    status = vf("redact", "review-status", media_id, "--json")
    assert status["pending"] and status["unmarked"] == [] and status["mutes"] == [[0.5, 1.0]]
    assert status["boxes"] == 1

    out = work / "family.mp4"
    refused = vf("media", "export", media_id, "--out", str(out), "--purpose", "family-copy",
                 check=False)  # fmt: skip
    assert_one_line_error(Result(refused.returncode, b"", refused.stderr), "redact approve")
    assert not out.exists()

    approved = vf("redact", "approve", media_id, "--json")
    assert approved["by"] == "bob" and approved["tracks"] == 2 and approved["changes"] == 4
    assert "done" in vf("redact", "review-status", media_id).stdout
    exported = vf("media", "export", media_id, "--out", str(out), "--purpose", "family-copy",
                  "--json")  # fmt: skip
    assert exported["hidden_tracks"] == 1 and exported["visible_tracks"] == 1
    assert out.read_bytes()[4:8] == b"ftyp"
    out.unlink()

    # corrections: each one needs a new review before the next export
    split = vf("people", "split", media_id, right["track"], "--at", "1", "--json")
    assert split["new"] not in {left["track"], right["track"]}
    assert "not marked" in vf("people", "list", media_id).stdout
    merged = vf("people", "merge", media_id, right["track"], split["new"], "--json")
    assert merged["as"] == "other" and not merged["mark_dropped"]
    tail = vf("people", "split", media_id, left["track"], "--at", "1.5", "--json")["new"]
    extended = vf("people", "extend", media_id, left["track"], "--to", "1.8", "--json")
    assert extended["end"] == pytest.approx(1.8, abs=0.04)
    full = vf("people", "extend", media_id, left["track"], "--to", "0.5", check=False)
    assert_one_line_error(Result(full.returncode, b"", full.stderr), "already runs")
    vf("people", "merge", media_id, left["track"], tail)
    keyed = vf("redact", "box", media_id, "--key", "0=0,0,40,40", "--key", "1=100,0,40,40",
               "--key", "2=100,100,40,40", "--json")  # fmt: skip
    assert keyed["keyframes"] == 3
    bad = vf("redact", "box", media_id, "--key", "1:0,0,40,40", check=False)
    assert_one_line_error(Result(bad.returncode, b"", bad.stderr), "SECONDS=X,Y,W,H")
    vf("redact", "mute", media_id, "--from", "1.2", "--until", "1.4", "--disguise")
    status = vf("redact", "review-status", media_id, "--json")
    assert status["pending"] and status["changes_since_review"] == 7
    assert status["tracks"] == 2 and status["unmarked"] == []
    refused = vf("media", "export", media_id, "--out", str(out), "--purpose", "family-copy",
                 check=False)  # fmt: skip
    assert_one_line_error(Result(refused.returncode, b"", refused.stderr), "redact approve")
    vf("redact", "approve", media_id)
    vf("media", "export", media_id, "--out", str(out), "--purpose", "family-copy")
    assert out.read_bytes()[4:8] == b"ftyp"
    out.unlink()

    entries = vf("audit", "show", case, "--json")["entries"]
    review = next(e for e in entries if e["action"] == "redact.approve")
    assert review["user"] == "bob" and review["detail"]["tracks"] == "2"
    assert {"redact.find", "redact.mark", "redact.mute", "redact.box", "media.export",
            "redact.split", "redact.merge", "redact.extend"} <= {e["action"] for e in entries}  # fmt: skip
    kinds = [e["detail"]["kind"] for e in entries if e["action"] == "redact.mute"]
    assert kinds == ["mute", "disguise"]
    for path in [p for p in tmp_path.rglob("*") if p.is_file()]:
        if path.name == "manifest.json":
            continue
        data = path.read_bytes()
        for marker in (*plaintext.MEDIA, *plaintext.names("Quentina", "Family Q"), b'"boxes"'):
            assert marker not in data, f"{marker!r} in plaintext in {path}"
