"""The full reel render: one ffmpeg command for title card, clips (slow motion, held last
frame), stills held on screen, caption overlays and cross-fades. Every input is a URL on the
loopback server (recordings decrypted on the fly, images from memory)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from .ffmpeg import OWN_MEDIA, PRIMING_TRIM, TAG_BT709, TO_BT709, base_args
from .normalise import FRAGMENTED_MP4, encoder_args

SILENCE = "anullsrc=r=48000:cl=stereo"
AUDIO_FORMAT = "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo"


@dataclass(frozen=True)
class RenderItem:
    kind: Literal["clip", "image"]  # image: a still frame or the title card, held
    url: str
    length: Fraction  # seconds on screen
    start: Fraction = Fraction(0)  # clip: where in the recording
    duration: Fraction = Fraction(0)  # clip: seconds taken from the recording
    slow: Fraction = Fraction(1)
    hold: Fraction = Fraction(0)  # clip: freeze on the last frame afterwards
    caption_url: str | None = None


def _seconds(value: Fraction) -> str:
    return f"{float(value):.6f}"


def atempo_chain(slow: Fraction) -> list[str]:
    """atempo takes 0.5…2 per stage; slowing by 1/slow may need several."""
    stages, factor = [], 1 / slow
    while factor < Fraction(1, 2):
        stages.append("atempo=0.5")
        factor *= 2
    if factor != 1:
        stages.append(f"atempo={float(factor):.6f}")
    return stages


def prepare_reel(
    items: list[RenderItem], size: tuple[int, int], fps: Fraction, fade: Fraction
) -> list[str]:
    """The whole render as one ffmpeg argument list (pure)."""
    width, height = size
    inputs: list[str] = []
    filters: list[str] = []
    count = 0

    def add_input(*args: str) -> int:
        nonlocal count
        inputs.extend(args)
        count += 1
        return count - 1

    frame = (  # every picture BT.709 (recordings are; stills and title cards are RGB)
        f"scale={width}:{height}:force_original_aspect_ratio=decrease:{TO_BT709},"
        f"format=yuv420p,pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1"
    )
    for k, item in enumerate(items):
        length = _seconds(item.length)
        if item.kind == "clip":
            source = add_input(
                "-ss",
                _seconds(item.start),
                "-t",
                _seconds(item.duration),
                *OWN_MEDIA,
                "-i",
                item.url,
            )
            video = [frame, f"fps={fps}", f"setpts=(PTS-STARTPTS)*{item.slow}", f"fps={fps}"]
            if item.hold:
                video.append(f"tpad=stop_mode=clone:stop_duration={_seconds(item.hold)}")
            audio = [
                f"[{source}:a]{AUDIO_FORMAT}",
                "asetpts=PTS-STARTPTS",
                *atempo_chain(item.slow),
            ]
        else:
            source = add_input("-loop", "1", "-framerate", str(fps), "-t", length, "-i", item.url)
            video = [frame, f"fps={fps}"]
            silence = add_input("-f", "lavfi", "-t", length, "-i", SILENCE)
            audio = [f"[{silence}:a]{AUDIO_FORMAT}"]
        video += ["format=yuv420p", f"trim=duration={length}", "setpts=PTS-STARTPTS"]
        chain = ",".join(video)
        if item.caption_url:
            caption = add_input(
                "-loop", "1", "-framerate", str(fps), "-t", length, "-i", item.caption_url
            )
            filters.append(f"[{source}:v]{chain}[base{k}]")
            filters.append(f"[{caption}:v]scale={TO_BT709},format=yuva420p[caption{k}]")
            filters.append(
                f"[base{k}][caption{k}]overlay=0:0:shortest=1,format=yuv420p,"
                f"{TAG_BT709},settb=AVTB[v{k}]"
            )
        else:
            filters.append(f"[{source}:v]{chain},{TAG_BT709},settb=AVTB[v{k}]")
        filters.append(
            ",".join(
                [
                    *audio,
                    f"apad=whole_dur={length}",
                    f"atrim=duration={length}",
                    "asetpts=PTS-STARTPTS",
                ]
            )
            + f"[a{k}]"
        )
    filters += _join(items, fade)
    filters.append(f"[a]{PRIMING_TRIM}[sound]")  # 48 kHz already (AUDIO_FORMAT)
    return [
        *base_args(progress=True),
        *inputs,
        "-filter_complex",
        ";".join(filters),
        "-map",
        "[v]",
        "-map",
        "[sound]",
        "-r",
        str(fps),
        *encoder_args(fps),
        *FRAGMENTED_MP4,
        "pipe:1",
    ]


def _join(items: list[RenderItem], fade: Fraction) -> list[str]:
    n = len(items)
    if n == 1:
        return ["[v0]null[v]", "[a0]anull[a]"]
    shortest = min(i.length for i in items)
    fade = min(fade, shortest / 2)
    if fade <= 0:
        pairs = "".join(f"[v{k}][a{k}]" for k in range(n))
        return [f"{pairs}concat=n={n}:v=1:a=1[v][a]"]
    filters = []
    total = items[0].length
    video, audio = "v0", "a0"
    for k in range(1, n):
        offset = total - fade
        last = k == n - 1
        out_v, out_a = ("v", "a") if last else (f"xv{k}", f"xa{k}")
        filters.append(
            f"[{video}][v{k}]xfade=transition=fade:duration={_seconds(fade)}:"
            f"offset={_seconds(offset)}[{out_v}]"
        )
        filters.append(f"[{audio}][a{k}]acrossfade=d={_seconds(fade)}[{out_a}]")
        total += items[k].length - fade
        video, audio = out_v, out_a
    return filters


def reel_length(items: list[RenderItem], fade: Fraction) -> Fraction:
    if not items:
        return Fraction(0)
    fade = min(fade, min(i.length for i in items) / 2) if len(items) > 1 else Fraction(0)
    return sum((i.length for i in items), Fraction(0)) - fade * (len(items) - 1)
