"""Another account on the computer and the media jobs (docs/FORMAT.md, 10.3): while a job runs
it sees ffmpeg's command line and the server's port, never the URL's secret; a connection from
its sockets is refused even with the secret; ffmpeg inherits no passphrase; nothing listens
after a job. The attacks run as `nobody` when the tests run as root (CI), else they skip."""

from __future__ import annotations

import functools
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import pytest

from clips.ffmpeg import base_args, capture, child_environment, spawn
from clips.serve import MediaServer, is_served_url, peer_uid, serving
from clips.synthetic import SyntheticSource
from tests.media.conftest import AS_FAST_AS_IT_ENCODES
from tests.procnet import listening
from videofeedback import media

SETPRIV = shutil.which("setpriv")
AS_NOBODY = [SETPRIV or "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
needs_root = pytest.mark.skipif(
    os.getuid() != 0 or SETPRIV is None or not sys.platform.startswith("linux"),
    reason="the other-account attack runs as `nobody`: needs root and setpriv (CI runs as root)",
)
SECRET = "correct horse battery staple 0815"

#: What another account can do while a job runs: read every command line and environment of
#: the job's processes, the listening loopback ports, and try every URL, pipe and port it finds.
#: It aims at this test's servers and children only (other suites on the same computer may run
#: servers of their own at the same time).
ATTACKER = r"""
import json, os, re, socket, sys
target = json.loads(sys.argv[1])
ports, pids = set(target["ports"]), target["pids"]
urls, statuses, pipes, environs = [], [], 0, 0
def fetch(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
            head = s.recv(64)
        statuses.append(head.split(b"\r\n", 1)[0].decode("latin-1") or "closed")
    except OSError as exc:
        statuses.append(type(exc).__name__)
for pid in filter(str.isdigit, os.listdir("/proc")):  # every process's command line
    try:
        line = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode("latin-1")
    except OSError:
        continue
    found = re.findall(r"127\.0\.0\.1:(\d+)(/[0-9a-f]*)", line)
    urls += [(int(p), t) for p, t in found if int(p) in ports]
    if int(pid) not in pids:
        continue
    for fd in re.findall(r"(?:pipe|fd):(\d+)", line):
        try:
            open(f"/proc/{pid}/fd/{fd}", "rb").read(1)
            pipes += 1
        except OSError:
            pass
    try:
        environs += b"PASSPHRASE" in open(f"/proc/{pid}/environ", "rb").read()
    except OSError:
        pass
listening = set()
for line in open("/proc/net/tcp").read().splitlines()[1:]:
    local, state = line.split()[1], line.split()[3]
    if state == "0A" and int(local.split(":")[1], 16) in ports:
        listening.add(int(local.split(":")[1], 16))
for port, path in urls:
    fetch(port, path)
for port in listening:
    fetch(port, "/" + target.get("token", ""))
print(json.dumps({"urls": len(urls), "ports": sorted(listening), "statuses": statuses,
                  "pipes": pipes, "environs": environs, "pids": len(pids)}))
"""


def our_listening_ports() -> set[int]:
    """The ports this process listens on."""
    return {port for _, port in listening()}


@functools.cache
def nobodys_python() -> str | None:
    """A Python that `nobody` may run (the attacker needs only the standard library)."""
    for python in ("/usr/bin/python3", sys.executable):
        done = subprocess.run([*AS_NOBODY, python, "-I", "-S", "-c", "pass"], capture_output=True)
        if done.returncode == 0:
            return python
    return None


@pytest.fixture
def python_for_nobody() -> str:
    python = nobodys_python()
    if python is None:
        pytest.skip("`nobody` can run no Python on this computer, so it cannot attack")
    return python


def attack(python: str, token: str = "") -> dict:
    """The attacker's findings, aimed at this process's servers and child processes."""
    target = {"ports": sorted(our_listening_ports()), "pids": children(), "token": token}
    done = subprocess.run(
        [*AS_NOBODY, python, "-I", "-S", "-c", ATTACKER, json.dumps(target)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


def breaches(found: dict) -> list[str]:
    return [status for status in found["statuses"] if status.startswith("HTTP/")]


class _Gated:
    """A served file whose reads wait until the test lets them go: a job in progress."""

    def __init__(self, inner: object, gate: Gate) -> None:
        self._inner, self._gate = inner, gate

    def __enter__(self) -> _Gated:
        self._inner.__enter__()  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)  # type: ignore[attr-defined]

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return int(self._inner.seek(offset, whence))  # type: ignore[attr-defined]

    def read(self, size: int | None = -1, /) -> bytes:
        self._gate.reached.set()
        assert self._gate.open.wait(120), "the test never let the job go on"
        return bytes(self._inner.read(size))  # type: ignore[attr-defined]


class Gate:
    def __init__(self) -> None:
        self.reached, self.open = threading.Event(), threading.Event()


@contextmanager
def held_job(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """Media jobs inside the block read through a gate: ffmpeg runs, connected, and waits."""
    gate = Gate()
    real = media.opener
    monkeypatch.setattr(media, "opener", lambda c, r: lambda: _Gated(real(c, r)(), gate))
    try:
        yield gate
    finally:
        gate.open.set()


def while_held(gate: Gate, look: object) -> threading.Thread:
    """Run ``look()`` once the job is held mid-read, then let the job go on."""

    def body() -> None:
        try:
            if gate.reached.wait(120):
                look()  # type: ignore[operator]
        finally:
            gate.open.set()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def children() -> list[int]:
    """This process's ffmpeg children (not the test store a team test of this worker may
    have left running for the session: it is not started by the media layer)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            program = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"ffmpeg" in program:
            found.append(int(pid))
    return found


@pytest.fixture(scope="module")
def recording(studio) -> str:
    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(320, 240, Fraction(30)), Fraction(2),
        options=AS_FAST_AS_IT_ENCODES,
    )
    studio.case.save()
    return media_id


# --- the command line and the environment ------------------------------------------------------


def test_a_served_url_reaches_ffmpeg_through_a_pipe_not_its_command_line():
    payload = b"x" * 1000
    with serving(lambda: io.BytesIO(payload)) as (url,):
        assert is_served_url(url) and len(url.rsplit("/", 1)[1]) == 32  # 128-bit token
        argv = [*base_args(), "-f", "data", "-i", url, "-map", "0", "-c", "copy", "-f", "data",
                "pipe:1"]  # fmt: skip
        done = capture(argv, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout == payload
        assert url not in " ".join(done.args)
        assert "concatf:pipe:" in " ".join(done.args)


def test_ffmpeg_gets_a_minimal_environment_without_the_passphrase(studio, recording, monkeypatch):
    monkeypatch.setenv("VIDEOFEEDBACK_PASSPHRASE", SECRET)
    monkeypatch.setenv("VIDEOFEEDBACK_LIBRARY", str(studio.library.folder))
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    seen: dict[int, tuple[bytes, bytes]] = {}

    def look() -> None:
        for pid in children():
            seen[pid] = (
                Path(f"/proc/{pid}/environ").read_bytes(),
                Path(f"/proc/{pid}/cmdline").read_bytes(),
            )

    with held_job(monkeypatch) as gate:
        thread = while_held(gate, look)
        media.still(studio.case, recording, Fraction(1))
        thread.join()
    assert seen, "no ffmpeg was running while the job was held"
    for environ, cmdline in seen.values():
        names = {item.split(b"=", 1)[0].decode() for item in environ.split(b"\0") if item}
        assert SECRET.encode() not in environ and b"VIDEOFEEDBACK" not in environ
        assert names == set(child_environment(dict.fromkeys(names, "")))  # nothing else
        assert {"LC_ALL", "PATH"} <= names
        assert b"http://" not in cmdline and b"concatf:pipe:" in cmdline


def test_child_environment_keeps_only_what_ffmpeg_needs():
    kept = child_environment(
        {
            "PATH": "/usr/bin",
            "LANG": "C.UTF-8",
            "LC_TIME": "de_DE.UTF-8",
            "XDG_RUNTIME_DIR": "/run/user/1000",
            "PULSE_SERVER": "unix:/run/pulse",
            "VIDEOFEEDBACK_PASSPHRASE": SECRET,
            "VIDEOFEEDBACK_NEW_PASSPHRASE": SECRET,
            "AWS_SECRET_ACCESS_KEY": "x",
            "LD_PRELOAD": "/tmp/evil.so",
        }
    )
    assert set(kept) == {"PATH", "LANG", "LC_TIME", "XDG_RUNTIME_DIR", "PULSE_SERVER"}


def test_spawn_passes_no_other_descriptor(tmp_path):
    opened = os.open(tmp_path, os.O_RDONLY)
    leaked = os.dup2(opened, 57, inheritable=True)  # inheritable on purpose
    try:
        process = spawn(["/bin/ls", "/proc/self/fd"])
        out, _ = process.communicate(timeout=30)
    finally:
        os.close(leaked), os.close(opened)
    assert b"57" not in out.split() and b"0" in out.split()


# --- the server: whose sockets it answers, and nothing left listening --------------------------


def test_the_peer_check_reads_the_socket_owner_from_the_kernel_table():
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:A1B2 0100007F:0050 01 00000000:00000000 00:00000000 00000000  1000 "
        "       0 4242 1 0\n"
        "   1: 0100007F:C3D4 0100007F:0050 06 00000000:00000000 03:00000000 00000000     0 "
        "       0 0 3 0\n"
    )
    server = ("127.0.0.1", 0x50)
    if sys.byteorder != "little":
        pytest.skip("the sample table is written for a little-endian machine")
    assert peer_uid(("127.0.0.1", 0xA1B2), server, table) == 1000
    assert peer_uid(("127.0.0.1", 0xC3D4), server, table) == -1  # TIME_WAIT: no owner, refused
    assert peer_uid(("127.0.0.1", 0x1111), server, table) == -1  # not there: refused


def test_the_server_answers_this_user_and_nothing_listens_after_it():
    server = MediaServer()
    url = server.url(lambda: io.BytesIO(b"hello"))
    port = int(url.split(":")[2].split("/")[0])
    try:
        assert our_listening_ports() == {port}
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.read() == b"hello"
        assert server.refused == 0
    finally:
        server.close()
    assert our_listening_ports() == set()


def test_a_job_leaves_nothing_listening(studio, recording, monkeypatch):
    seen: list[set[int]] = []
    with held_job(monkeypatch) as gate:
        thread = while_held(gate, lambda: seen.append(our_listening_ports()))
        media.still(studio.case, recording, Fraction(1, 2))
        thread.join()
    assert len(seen) == 1 and len(seen[0]) == 1  # one server while the job ran
    assert our_listening_ports() == set()


# --- the attack, as another account --------------------------------------------------------------


@needs_root
def test_another_account_gets_nothing_while_a_still_is_made(
    studio, recording, monkeypatch, python_for_nobody
):
    monkeypatch.setenv("VIDEOFEEDBACK_PASSPHRASE", SECRET)
    found: dict = {}
    with held_job(monkeypatch) as gate:
        thread = while_held(gate, lambda: found.update(attack(python_for_nobody)))
        still = media.still(studio.case, recording, Fraction(1))
        thread.join()
    assert studio.case.media.get(still).kind == "still"
    assert found["ports"], "the attacker found no server: the attack did not run during the job"
    assert found["pids"], "no ffmpeg ran while the attacker looked"
    assert found["urls"] == 0  # no URL on any command line
    assert found["pipes"] == 0 and found["environs"] == 0
    assert not breaches(found), found["statuses"]


@needs_root
def test_another_account_is_refused_even_with_the_secret(python_for_nobody):
    """The token leaked anyway (say, a log): the server still refuses the other user's socket."""
    with serving(lambda: io.BytesIO(b"ftypiso5 the footage")) as (url,):
        found = attack(python_for_nobody, url.rsplit("/", 1)[1])
        with urllib.request.urlopen(url, timeout=10) as answer:  # this user: still served
            assert answer.read() == b"ftypiso5 the footage"
    assert found["ports"] and found["statuses"]
    assert not breaches(found), found["statuses"]


@needs_root
def test_a_reel_render_gives_another_account_nothing(
    studio, recording, monkeypatch, python_for_nobody, qt_gui
):
    from annotations.reel import ReelPlan

    plan = ReelPlan.from_dict(
        {
            "fade": 0,
            "size": "320x240",
            "title": {"text": "Title", "hold": "1"},
            "items": [
                {"kind": "clip", "media": recording, "start": "0", "end": "1", "caption": "Hi"},
                {"kind": "still", "media": recording, "start": "1", "hold": "1"},
            ],
        }
    )
    found: dict = {}
    with held_job(monkeypatch) as gate:
        thread = while_held(gate, lambda: found.update(attack(python_for_nobody)))
        reel = media.render_reel(studio.case, studio.session_id, plan)
        thread.join()
    assert studio.case.media.get(reel).kind == "reel"
    assert found["ports"] and found["pids"] and found["urls"] == 0 and found["pipes"] == 0
    assert not breaches(found), found["statuses"]


def test_every_child_process_starts_through_spawn():
    """One door for child processes (clips.ffmpeg.spawn): the private pipes for served URLs
    and the minimal environment cannot be forgotten by a new call somewhere else."""
    import re

    from tests.paths import REPO

    starts = re.compile(
        r"subprocess\.(Popen|run|call|check_call|check_output)\(|os\.(system|exec\w*|spawn\w*"
        r"|posix_spawn\w*)\(|QProcess"
    )
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for package in ("clips", "videofeedback", "ui", "encryption", "annotations", "vferrors")
        for path in (REPO / package).rglob("*.py")
        if path != REPO / "clips" / "ffmpeg.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if starts.search(line)
    ]
    assert found == []


def test_finding_ffmpeg_starts_nothing_with_our_environment(monkeypatch):
    """imageio-ffmpeg's lookup runs `ffmpeg -version` with the whole environment; ours does
    not (caught live: a passphrase in that child's /proc/PID/environ)."""
    from clips import ffmpeg

    envs: list[object] = []
    real = subprocess.Popen

    def recording_popen(*args, **kwargs):
        envs.append(kwargs.get("env"))
        return real(*args, **kwargs)

    monkeypatch.setenv("VIDEOFEEDBACK_PASSPHRASE", SECRET)
    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    ffmpeg.ffmpeg_exe.cache_clear()
    try:
        assert Path(ffmpeg.ffmpeg_exe()).is_file()
    finally:
        ffmpeg.ffmpeg_exe.cache_clear()
    assert envs and all(isinstance(env, dict) and SECRET not in env.values() for env in envs)
