"""Import: any phone or camera file → the same normalised fragmented MP4 a recording is
(H.264 1 s GOPs, no B-frames, constant frame rate, AAC 48 kHz stereo), encrypted on the way."""

from __future__ import annotations

from fractions import Fraction

from .ffmpeg import AAC_PRIMING_TRIM, base_args, video_encoder_args
from .probe import MediaInfo

MAX_LONG_SIDE = 1280
MAX_SHORT_SIDE = 720
FRAGMENTED_MP4 = ["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"]
#: HDR (HLG or PQ, BT.2020) to SDR BT.709: to linear light (100 nits = 1.0), BT.709 primaries,
#: the highlights compressed by the Hable curve, then BT.709 again. Without it phones' HDR
#: films look grey and washed out (docs/ARCHITECTURE.md, "HDR is tone-mapped at import").
TONE_MAP = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
    "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
)
BT709_TAGS = ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]


def output_rate(fps: Fraction) -> Fraction:
    """25 for PAL-family sources (25, 50), else 30: constant, whatever the phone did."""
    return Fraction(25) if abs(fps - 25) < 1.5 or abs(fps - 50) < 3 else Fraction(30)


def output_size(width: int, height: int) -> tuple[int, int]:
    """Fit within 1280×720 (or 720×1280 for portrait), never upscale, even numbers."""
    long_side, short_side = max(width, height), min(width, height)
    scale = min(1.0, MAX_LONG_SIDE / long_side, MAX_SHORT_SIDE / short_side)
    w, h = round(width * scale / 2) * 2, round(height * scale / 2) * 2
    return max(w, 2), max(h, 2)


def encoder_args(fps: Fraction) -> list[str]:
    return [
        *video_encoder_args(fps),
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ar",
        "48000",
        "-ac",
        "2",
        "-use_editlist",
        "1",
    ]


def prepare_import(
    source: str, info: MediaInfo, copy_picture: bool = False, copy_sound: bool = False
) -> tuple[list[str], Fraction, tuple[int, int]]:
    """ffmpeg arguments (pure), the output frame rate and size. ``copy_picture`` and
    ``copy_sound``: those streams already fit (see clips.fit) and are stream-copied."""
    video = info.main_video
    assert video is not None
    fps = output_rate(video.fps)
    width, height = output_size(*video.display_size)
    audio = info.main_audio
    argv = [
        *base_args(progress=True),
        "-i",
        source,
    ]
    if audio is None:  # silence, so every recording has sound for reels and players
        argv += ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo"]
    argv += ["-map", f"0:{video.index}", "-map", f"0:{audio.index}" if audio else "1:a"]
    sound = encoder_args(fps)[encoder_args(fps).index("-c:a") :]
    if audio is not None:  # the AAC priming cancelled, as in a recording
        sound = [*AAC_PRIMING_TRIM, *sound]
    if copy_sound and audio is not None:
        sound = ["-c:a", "copy", "-use_editlist", "1"]
    if copy_picture:
        argv += ["-c:v", "copy", *sound]
    else:
        steps = ["bwdif=deint=interlaced", f"scale={width}:{height}:flags=bicubic", "setsar=1"]
        if video.hdr:  # tone-mapped after scaling: a 720p float picture costs less
            steps.append(TONE_MAP)
        filters = ",".join([*steps, "format=yuv420p"])
        argv += ["-vf", filters, "-fps_mode", "cfr", "-r", str(fps), *video_encoder_args(fps)]
        argv += [*(BT709_TAGS if video.hdr else []), *sound]
    if audio is None:
        argv += ["-shortest"]
    argv += ["-map_metadata", "-1", "-map_chapters", "-1", *FRAGMENTED_MP4, "pipe:1"]
    return argv, fps, (width, height)


def prepare_decode_check(source: str, info: MediaInfo) -> list[str]:
    """Decode the first picture of the main video stream (pure)."""
    video = info.main_video
    assert video is not None
    return [
        *base_args(progress=True),
        "-i",
        source,
        "-map",
        f"0:{video.index}",
        "-frames:v",
        "1",
        "-f",
        "null",
        "-",
    ]
