"""The camera source's microphone path against a real PulseAudio server, with no hardware:
a null sink ("videofeedback_room") into which paplay plays a beep at each whole second, and
a camera recording (a generated film as the camera) whose microphone is the sink's monitor.

Prints, for the microphone input as clips.camera builds it and for PulseAudio's default
capture fragment side by side (and the buffer without its drift correction): dropped
picture frames, samples the microphone buffer inserted (it was behind), dropped (ahead) or
corrected, the spacing of the recorded beeps, and when
each beep reached the recording after paplay was started (playback and capture latency,
plus paplay's start: compare the rows, which all hear one player, not the absolute figures).

Needs pulseaudio, pactl and paplay (apt-get install pulseaudio pulseaudio-utils); starts a
private server when none answers. Usage: .venv/bin/python benchmarks/bench_microphone.py
[--seconds 60]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import machine  # noqa: E402
from clips.camera import CameraSource, Microphone, microphone_input  # noqa: E402
from clips.ffmpeg import ffmpeg_exe  # noqa: E402
from clips.serve import serving  # noqa: E402
from clips.sync import beep_starts  # noqa: E402
from videofeedback import media  # noqa: E402
from videofeedback.library import (  # noqa: E402
    Library,
    Programme,
    Purpose,
    Role,
    SessionKind,
    create_case,
)

SINK = "videofeedback_room"
BEEPS = "sine=f=1000:r=48000,volume='if(lt(mod(t\\,1)\\,0.05)\\,6\\,0)':eval=frame"


@contextmanager
def pulse_server(folder: Path) -> Iterator[None]:
    """A PulseAudio server with the null sink: the running one, or a private one."""
    started = subprocess.run(["pactl", "info"], capture_output=True).returncode != 0
    if started:
        os.environ["XDG_RUNTIME_DIR"] = str(folder / "xdg")
        (folder / "xdg").mkdir(mode=0o700)
        subprocess.run(
            ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "--log-target=stderr"],
            check=True,
            capture_output=True,
        )
        time.sleep(1)
    module = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={SINK}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        yield
    finally:
        subprocess.run(["pactl", "unload-module", module], capture_output=True)
        if started:
            subprocess.run(["pulseaudio", "--kill"], capture_output=True)
            time.sleep(1)  # it removes its runtime folder as it goes
            time.sleep(1)  # it removes its runtime folder as it goes


@contextmanager
def drift_correction(on: bool) -> Iterator[None]:
    """Off: the buffer as it was before the correction (silence when dry, drop at the cap)."""
    plan = Microphone._drift_plan
    if not on:
        Microphone._drift_plan = lambda self, available, count: (  # type: ignore[method-assign]
            min(available, count),
            min(available, count),
        )
    try:
        yield
    finally:
        Microphone._drift_plan = plan  # type: ignore[method-assign]


def studio(folder: Path) -> tuple[object, str]:
    secret = "bob-quiet-harbour-lantern"
    library, admin = Library.create(folder / "lib", "alice", "al-" + secret, folder / "r.age", 30)
    library.add_user(admin, "bob", Role.PRACTITIONER, secret)
    case = create_case(library.unlock("bob", secret), "Family R", Programme.VIG, date.today())
    mother = case.participants.add("Rosa", "mother")
    case.consent.set(mother, Purpose.FILMING, True)
    session = case.sessions.new(SessionKind.RECORDING, date.today())
    case.save()
    return case, session


def trial(folder: Path, name: str, microphone: Sequence[str], seconds: int, played: float) -> None:
    case, session = studio(folder / name)
    film = folder / "camera.mp4"
    with CameraSource(str(film), microphone=microphone) as camera:
        time.sleep(0.3)  # a caller's pause before recording: the first take drops it
        started = time.monotonic()
        media_id, result = media.record(case, session, camera, Fraction(seconds))  # type: ignore[arg-type]
        dropped, inserted = camera.microphone_health
        drift = camera.microphone_drift
    case.save()  # type: ignore[attr-defined]
    with serving(media.opener(case, case.media.get(media_id))) as (url,):  # type: ignore[arg-type]
        starts = beep_starts(url)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    arrival = [round((started + s - played) % 1 * 1000) for s in starts]
    print(
        f"  {name:34s} frames dropped {result.dropped}, microphone samples inserted "
        f"{inserted} ({inserted / 48:.0f} ms) dropped {dropped} corrected {drift:+d}; "
        f"{len(starts)} beeps, "
        f"spacing {min(gaps):.3f}-{max(gaps):.3f} s (median {statistics.median(gaps):.3f}); "
        f"arrival {min(arrival)}-{max(arrival)} ms, median {statistics.median(arrival):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    for tool in ("pulseaudio", "pactl", "paplay"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: sudo apt-get install pulseaudio pulseaudio-utils")
    print(machine())
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        folder = Path(tmp)
        length = str(4 * args.seconds + 60)  # four trials, and their starts
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-f", "lavfi",
             "-i", f"testsrc2=s=1280x720:r=30:d={length}", "-c:v", "libx264",
             "-preset", "ultrafast", "-g", "30", str(folder / "camera.mp4")],
            check=True,
        )  # fmt: skip
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", BEEPS, "-t", length,
             str(folder / "beeps.wav")],
            check=True,
        )  # fmt: skip
        with pulse_server(folder):
            print(f"microphone: PulseAudio's {SINK}.monitor, {args.seconds} s each")
            monitor = f"{SINK}.monitor"
            player = subprocess.Popen(["paplay", f"--device={SINK}", str(folder / "beeps.wav")])
            played = time.monotonic()  # every trial hears this one player: arrivals compare
            time.sleep(1)
            try:
                for name, microphone, correcting in (
                    ("as clips.camera reads it", microphone_input(monitor), True),
                    ("without the drift correction", microphone_input(monitor), False),
                    ("PulseAudio's default fragment", ["-f", "pulse", "-i", monitor], True),
                    ("as clips.camera reads it, again", microphone_input(monitor), True),
                ):
                    with drift_correction(correcting):
                        trial(folder, name, microphone, args.seconds, played)
            finally:
                player.terminate()


if __name__ == "__main__":
    main()
