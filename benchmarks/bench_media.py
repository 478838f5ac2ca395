"""Media benchmarks, side by side in one run (medians of --rounds), against plain ffmpeg on
plaintext files and MoviePy. The source is a synthetic 720p30 film in videofeedback's
normalised form (H.264 1 s GOPs, AAC, fragmented MP4), encrypted for us, plain for others.

Usage: .venv/bin/python benchmarks/bench_media.py [--minutes 10] [--rounds 3]
       [--record-seconds 60] [--seeks 20]
Goals (issue 4): reel ≤ 1.1× one ffmpeg command and ≤ 0.6× MoviePy; draft ≤ 1.5× stream copy
+ concat and ≥ 10× faster than the full render; filmstrip + waveform ≤ 1.2× ffmpeg's
keyframe decode + audio decode; exact seek median ≤ 1.2× plaintext and < 150 ms; recording
720p30: no dropped frames, ≤ 1 core, flat memory.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import alternate, machine, report  # noqa: E402
from clips import sync  # noqa: E402
from clips.cut import Clip, render_clips  # noqa: E402
from clips.ffmpeg import ffmpeg_exe, run  # noqa: E402
from clips.fmp4 import StoredFragments  # noqa: E402
from clips.frames import frame_at, prepare_frame_at  # noqa: E402
from clips.normalise import FRAGMENTED_MP4, encoder_args  # noqa: E402
from clips.overview import overview, prepare_filmstrip, prepare_peaks  # noqa: E402
from clips.record import Recorder  # noqa: E402
from clips.reel_render import RenderItem, prepare_reel  # noqa: E402
from clips.serve import serving  # noqa: E402
from clips.synthetic import SyntheticSource  # noqa: E402
from encryption import (  # noqa: E402
    AgeReader,
    DurableEncryptedFile,
    X25519Identity,
    atomic_encrypted_writer,
)
from videofeedback.captions import caption_png  # noqa: E402

FPS = Fraction(30)
CLIPS = 6
CLIP_SECONDS = 8
CAPTIONS = [
    "Zażółć gęślą jaźń",
    "انتظرتِ، فأرتكِ الكتاب",
    "তুমি অপেক্ষা করেছ",
    "你等了，她给你看了书",
    "You waited, and she showed you the book",
    "Look at her face",
]


def make_film(path: Path, minutes: int) -> None:
    """Made exactly as an import is: fragmented MP4 written to a pipe (so with its mfra),
    passed through StoredFragments (the mfra's times corrected)."""
    seconds = minutes * 60
    with open(path, "wb") as out:
        fragments = StoredFragments(out.write)
        made = subprocess.Popen(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=s=1280x720:r=30:d={seconds}",
                "-f",
                "lavfi",
                "-i",
                f"sine=f=440:sample_rate=48000:d={seconds}",
                *encoder_args(FPS),
                *FRAGMENTED_MP4,
                "pipe:1",
            ],
            stdout=subprocess.PIPE,
        )
        assert made.stdout is not None
        while chunk := made.stdout.read(1 << 20):
            fragments(chunk)
        fragments.finish()
        if made.wait() != 0:
            raise SystemExit("making the film failed")


def encrypt(plain: Path, target: Path, identity: X25519Identity) -> None:
    with open(plain, "rb") as source, atomic_encrypted_writer(target, [identity.recipient]) as w:
        while block := source.read(1 << 20):
            w.write(block)


def clip_starts(minutes: int) -> list[int]:
    rng = random.Random(7)
    return sorted(rng.randrange(0, minutes * 60 - CLIP_SECONDS - 1) for _ in range(CLIPS))


def reel_items(url: str, starts: list[int], captions: list[str]) -> list[RenderItem]:
    return [
        RenderItem(
            "clip",
            url,
            Fraction(CLIP_SECONDS),
            Fraction(s) + Fraction(1, 3),
            Fraction(CLIP_SECONDS),
            caption_url=c,
        )
        for s, c in zip(starts, captions, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--record-seconds", type=int, default=60)
    parser.add_argument("--seeks", type=int, default=20)
    parser.add_argument(
        "--only", choices=["all", "record", "reels", "draft", "overview"], default="all"
    )
    args = parser.parse_args()
    if args.only == "record":
        with tempfile.TemporaryDirectory() as t:
            bench_record(args, Path(t), X25519Identity.generate())
        return
    print(f"machine: {machine()}\nsource: {args.minutes} min 720p30, median of {args.rounds}")
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as t:
        folder = Path(t)
        identity = X25519Identity.generate()
        plain, secret = folder / "film.mp4", folder / "film.mp4.age"
        started = time.perf_counter()
        make_film(plain, args.minutes)
        encrypt(plain, secret, identity)
        print(f"(made the source in {time.perf_counter() - started:.0f} s)")
        starts = clip_starts(args.minutes)
        captions = []
        for n, text in enumerate(CAPTIONS):
            captions.append(folder / f"caption{n}.png")
            captions[-1].write_bytes(caption_png(text, 1280, 720))
        opener = lambda: AgeReader(secret, [identity])  # noqa: E731
        with serving(opener, *[(lambda p=p: open(p, "rb")) for p in captions]) as urls:
            url, caption_urls = urls[0], urls[1:]
            if args.only != "overview":
                bench_reels(args, folder, plain, url, starts, captions, caption_urls, identity)
            if args.only in ("reels", "draft"):
                return
            bench_overview(args, plain, url)
            bench_seek(args, plain, url)
        if args.only != "overview":
            bench_record(args, folder, identity)


def bench_reels(args, folder, plain, url, starts, captions, caption_urls, identity) -> None:
    ours_items = reel_items(url, starts, caption_urls)
    plain_items = reel_items(str(plain), starts, [str(c) for c in captions])
    fade = Fraction(1, 2)

    def ours_full() -> None:
        with atomic_encrypted_writer(folder / "reel.age", [identity.recipient]) as w:
            fragments = StoredFragments(w.write)  # as videofeedback.media.render_reel
            run(prepare_reel(ours_items, (1280, 720), FPS, fade), sink=fragments)
            fragments.finish()

    def ffmpeg_full() -> None:
        argv = prepare_reel(plain_items, (1280, 720), FPS, fade)
        run([*argv[:-1], "-y", str(folder / "reel.mp4")])

    def ours_draft() -> None:
        source = folder / "film.mp4.age"  # whole GOPs are read from it directly
        clips = [
            Clip(
                url,
                s * 30 + 10,
                s * 30 + 10 + CLIP_SECONDS * 30,
                open=lambda: AgeReader(source, [identity]),
            )
            for s in starts
        ]
        with atomic_encrypted_writer(folder / "draft.age", [identity.recipient]) as w:
            render_clips(clips, FPS, w.write)

    def ffmpeg_copy_concat() -> None:
        parts = []
        for n, s in enumerate(starts):
            part = folder / f"part{n}.mp4"
            run(
                [
                    ffmpeg_exe(),
                    "-v",
                    "error",
                    "-ss",
                    f"{s + 1 / 3:.6f}",
                    "-t",
                    str(CLIP_SECONDS),
                    "-i",
                    str(plain),
                    "-c",
                    "copy",
                    "-y",
                    str(part),
                ]
            )
            parts.append(part)
        listing = folder / "parts.txt"
        listing.write_text("".join(f"file '{p}'\n" for p in parts))
        run(
            [
                ffmpeg_exe(),
                "-v",
                "error",
                "-f",
                "concat",
                "-safe",
                "0",
                "-i",
                str(listing),
                "-c",
                "copy",
                "-y",
                str(folder / "copy.mp4"),
            ]
        )

    if args.only == "draft":  # the draft against its two yardsticks, nothing else
        drafts = alternate(
            {
                "videofeedback draft (smart cut)": ours_draft,
                "ffmpeg stream copy + concat": ffmpeg_copy_concat,
                "videofeedback full reel": ours_full,
            },
            args.rounds,
        )
        report("draft reel", drafts, ["ffmpeg stream copy + concat", "videofeedback full reel"])
        return
    contenders = {
        "videofeedback reel (encrypted in/out)": ours_full,
        "ffmpeg, one command (plaintext)": ffmpeg_full,
    }
    moviepy = moviepy_reel(plain, starts, folder)
    if moviepy:
        contenders["MoviePy (plaintext)"] = moviepy
    medians = alternate(contenders, args.rounds)
    report(
        f"reel of {CLIPS} x {CLIP_SECONDS} s, captions and fades",
        medians,
        ["ffmpeg, one command (plaintext)", "MoviePy (plaintext)"]
        if moviepy
        else ["ffmpeg, one command (plaintext)"],
    )
    drafts = alternate(
        {
            "videofeedback draft (smart cut)": ours_draft,
            "ffmpeg stream copy + concat": ffmpeg_copy_concat,
        },
        args.rounds,
    )
    drafts["videofeedback full reel"] = medians["videofeedback reel (encrypted in/out)"]
    report("draft reel", drafts, ["ffmpeg stream copy + concat", "videofeedback full reel"])


def moviepy_reel(plain: Path, starts: list[int], folder: Path):  # type: ignore[no-untyped-def]
    try:
        from moviepy import CompositeVideoClip, TextClip, VideoFileClip, concatenate_videoclips
        from moviepy.video.fx import CrossFadeIn
    except ImportError:
        print("\n(MoviePy not installed: '.venv/bin/pip install moviepy' to compare with it)")
        return None
    font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

    def render() -> None:
        source = VideoFileClip(str(plain))
        clips = []
        for n, s in enumerate(starts):
            clip = source.subclipped(s + 1 / 3, s + 1 / 3 + CLIP_SECONDS)
            text = (
                TextClip(font=font, text=CAPTIONS[4], font_size=40, color="white", bg_color="black")
                .with_duration(CLIP_SECONDS)
                .with_position(("center", 560))
            )
            clip = CompositeVideoClip([clip, text])
            clips.append(clip.with_effects([CrossFadeIn(0.5)]) if n else clip)
        reel = concatenate_videoclips(clips, method="compose", padding=-0.5)
        reel.write_videofile(
            str(folder / "moviepy.mp4"),
            codec="libx264",
            audio_codec="aac",
            preset="veryfast",
            fps=30,
            logger=None,
        )
        source.close()

    return render


def bench_overview(args, plain, url) -> None:  # type: ignore[no-untyped-def]
    def ours() -> None:
        overview(url, Fraction(2), (1280, 720))

    def ffmpeg_alone() -> None:  # the yardstick: -skip_frame nokey, no -discard
        argv = prepare_filmstrip(str(plain), Fraction(2), 160)
        at = argv.index("-discard")
        video = subprocess.Popen(argv[:at] + argv[at + 2 :], stdout=subprocess.DEVNULL)
        subprocess.run(prepare_peaks(str(plain)), stdout=subprocess.DEVNULL, check=True)
        video.wait()

    report(
        f"filmstrip (every 2 s) + waveform of {args.minutes} min",
        alternate(
            {
                "videofeedback (encrypted)": ours,
                "ffmpeg -skip_frame nokey + audio (plaintext)": ffmpeg_alone,
            },
            args.rounds,
        ),
        ["ffmpeg -skip_frame nokey + audio (plaintext)"],
    )


def bench_seek(args, plain, url) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    targets = [Fraction(rng.randrange(args.minutes * 60 * 30), 30) for _ in range(args.seeks)]
    ours, theirs = [], []
    for target in targets:
        start = time.perf_counter()
        frame_at(url, target, FPS, (1280, 720))
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run(
            prepare_frame_at(str(plain), int(target * 30), FPS), capture_output=True, check=True
        )
        theirs.append(time.perf_counter() - start)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(
        f"\nexact frame at {args.seeks} random times (median)\n"
        f"  videofeedback (encrypted)          {a * 1000:7.1f} ms   {a / b:.2f}x plaintext\n"
        f"  same ffmpeg command (plaintext)    {b * 1000:7.1f} ms"
    )


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def bench_record(args, folder, identity) -> None:  # type: ignore[no-untyped-def]
    samples: list[tuple[float, float]] = []  # (seconds, current RSS in MB)
    stop = threading.Event()
    start = time.perf_counter()

    def sample() -> None:
        while not stop.wait(2):
            samples.append((time.perf_counter() - start, _rss_mb()))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu_before = _cpu()
    sink = DurableEncryptedFile(folder / "rec.mp4.age", [identity.recipient])
    result = Recorder(SyntheticSource(ticks=True), sink).record(Fraction(args.record_seconds))
    wall = time.perf_counter() - start
    cpu = _cpu() - cpu_before
    stop.set()
    settled = [mb for t, mb in samples if t > min(60, args.record_seconds / 2)] or [0.0]
    print(
        f"\nrecording the synthetic source, 720p30, {args.record_seconds} s\n"
        f"  dropped frames {result.dropped}, CPU {cpu / wall:.2f} cores on average "
        f"(recorder + ffmpeg), {result.bytes / 1e6:.1f} MB written\n"
        f"  memory of this process after the first minute: {min(settled):.0f}-"
        f"{max(settled):.0f} MB (ffmpeg, a child, not counted)"
    )
    with serving(lambda: AgeReader(folder / "rec.mp4.age", [identity])) as (url,):
        print(f"  sound against picture: {sync.measure(url, (1280, 720), FPS).summary()}")


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
