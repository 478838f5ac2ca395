"""The camera source: OpenCV frames (here from a file, as no camera is attached to CI), sound
from an ffmpeg input (here lavfi in real time: no microphone either), and the buffer that
keeps a drifting microphone in step with the recorder's clock."""

import io
import os
import threading
import time
from fractions import Fraction

import numpy as np
import pytest

from clips.camera import (
    CUSHION,
    DRIFT_ROOM,
    MAX_AUDIO_LAG,
    CameraSource,
    Microphone,
    microphone_input,
    prepare_microphone,
    resampled,
)
from clips.errors import MediaError
from clips.ffmpeg import video_encoder_args
from clips.record import audio_level_db
from clips.synthetic import read_pattern
from tests.media.conftest import decode_frames
from tests.media.test_import_and_stills import make_variant
from videofeedback import media


def test_microphone_inputs_per_platform():
    assert microphone_input("default", "linux") == [
        "-f", "pulse", "-fragment_size", "3840", "-i", "default",
    ]  # fmt: skip
    assert microphone_input("default", "darwin") == ["-f", "avfoundation", "-i", ":0"]
    assert microphone_input("Microphone (USB)", "win32") == [
        "-f",
        "dshow",
        "-i",
        "audio=Microphone (USB)",
    ]
    argv = prepare_microphone(["-f", "pulse", "-i", "default"], 48_000)
    assert argv[-7:] == ["-ac", "1", "-ar", "48000", "-f", "s16le", "pipe:1"]


#: Two seconds of a 440 Hz tone at 48 kHz, for the microphones fed from our own pipe.
TONE = (np.sin(np.arange(48_000 * 2) * 2 * np.pi * 440 / 48_000) * 8000).astype("<i2")


def tone(seconds: int = 30) -> list[str]:
    """A 'microphone' in real time: ffmpeg's own sine source, read at its native rate."""
    return ["-re", "-f", "lavfi", "-i", f"sine=f=440:sample_rate=48000:duration={seconds}"]


def speaking(mic: Microphone, speed: float, seconds: float) -> threading.Thread:
    """Feed ``mic`` from our own pipe, its clock ``speed`` times the nominal one."""
    read_fd, write_fd = os.pipe()
    mic.feed_from(os.fdopen(read_fd, "rb"))

    def feed() -> None:
        with os.fdopen(write_fd, "wb") as pipe:
            start, sent = time.monotonic(), 0
            while (now := time.monotonic() - start) < seconds:
                due = int(now * 48_000 * speed)
                if due > sent:
                    pipe.write(TONE[sent % 48_000 : sent % 48_000 + due - sent].tobytes())
                    pipe.flush()
                    sent = due
                time.sleep(0.005)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


def pull(mic: Microphone, seconds: float) -> bytes:
    """Take sound as the recorder does: one frame's worth per tick of a 30 fps clock."""
    taken, start, tick = [], time.monotonic(), 0
    while tick < seconds * 30:
        delay = start + tick / 30 - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        taken.append(mic.take(1600))
        tick += 1
    return b"".join(taken)


def test_a_fast_microphone_is_held_to_the_clock_by_dropping():
    mic = Microphone([], 48_000)
    feeder = speaking(mic, 1.05, 4.5)  # 5 % fast (a real one drifts ~0.01 %)
    sound = pull(mic, 4)
    dropped, buffered = mic.dropped_samples, len(mic._buffer) // 2
    feeder.join()
    assert len(sound) == 4 * 48_000 * 2
    ahead = 0.05 * 4 * 48_000  # samples it ran ahead of the clock
    assert ahead - (MAX_AUDIO_LAG + CUSHION) * 48_000 - 2000 < dropped < ahead + 4000
    assert buffered <= MAX_AUDIO_LAG * 48_000
    assert audio_level_db(sound[-9600:]) > -30  # the tone, not silence


def test_a_slow_microphone_is_filled_with_silence():
    mic = Microphone([], 48_000)
    feeder = speaking(mic, 0.95, 3.5)  # 5 % slow
    sound = pull(mic, 3)
    inserted, dropped = mic.inserted_samples, mic.dropped_samples
    feeder.join()
    assert len(sound) == 3 * 48_000 * 2
    behind = 0.05 * 3 * 48_000
    cushion = CUSHION * 48_000  # silence before the cushion filled
    assert behind - 4000 < inserted - cushion < behind + 6000
    assert dropped == 0


def simulated(speed: float, seconds: int) -> tuple[Microphone, list[int], bytes]:
    """A microphone whose clock runs ``speed`` times the recorder's, delivering 20 ms of a
    tone at a time, taken from at 30 fps, in simulated time: the buffer before each take and
    all the sound taken."""
    mic, levels, taken = Microphone([], 48_000), [], []
    delivered = 0
    for tick in range(seconds * 30):
        while delivered * 0.02 / speed <= tick / 30 + 0.1:  # the cushion arrives first
            first = delivered * 960 % 48_000
            mic.receive(TONE[first : first + 960].tobytes())
            delivered += 1
        levels.append(len(mic._buffer) // 2)
        taken.append(mic.take(1600))
    return mic, levels, b"".join(taken)


@pytest.mark.parametrize("speed", [1.004, 0.996, 1.0], ids=["fast", "slow", "on time"])
def test_a_drifting_microphone_is_kept_near_its_cushion(speed):
    """0.4 % off for 100 s is 0.4 s: unchecked, the sound would end 200 ms late (then cut)
    or run dry (then gaps of silence). Held to the clock by squeezing or stretching at most
    0.5 %, it stays within the band around the cushion, with no silence and nothing cut."""
    mic, levels, sound = simulated(speed, 100)
    low, high = CUSHION * 48_000, (CUSHION + DRIFT_ROOM) * 48_000
    assert len(sound) == 100 * 48_000 * 2
    assert all(low - 960 <= level <= high + 960 for level in levels[30:]), (
        min(levels),
        max(levels),
    )
    assert (mic.dropped_samples, mic.inserted_samples) == (0, 0)
    drift = (speed - 1) * 100 * 48_000
    if speed == 1:  # lifted once off the cushion's edge (taken in 20 ms pieces), no more
        assert abs(mic.drift_samples) <= 960
    else:
        assert abs(mic.drift_samples - drift) < 0.05 * 48_000
    assert audio_level_db(sound[-9600:]) > -30


def test_a_microphone_5_percent_off_is_held_to_the_clock_in_simulated_time():
    """The quick tier's version of the two real-time tests above (they are in the slow tier):
    the same buffer, fed 5 % fast or slow in simulated time, drops the oldest sound beyond
    MAX_AUDIO_LAG or fills the gap with silence, and keeps the tone."""
    fast, levels, sound = simulated(1.05, 4)
    ahead = 0.05 * 4 * 48_000
    assert 0 < fast.dropped_samples < ahead + 4000 and fast.inserted_samples == 0
    assert fast.dropped_samples > ahead - (MAX_AUDIO_LAG + CUSHION) * 48_000 - 2000
    assert max(levels) <= MAX_AUDIO_LAG * 48_000
    assert len(sound) == 4 * 48_000 * 2 and audio_level_db(sound[-9600:]) > -30
    slow, _, sound = simulated(0.95, 3)
    behind = 0.05 * 3 * 48_000
    assert behind - 4000 < slow.inserted_samples < behind + 2000 and slow.dropped_samples == 0
    assert len(sound) == 3 * 48_000 * 2 and audio_level_db(sound[-9600:]) > -30


def test_resampling_spreads_the_change_evenly():
    ramp = np.arange(1000, dtype="<i2")
    squeezed = np.frombuffer(resampled(ramp.tobytes(), 995), "<i2")
    stretched = np.frombuffer(resampled(ramp.tobytes(), 1005), "<i2")
    assert len(squeezed) == 995 and len(stretched) == 1005
    assert set(np.diff(squeezed)) == {1, 2} and (np.diff(squeezed) == 2).sum() == 5
    assert set(np.diff(stretched)) == {0, 1} and (np.diff(stretched) == 0).sum() == 5
    assert resampled(b"", 10) == b""


def test_sound_from_before_the_recording_is_not_kept():
    """Half a second heard while the recording was still starting: the first take keeps only
    the newest cushion of it, so the recording's sound is no later than the cushion."""
    mic = Microphone([], 48_000)
    heard = np.arange(24_000, dtype="<i2")  # each sample its own number
    mic.feed_from(io.BytesIO(heard.tobytes()))
    deadline = time.monotonic() + 10
    while bytes(mic._buffer[-2:]) != heard[-1:].tobytes() and time.monotonic() < deadline:
        time.sleep(0.01)  # until the last sample is in
    first = np.frombuffer(mic.take(1600), "<i2")
    cushion = int(CUSHION * 48_000)
    assert list(first) == list(range(24_000 - cushion, 24_000 - cushion + 1600))
    assert (mic.dropped_samples, mic.inserted_samples) == (0, 0)


def test_the_microphone_reads_an_ffmpeg_input():
    mic = Microphone(tone(3), 48_000)
    mic.start()
    try:
        sound = pull(mic, 1)
    finally:
        mic.stop()
    assert audio_level_db(sound[-4800:]) > -30  # lavfi's sine is -21 dB


def test_a_camera_source_starts_with_picture_and_sound(tmp_path):
    """Entering waits for the camera's first frame and the microphone's first sound (ffmpeg
    takes a moment to start either); the recording's first tick has both."""
    film = make_variant(tmp_path, "camera.mp4", *video_encoder_args(Fraction(30)), audio=False)
    with CameraSource(str(film), 640, 360, microphone=tone()) as camera:
        assert camera.frame(0) is not None
        first_tick = camera.audio(0, 1600)
        health = camera.microphone_health  # at that tick (later, unread sound piles up)
        assert audio_level_db(first_tick) > -30  # the tone, not silence
        assert health == (0, 0)


def test_waiting_for_a_silent_microphone_gives_up(tmp_path):
    film = make_variant(tmp_path, "camera.mp4", *video_encoder_args(Fraction(30)), audio=False)
    never = ["-re", "-f", "lavfi", "-i", "sine=sample_rate=48000", "-ss", "1000"]  # no output yet
    with CameraSource(str(film), 640, 360, microphone=never) as camera:
        assert camera.wait_until_ready(timeout=0.2) is False
        assert camera.audio(0, 1600) == bytes(3200)  # the recording would go on in silence
    broken = ["-f", "lavfi", "-i", "no_such_source"]
    with CameraSource(str(film), 640, 360, microphone=broken) as camera:
        assert camera.wait_until_ready(timeout=0.2) is True  # it ended: nothing to wait for
        assert camera.microphone_error()


def test_a_missing_camera_is_one_clear_error(tmp_path):
    with pytest.raises(MediaError, match="cannot be opened"):
        with CameraSource(str(tmp_path / "no-camera.mp4"), microphone=None):
            pass


def test_recording_from_a_camera_source(studio, tmp_path):
    film = make_variant(tmp_path, "camera.mp4", *video_encoder_args(Fraction(30)), audio=False)
    with CameraSource(str(film), 640, 360, microphone=tone()) as camera:
        media_id, result = media.record(studio.case, studio.session_id, camera, Fraction(2))
        dropped, inserted = camera.microphone_health
    studio.case.save()
    assert result.duration == 2 and result.dropped == 0
    info = studio.case.media.get(media_id).info
    assert (info["width"], info["height"]) == (640, 360)
    frames = decode_frames(studio.case, media_id)
    assert len(frames) == 60
    assert all(0 <= read_pattern(f) < 60 for f in frames)  # the camera's own pictures
    assert inserted < 1600  # sound from the first frame on (less than a frame's worth missing)
