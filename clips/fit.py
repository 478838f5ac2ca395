"""Does a file already fit the normalised form, so that import can copy its picture instead of
re-encoding it? H.264 4:2:0 8-bit, no B-frames, a keyframe at every whole second, upright,
within 1280×720 and at exactly 25 or 30 fps. The sound is copied too when it is already AAC at
48 kHz stereo (ffmpeg's AAC encoder runs at only ~16× real time here), else re-encoded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .ffmpeg import capture, ffmpeg_exe
from .normalise import output_rate, output_size
from .probe import MediaInfo, VideoStream

MAX_KEYFRAME_GAP = Fraction(2)  # the last keyframe's distance from the end, at most
B_FRAME_SAMPLE = 90  # frames decoded to look for B-frames
_FRAME = re.compile(r"pts_time:\s*([-\d.]+).*?type:([IPB?])")


@dataclass(frozen=True)
class FrameScan:
    keyframes: list[Fraction]  # times of every keyframe
    b_frames: bool  # any B-frame among the first frames


def prepare_keyframe_scan(source: str, video: VideoStream) -> list[str]:
    """Decode only the keyframes, each reported by showinfo (pure)."""
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-skip_frame", "nokey", "-i", source,
        "-map", f"0:{video.index}", "-vf", "showinfo", "-f", "null", "-",
    ]  # fmt: skip


def prepare_b_frame_scan(source: str, video: VideoStream) -> list[str]:
    """Decode the first frames and report each one's type (pure)."""
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", source, "-map", f"0:{video.index}",
        "-frames:v", str(B_FRAME_SAMPLE), "-vf", "showinfo", "-f", "null", "-",
    ]  # fmt: skip


def parse_frames(text: str) -> list[tuple[Fraction, str]]:
    return [(Fraction(t), kind) for t, kind in _FRAME.findall(text)]


def _run(argv: list[str]) -> str:
    done = capture(argv, timeout=600)
    return done.stderr.decode("utf-8", "replace")


def scan(source: str, video: VideoStream) -> FrameScan:
    keyframes = [t for t, _ in parse_frames(_run(prepare_keyframe_scan(source, video)))]
    types = {kind for _, kind in parse_frames(_run(prepare_b_frame_scan(source, video)))}
    return FrameScan(keyframes, "B" in types)


def picture_fits(info: MediaInfo) -> bool:
    """What the stream headers alone can tell (no decoding)."""
    video = info.main_video
    if video is None or video.codec != "h264" or video.pixel_format != "yuv420p" or video.hdr:
        return False
    if video.rotation % 360 or output_size(video.width, video.height) != (
        video.width,
        video.height,
    ):
        return False
    return video.fps == output_rate(video.fps)


def sound_fits(info: MediaInfo) -> bool:
    audio = info.main_audio
    return audio is not None and (audio.codec, audio.sample_rate, audio.channels) == (
        "aac",
        48_000,
        "stereo",
    )


def gops_fit(frames: FrameScan, duration: Fraction | None) -> bool:
    """A keyframe at every whole second, as a recording has (smart cut relies on it)."""
    if frames.b_frames or not frames.keyframes:
        return False
    half_frame = Fraction(1, 60)
    on_seconds = all(abs(t - k) < half_frame for k, t in enumerate(frames.keyframes))
    complete = duration is None or duration - len(frames.keyframes) < MAX_KEYFRAME_GAP - 1
    return on_seconds and complete


def can_copy_picture(source: str, info: MediaInfo) -> bool:
    """True when the picture can be stream-copied into the normalised recording."""
    video = info.main_video
    return video is not None and picture_fits(info) and gops_fit(scan(source, video), info.duration)
