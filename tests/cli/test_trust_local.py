"""Issue 16, through the console script: private notes stay out of a supervisor's export
(finding 11); a killed family copy leaves plaintext that the next command removes and reports
(10); the passphrase never reaches ffmpeg and can come from a descriptor (13); the library is
0700/0600, old libraries fixed when opened (12). docs/FORMAT.md, 10.3."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import fast_scrypt, plaintext
from tests.cli.conftest import SCRIPT, Result, assert_one_line_error

NOTE = "PRIVATE: mother disclosed a worry"


@dataclass
class Workspace:
    root: Path
    env: dict[str, str]
    case: str
    session: str
    recording: str

    @property
    def library(self) -> Path:
        return self.root / "lib"

    def vf(self, *args: str, user: str = "bob", extra: dict | None = None, **kw):
        env = {**self.env, "VIDEOFEEDBACK_PASSPHRASE": f"{user}-quiet-harbour-lantern", **(extra or {})}
        return subprocess.run(
            [str(SCRIPT), "--user", user, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            **kw,
        )

    def ok(self, *args: str, user: str = "bob", **kw):
        done = self.vf(*args, user=user, **kw)
        assert done.returncode == 0, (args, done.stderr)
        return json.loads(done.stdout) if "--json" in args else done.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("trust")
    (root / "tmp").mkdir()
    env = {
        "PATH": f"{SCRIPT.parent}:/usr/bin:/bin",
        "HOME": str(root),
        "TMPDIR": str(root / "tmp"),
        "LANG": "C.UTF-8",
        "VIDEOFEEDBACK_LIBRARY": str(root / "lib"),
        **fast_scrypt.child_env(),  # reads the test-made identities (2^10, not 2^18)
    }
    w = Workspace(root, env, "", "", "")
    w.ok("init", user="alice")
    for name, role in (("bob", "practitioner"), ("sue", "supervisor")):
        new = {"VIDEOFEEDBACK_NEW_PASSPHRASE": f"{name}-quiet-harbour-lantern"}
        w.ok("user", "add", name, "--role", role, user="alice", extra=new)
    w.case = w.ok("case", "new", "Family Q", "--supervisor", "sue", "--json")["id"]
    mother = w.ok("participant", "add", w.case, "Quirina", "--role", "mother", "--json")["id"]
    for purpose in ("filming", "family-copy"):
        w.ok("consent", "set", w.case, mother, "--purpose", purpose, "--given")
    w.session = w.ok("session", "new", w.case, "--kind", "recording", "--json")["id"]
    w.recording = w.ok("record", w.session, "--duration", "2", "--size", "320x240", "--json")["id"]
    w.ok("moments", "add", w.recording, "--start", "0.5", "--caption", "A lovely turn",
         "--note", NOTE)  # fmt: skip
    return w


def actions(work: Workspace) -> list[dict]:
    entries: list[dict] = work.ok("audit", "show", work.case, "--json")["entries"]
    return entries


# --- finding 11: exports check the role; private notes only when asked, by a practitioner ---


@pytest.mark.parametrize("fmt", ["csv", "json", "eaf", "vtt"])
def test_a_supervisor_exports_moments_without_private_notes(work, fmt):
    out = work.root / f"sue.{fmt}"
    work.ok("moments", "export", work.recording, "--format", fmt, "--out", str(out), user="sue")
    text = out.read_text(encoding="utf-8")
    assert "A lovely turn" in text and NOTE not in text and "PRIVATE" not in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    out.unlink()


def test_a_supervisor_may_not_ask_for_private_notes(work):
    out = work.root / "sue-notes.csv"
    done = work.vf("moments", "export", work.recording, "--format", "csv", "--out", str(out),
                   "--include-private-notes", user="sue")  # fmt: skip
    assert_one_line_error(Result(done.returncode, b"", done.stderr), "may not export private")
    assert not out.exists()
    assert not list(work.root.glob(".sue-notes.csv.*"))


def test_a_practitioner_gets_private_notes_only_when_asked(work):
    plain, full = work.root / "bob.csv", work.root / "bob-notes.csv"
    work.ok("moments", "export", work.recording, "--format", "csv", "--out", str(plain))
    work.ok("moments", "export", work.recording, "--format", "csv", "--out", str(full),
            "--include-private-notes")  # fmt: skip
    assert NOTE not in plain.read_text() and NOTE in full.read_text()
    exported = [e for e in actions(work) if e["action"] == "annotations.export"]
    assert [e["detail"]["notes"] for e in exported][-2:] == ["no", "yes"]
    plain.unlink(), full.unlink()


def test_a_social_worker_may_not_export_moments(work):
    from videofeedback.library.roles import Action, Role, allowed

    assert not allowed(Role.SOCIAL_WORKER, Action.EXPORT_ANNOTATIONS)
    assert allowed(Role.SUPERVISOR, Action.EXPORT_ANNOTATIONS)
    assert not allowed(Role.SUPERVISOR, Action.EXPORT_PRIVATE_NOTES)
    assert allowed(Role.PRACTITIONER, Action.EXPORT_PRIVATE_NOTES)


# --- finding 10: a killed plaintext export is swept, audited and reported ------------------------

#: A real export in a real process, killed (SIGKILL) after half its first block hit the disk.
KILLED_EXPORT = """
import os, signal, sys
from contextlib import contextmanager
from pathlib import Path
from videofeedback import exports, redacted
from videofeedback.library import Library
from videofeedback.library.media_records import find_media

real = exports.atomic_file

class Dying:
    def __init__(self, sink):
        self.sink = sink
    def write(self, data):
        self.sink.write(bytes(data[: len(data) // 2]))
        self.sink.flush()
        os.fsync(self.sink.fileno())
        os.kill(os.getpid(), signal.SIGKILL)

@contextmanager
def dying(out, temp=None):
    with real(out, temp=temp) as sink:
        yield Dying(sink)

exports.atomic_file = dying
folder, media_id, out = sys.argv[1:4]
with Library.open(Path(folder)) as library:
    session = library.unlock("bob", "bob-quiet-harbour-lantern")
    redacted.export_original(find_media(session, media_id), media_id, Path(out))
"""


def test_a_killed_family_copy_is_removed_audited_and_reported_by_the_next_command(work):
    out = work.root / "family.mp4"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_EXPORT, str(work.library), work.recording, str(out)],
        capture_output=True,
        timeout=120,
        env={**work.env, "PATH": os.environ["PATH"]},
    )
    assert killed.returncode == -9, killed.stderr.decode()
    leftovers = list(work.root.glob(".family.mp4.*.tmp"))
    assert len(leftovers) == 1 and not out.exists()
    assert plaintext.MEDIA[0] in leftovers[0].read_bytes()  # plaintext footage: ftypiso5

    done = work.vf("media", "info", work.recording)
    assert done.returncode == 0, done.stderr
    assert f"removed {leftovers[0]}" in done.stderr and "unfinished plaintext export" in done.stderr
    assert not leftovers[0].exists()
    swept = [e for e in actions(work) if e["action"] == "export.swept"]
    assert swept and swept[-1]["detail"] == {"removed": "yes"}
    starts = [e for e in actions(work) if e["action"] == "export.start"]
    assert swept[-1]["object"] == starts[-1]["detail"]["export"]
    again = work.vf("media", "info", work.recording)
    assert "removed" not in again.stderr  # swept once


def test_an_export_is_audited_before_and_after_and_left_private(work):
    out = work.root / "copy.mp4"
    work.ok("media", "export", work.recording, "--out", str(out), "--purpose", "own-review")
    entries = actions(work)
    start = max(i for i, e in enumerate(entries) if e["action"] == "export.start")
    done = max(i for i, e in enumerate(entries) if e["action"] == "media.export")
    assert start < done
    assert entries[start]["detail"]["export"] == entries[done]["detail"]["export"]
    assert "copy" not in json.dumps(entries[start]) and str(work.root) not in json.dumps(entries)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not (work.library / "users" / "bob.exports.age").exists()  # nothing pending
    out.unlink()


# --- finding 13: the passphrase stays with videofeedback ----------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ffmpeg_never_inherits_the_passphrase(work):
    env = {**work.env, "VIDEOFEEDBACK_PASSPHRASE": "bob-quiet-harbour-lantern"}
    args = ["--user", "bob", "record", work.session, "--duration", "3", "--size", "320x240"]
    process = subprocess.Popen(
        [str(SCRIPT), *args], cwd=work.root, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    seen: dict[int, bytes] = {}
    while process.poll() is None and not seen:
        for child in _children(process.pid):
            try:
                if Path(f"/proc/{child}/comm").read_text().startswith("ffmpeg"):
                    seen[child] = Path(f"/proc/{child}/environ").read_bytes()
            except OSError:
                pass
        time.sleep(0.01)  # polling a child's start; no timing is measured
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert seen, "no ffmpeg child was seen"
    for environ in seen.values():
        assert b"bob-quiet-harbour-lantern" not in environ and b"VIDEOFEEDBACK" not in environ
        assert b"PATH=" in environ and b"LANG=C.UTF-8" in environ


def test_the_passphrase_can_come_from_a_descriptor(work):
    read_fd, write_fd = os.pipe()
    os.write(write_fd, b"bob-quiet-harbour-lantern\n")
    os.close(write_fd)
    env = {**work.env, "VIDEOFEEDBACK_PASSPHRASE_FILE": f"/dev/fd/{read_fd}"}
    try:
        done = subprocess.run(
            [str(SCRIPT), "--user", "bob", "case", "list", "--json"],
            env=env, capture_output=True, text=True, timeout=120, pass_fds=(read_fd,),
        )  # fmt: skip
    finally:
        os.close(read_fd)
    assert done.returncode == 0, done.stderr
    assert [c["id"] for c in json.loads(done.stdout)["cases"]] == [work.case]
    missing = {**work.env, "VIDEOFEEDBACK_PASSPHRASE_FILE": str(work.root / "no-such-file")}
    refused = subprocess.run(
        [str(SCRIPT), "--user", "bob", "case", "list"],
        env=missing, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert_one_line_error(Result(refused.returncode, b"", refused.stderr), "PASSPHRASE_FILE")


def test_the_cli_takes_the_passphrase_out_of_its_environment(monkeypatch):
    from videofeedback.cli import output

    monkeypatch.setenv("VIDEOFEEDBACK_PASSPHRASE", "pw-x")
    monkeypatch.setenv("VIDEOFEEDBACK_NEW_PASSPHRASE", "new-x-quiet-harbour-lantern")
    output.take_secrets(fresh=True)
    assert "VIDEOFEEDBACK_PASSPHRASE" not in os.environ
    assert "VIDEOFEEDBACK_NEW_PASSPHRASE" not in os.environ
    assert (
        output.passphrase() == "pw-x"
        and output.new_passphrase("VIDEOFEEDBACK_NEW_PASSPHRASE") == "new-x-quiet-harbour-lantern"
    )
    output.take_secrets(fresh=True)
    assert output.secret_from_environment("VIDEOFEEDBACK_PASSPHRASE") is None


# --- finding 12: 0700 / 0600 everywhere, old libraries fixed in place ---------------------------


def _not_private(folder: Path) -> list[str]:
    wrong = []
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir() and mode != 0o700 or path.is_file() and mode != 0o600:
            wrong.append(f"{oct(mode)} {path.relative_to(folder)}")
    return wrong


def test_every_library_folder_is_0700_and_every_file_0600(work):
    work.ok("still", work.recording, "--at", "1")
    work.ok("reel", "render", work.session, "--draft", "--plan", str(_plan(work)))
    assert (work.library / "cases" / work.case / "media").is_dir()
    assert _not_private(work.library) == []


def test_an_old_library_is_made_private_when_opened(work):
    loose = [work.library / "manifest.json", work.library / "users" / "bob.identity"]
    os.chmod(work.library, 0o755), os.chmod(work.library / "users", 0o755)
    for path in loose:
        os.chmod(path, 0o644)
    assert len(_not_private(work.library)) == 4
    work.ok("case", "list")
    assert _not_private(work.library) == []


def _plan(work: Workspace) -> Path:
    plan = work.root / "plan.json"
    items = [{"kind": "clip", "media": work.recording, "start": "0", "end": "1"}]
    plan.write_text(json.dumps({"fade": 0, "items": items}))
    return plan
