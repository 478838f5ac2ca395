"""What a media file holds, read from ``ffmpeg -i`` (imageio-ffmpeg ships no ffprobe)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .errors import UnreadableMediaError
from .ffmpeg import capture, ffmpeg_exe

_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_STREAM = re.compile(r"Stream #0:(\d+)[^:]*: (Video|Audio|Data|Subtitle|Attachment): (.*)")
_SIZE = re.compile(r"\b(\d{2,5})x(\d{2,5})\b")
_FPS = re.compile(r"([\d.]+) fps")
_TBR = re.compile(r"([\d.]+)k? tbr")
_HZ = re.compile(r"(\d+) Hz")
_ROTATION = re.compile(r"rotation of (-?[\d.]+) degrees")
# "yuv420p10le(tv, bt2020nc/bt2020/arib-std-b67)": matrix/primaries/transfer, or one name for all
_COLOUR = re.compile(r"\((?:tv|pc), ([\w-]+)(?:/([\w-]+)/([\w-]+))?")
HDR_TRANSFERS = {"arib-std-b67": "HLG", "smpte2084": "PQ"}


@dataclass(frozen=True)
class VideoStream:
    index: int
    codec: str
    width: int
    height: int
    fps: Fraction
    pixel_format: str
    rotation: int  # degrees, as the display matrix says
    attached_picture: bool = False
    transfer: str = ""  # the transfer characteristic, e.g. bt709, arib-std-b67 (HLG)

    @property
    def hdr(self) -> bool:
        """HLG or PQ: needs tone mapping to look right on an ordinary (SDR) screen."""
        return self.transfer in HDR_TRANSFERS

    @property
    def display_size(self) -> tuple[int, int]:
        """Width and height as shown, after rotation."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height


@dataclass(frozen=True)
class AudioStream:
    index: int
    codec: str
    sample_rate: int
    channels: str


@dataclass(frozen=True)
class MediaInfo:
    duration: Fraction | None
    video: list[VideoStream]
    audio: list[AudioStream]

    @property
    def main_video(self) -> VideoStream | None:
        """The stream that is the film: not a cover picture; moving (≥ 5 fps) before still-like
        tracks (a motion photo's photo track); then the largest."""
        candidates = [v for v in self.video if not v.attached_picture]
        if not candidates:
            return None
        return max(candidates, key=lambda v: (v.fps >= 5, v.width * v.height, -v.index))

    @property
    def main_audio(self) -> AudioStream | None:
        playable = [a for a in self.audio if a.sample_rate > 0]
        return playable[0] if playable else None


def _fraction(text: str) -> Fraction:
    value = Fraction(text).limit_denominator(1001)
    return Fraction(30000, 1001) if value == Fraction(2997, 100) else value


def parse_probe(text: str) -> MediaInfo:
    duration = None
    if match := _DURATION.search(text):
        hours, minutes, seconds = match.groups()
        duration = Fraction(int(hours) * 3600 + int(minutes) * 60) + Fraction(seconds)
    video: list[VideoStream] = []
    audio: list[AudioStream] = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        match = _STREAM.search(line)
        if not match:
            continue
        index, kind, rest = int(match.group(1)), match.group(2), match.group(3)
        codec = rest.split(" ", 1)[0].rstrip(",")
        if kind == "Video":
            video.append(_video(index, codec, rest, lines[number + 1 : number + 60]))
        elif kind == "Audio":
            rate = _HZ.search(rest)
            channels = rest.split(",")[2].strip() if rest.count(",") >= 2 else ""
            audio.append(AudioStream(index, codec, int(rate.group(1)) if rate else 0, channels))
    return MediaInfo(duration, video, audio)


def _video(index: int, codec: str, rest: str, following: list[str]) -> VideoStream:
    size = _SIZE.search(rest)
    fps_match = _FPS.search(rest) or _TBR.search(rest)
    rotation = 0
    for line in following:
        if _STREAM.search(line):
            break
        if found := _ROTATION.search(line):
            rotation = round(float(found.group(1)))
            break
    pixel_format = rest.split(",")[1].strip().split("(")[0] if "," in rest else ""
    colour = _COLOUR.search(rest)
    transfer = (colour.group(3) or colour.group(1)) if colour else ""
    return VideoStream(
        index,
        codec,
        int(size.group(1)) if size else 0,
        int(size.group(2)) if size else 0,
        _fraction(fps_match.group(1)) if fps_match else Fraction(0),
        pixel_format,
        rotation,
        "attached pic" in rest,
        transfer,
    )


def probe(url: str) -> MediaInfo:
    """Probe a path or URL; UnreadableMediaError if no video stream is found."""
    done = capture([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", url], timeout=120)
    text = done.stderr.decode("utf-8", "replace")
    info = parse_probe(text)
    if info.main_video is None:
        reason = text.strip().splitlines()[-1] if text.strip() else "no output"
        if "Invalid data" in text or "moov atom not found" in text:
            reason = "the file is damaged or not a video"
        raise UnreadableMediaError(f"cannot read this file as a video ({reason})")
    return info
