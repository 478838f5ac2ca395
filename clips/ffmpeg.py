"""The ffmpeg executable as a job: a pure ``prepare()`` that returns the argument list (tested
without running anything), and ``run()`` that runs it with progress, cancel and a clean error.
Never a shell. The executable is the one imageio-ffmpeg ships."""

from __future__ import annotations

import importlib.resources
import os
import re
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import imageio_ffmpeg

from .errors import CancelledError, MediaError
from .serve import is_served_url

Progress = Callable[[float], None]  # 0.0 … 1.0
_TIME = re.compile(r"out_time_us=(\d+)")
_FRAME = re.compile(r"frame=(\d+)")


#: Input options for videofeedback's own fragmented MP4s: seek with the file's mfra index
#: instead of reading every fragment header (63 range requests became 6 for a 1-min film).
OWN_MEDIA = ["-use_mfra_for", "pts"]


#: ffmpeg's AAC encoder puts 1024 samples (21.3 ms at 48 kHz) of priming before the sound, and
#: a fragmented MP4 written with an empty moov does not hide them, so players would play the
#: sound 21.3 ms late. Trimming as much from the start of the input cancels it (measured with
#: clips.sync; see docs/ARCHITECTURE.md). Output options for a sound encoded to 48 kHz AAC.
PRIMING_TRIM = "atrim=start_sample=1024,asetpts=PTS-STARTPTS"
AAC_PRIMING_TRIM = ["-af", f"aresample=48000,{PRIMING_TRIM}"]


#: HD video is BT.709, and players assume it for untagged HD too; swscale converts RGB with
#: BT.601 unless told (saturated colours off by up to ~17 of 255). Scale options for RGB
#: pictures (camera frames, stills, title cards, captions) going to video:
TO_BT709 = "out_color_matrix=bt709:out_range=tv"
#: The tags go on the frames: ffmpeg's encoder takes primaries and transfer from them, not
#: from -color_primaries / -color_trc.
TAG_BT709 = "setparams=range=tv:color_primaries=bt709:color_trc=bt709:colorspace=bt709"


@cache
def ffmpeg_exe() -> str:
    """The ffmpeg that imageio-ffmpeg ships, checked by running ``-version`` through ``spawn``.
    (imageio-ffmpeg's own lookup runs that check with our whole environment, passphrase and
    all; it is only the fallback when no bundled binary is found.)"""
    folder = Path(str(importlib.resources.files("imageio_ffmpeg.binaries")))
    for exe in sorted(folder.glob("ffmpeg-*")):
        if os.access(exe, os.X_OK) and capture([str(exe), "-version"], timeout=60).returncode == 0:
            return str(exe)
    return str(imageio_ffmpeg.get_ffmpeg_exe())


#: What a child process (ffmpeg) is given of our environment: the search path, the language
#: and time zone, HOME, and what the sound server (PulseAudio/PipeWire) and the Windows
#: runtime need. Nothing else: no passphrase, no library path, no user name.
CHILD_ENVIRONMENT = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "TZ",
    "HOME",
    "XDG_RUNTIME_DIR",
    "PULSE_SERVER",
    "PULSE_RUNTIME_PATH",
    "PULSE_COOKIE",
    "SYSTEMROOT",
    "WINDIR",
)
#: Protocols ffmpeg may use to read a served input: the list comes through an inherited pipe
#: (concatf:pipe:N), the media over loopback HTTP.
_SERVED_PROTOCOLS = "concatf,concat,pipe,http,tcp"


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The minimal environment every child process gets (see CHILD_ENVIRONMENT, and LC_*)."""
    source = os.environ if environ is None else environ
    return {
        name: value
        for name, value in source.items()
        if name in CHILD_ENVIRONMENT or name.startswith("LC_")
    }


def _private_inputs(argv: Sequence[str]) -> tuple[list[str], list[int]]:
    """``argv`` with each served URL replaced by ``concatf:pipe:N``: ffmpeg reads the URL (and
    its secret) from pipe N, which only this child inherits, so the command line that every
    account on the computer can read (``ps``, /proc/PID/cmdline) holds no secret. Returns the
    new argv and the pipes' read ends (to pass to the child, and close after starting it)."""
    out: list[str] = []
    fds: list[int] = []
    try:
        for arg in argv:
            if not is_served_url(arg):
                out.append(arg)
                continue
            read_fd, write_fd = os.pipe()
            fds.append(read_fd)
            try:
                os.write(write_fd, arg.encode("ascii") + b"\n")  # far below a pipe's buffer
            finally:
                os.close(write_fd)
            if out and out[-1] == "-i":
                out[-1:] = ["-protocol_whitelist", _SERVED_PROTOCOLS, "-i"]
            out.append(f"concatf:pipe:{read_fd}")
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise
    return out, fds


def spawn(
    argv: Sequence[str],
    *,
    stdin: int | None = subprocess.DEVNULL,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.PIPE,
    pass_fds: Sequence[int] = (),
    extra_environment: Mapping[str, str] | None = None,
    bufsize: int = -1,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child process the one way videofeedback does: never a shell, the minimal
    environment (plus ``extra_environment``, for a child that needs its own settings),
    served inputs through private pipes, only the given descriptors inherited."""
    args, fds = _private_inputs(argv)
    try:
        return subprocess.Popen(
            args,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            bufsize=bufsize,
            cwd=cwd,
            env={**child_environment(), **(extra_environment or {})},
            pass_fds=(*pass_fds, *fds),
            close_fds=True,
        )
    finally:
        for fd in fds:
            os.close(fd)


def capture(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[bytes]:
    """Run a child to the end (see ``spawn``) and return its stdout and stderr, like
    ``subprocess.run(capture_output=True, timeout=…)``: killed if it overruns."""
    with spawn(argv) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except BaseException:
            process.kill()
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


class Cancel:
    """A cancel switch shared between a caller (GUI thread) and a running job."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._processes: list[subprocess.Popen[bytes]] = []

    def cancel(self) -> None:
        self._event.set()
        for process in self._processes:
            if process.poll() is None:
                process.kill()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def watch(self, process: subprocess.Popen[bytes]) -> None:
        self._processes.append(process)
        if self.cancelled:
            process.kill()

    def check(self) -> None:
        if self.cancelled:
            raise CancelledError("cancelled; nothing was kept")


def video_encoder_args(fps: Fraction, crf: int = 21, preset: str = "veryfast") -> list[str]:
    """x264 as everything videofeedback encodes uses it: a keyframe every second at known
    frames (cuts, seeks, thumbnails need no index) and no B-frames (exact frame counts and
    A/V sync in fragmented MP4; see docs/ARCHITECTURE.md)."""
    gop = str(round(fps))
    return [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-crf",
        str(crf),
        "-pix_fmt",
        "yuv420p",
        "-bf",
        "0",
        "-g",
        gop,
        "-keyint_min",
        gop,
        "-sc_threshold",
        "0",
    ]


def base_args(*, progress: bool = False, stdin: bool = False) -> list[str]:
    """The start of every ffmpeg command: quiet, no prompts (unless it reads stdin), and
    machine-readable progress on stderr when asked."""
    args = [ffmpeg_exe(), "-hide_banner", *([] if stdin else ["-nostdin"]), "-loglevel", "error"]
    return args + (["-progress", "pipe:2", "-nostats"] if progress else [])


def _last_error(lines: Sequence[str]) -> str:
    real = [line for line in lines if "=" not in line or " " in line.split("=", 1)[0]]
    return real[-1].strip() if real else "ffmpeg failed"


def run(
    argv: list[str],
    *,
    stdin: bytes | None = None,
    duration: Fraction | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    what: str = "ffmpeg",
    sink: Callable[[bytes], object] | None = None,
) -> RunResult:
    """Run ffmpeg; its stdout is returned, or handed to ``sink`` chunk by chunk (so a long
    film never sits in memory). Progress from ``-progress pipe:2``; clean one-line errors."""
    process = spawn(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
    if cancel is not None:
        cancel.watch(process)
    lines: list[str] = []
    output: list[bytes] = []
    failures: list[BaseException] = []
    frames = 0

    def read_stdout() -> None:
        assert process.stdout is not None
        while chunk := process.stdout.read(1 << 16):
            if sink is None:
                output.append(chunk)
                continue
            try:
                sink(chunk)
            except BaseException as exc:  # noqa: BLE001 - re-raised below, ffmpeg stopped
                failures.append(exc)
                process.kill()
                return

    def feed() -> None:
        assert process.stdin is not None
        try:
            process.stdin.write(stdin or b"")
        except BrokenPipeError:
            pass
        finally:
            process.stdin.close()

    threads = [threading.Thread(target=read_stdout, daemon=True)]
    if stdin is not None:
        threads.append(threading.Thread(target=feed, daemon=True))
    for thread in threads:
        thread.start()
    assert process.stderr is not None
    for raw in process.stderr:
        line = raw.decode("utf-8", "replace").rstrip()
        lines.append(line)
        if frame := _FRAME.match(line):
            frames = int(frame.group(1))
        match = _TIME.match(line)
        if match and progress and duration:
            progress(min(1.0, int(match.group(1)) / 1e6 / float(duration)))
    code = process.wait()
    for thread in threads:
        thread.join()
    if cancel is not None:
        cancel.check()
    if failures:
        raise failures[0]
    if code != 0:
        raise MediaError(f"{what} failed: {_last_error(lines)}")
    if progress:
        progress(1.0)
    return RunResult(b"".join(output), frames)


@dataclass(frozen=True)
class RunResult:
    stdout: bytes
    frames: int  # video frames written, from -progress
