"""The full reel render: timing of every item, stills held, slow motion, fades, and captions
in several scripts actually drawn on the pictures."""

import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from annotations import ReelPlan
from clips.probe import probe
from clips.reel_render import RenderItem, atempo_chain, prepare_reel, reel_length
from clips.serve import serving
from clips.synthetic import SyntheticSource, read_pattern
from tests.media.conftest import AS_FAST_AS_IT_ENCODES, decode_frames
from tests.paths import REPO
from videofeedback import media
from videofeedback.captions import caption_image

SCRIPTS = {
    "Polish": "Zażółć gęślą jaźń",
    "Arabic": "انتظرتِ، فأرتكِ الكتاب",
    "Bengali": "তুমি অপেক্ষা করেছ",
    "Chinese": "你等了，她给你看了书",
}


def white_pixels(text: str) -> np.ndarray:
    image = caption_image(text, 1280, 720)
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    rgba = pixels.reshape(720, 1280, 4).copy()
    return (rgba[..., 0] > 200) & (rgba[..., 3] > 200)


def test_captions_draw_every_script_with_real_glyphs(qt_gui):
    """Each script draws clearly more ink than the 'missing glyph' boxes would, and
    differently from every other script (no font fell back to boxes)."""
    tofu = white_pixels("\U0010fffd" * 8).sum()
    drawn = {name: white_pixels(text) for name, text in SCRIPTS.items()}
    for name, ink in drawn.items():
        assert ink.sum() > 2.5 * tofu, f"{name} looks like missing glyphs"
    names = list(drawn)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert (drawn[a] != drawn[b]).sum() > 1000


def test_captions_on_the_command_line_print_nothing():
    """Rendering Bengali headless (as `videofeedback reel render` does) says nothing; Qt
    would report Noto Sans lacking Bengali before it falls back to Noto Sans Bengali."""
    script = (
        "from videofeedback.captions import caption_png, ensure_gui; ensure_gui(); "
        f"caption_png({SCRIPTS['Bengali']!r}, 1280, 720)"
    )
    environment = {k: v for k, v in os.environ.items() if k != "QT_LOGGING_RULES"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_prepare_reel_joins_with_fades_or_concat():
    items = [
        RenderItem("image", "http://t/title", Fraction(2)),
        RenderItem(
            "clip",
            "http://t/m",
            Fraction(3),
            Fraction(1),
            Fraction(1),
            Fraction(2),
            Fraction(1),
            "http://t/cap",
        ),
    ]
    faded = " ".join(prepare_reel(items, (1280, 720), Fraction(30), Fraction(1, 2)))
    assert "xfade=transition=fade:duration=0.500000:offset=1.500000" in faded
    assert "setpts=(PTS-STARTPTS)*2" in faded and "tpad=stop_mode=clone" in faded
    assert "overlay=0:0" in faded and "atempo=0.5" in faded
    cut = " ".join(prepare_reel(items, (1280, 720), Fraction(30), Fraction(0)))
    assert "concat=n=2:v=1:a=1" in cut
    assert reel_length(items, Fraction(1, 2)) == Fraction(9, 2)
    for slow in (Fraction(1), Fraction(2), Fraction(3), Fraction(8)):
        stages = [float(s.split("=")[1]) for s in atempo_chain(slow)]
        assert all(0.5 <= f <= 2 for f in stages)  # what atempo accepts per stage
        assert np.prod(stages) == pytest.approx(1 / slow, rel=1e-5)


@pytest.fixture(scope="module")
def recording(studio):
    media_id, _ = media.record(
        studio.case, studio.session_id, SyntheticSource(1280, 720), Fraction(10),
        options=AS_FAST_AS_IT_ENCODES,
    )
    studio.case.save()
    return media_id


def test_full_reel_with_title_stills_slow_motion_and_three_scripts(studio, recording, qt_gui):
    plan = ReelPlan.from_dict(
        {
            "fade": "0",
            "title": {"text": "Rosa i Lila", "hold": 1},
            "items": [
                {
                    "kind": "clip",
                    "media": recording,
                    "start": "1",
                    "end": "2",
                    "caption": SCRIPTS["Polish"],
                },
                {
                    "kind": "still",
                    "media": recording,
                    "time": "4",
                    "hold": 1,
                    "caption": SCRIPTS["Arabic"],
                },
                {
                    "kind": "clip",
                    "media": recording,
                    "start": "6",
                    "end": "6.5",
                    "slow": 2,
                    "hold": 1,
                    "caption": SCRIPTS["Bengali"],
                },
                {"kind": "clip", "media": recording, "start": "8", "end": "9"},
            ],
        }
    )
    reel = media.render_reel(studio.case, studio.session_id, plan)
    frames = decode_frames(studio.case, reel)
    assert (
        len(frames)
        == 30 * (1 + 1 + 1 + 2 + 1)
        == round(Fraction(studio.case.media.get(reel).info["duration"]) * 30)
    )
    numbers = [read_pattern(f) for f in frames]
    assert numbers[30:60] == list(range(30, 60))  # the first clip, frame for frame
    assert set(numbers[60:90]) == {120}  # the still, held
    slow = numbers[90:120]  # 0.5 s at half speed: every frame twice
    assert (
        slow[0] == 180
        and slow[-1] == 194
        and all(b - a in (0, 1) for a, b in zip(slow, slow[1:], strict=False))
    )
    assert set(numbers[120:150]) == {194}  # held on its last frame
    assert numbers[150:180] == list(range(240, 270))
    band = slice(720 * 2 // 3, 700)

    def dark(frame):  # the caption's band darkens the picture; the synthetic frames are bright
        return (frame[band] < 80).all(axis=2).sum()

    for captioned in (45, 75, 105):
        assert dark(frames[captioned]) > 8000
    assert dark(frames[165]) < 500  # no caption on the last clip
    recorded, above = decode_frames(studio.case, recording), (slice(80, 160), slice(0, 1280))
    for shown, made in ((40, 40), (75, 120), (165, 255)):  # clip, still, clip: their colours
        difference = frames[shown][above].mean((0, 1)) - recorded[made][above].mean((0, 1))
        assert np.abs(difference).max() <= 2, (shown, difference)
    with serving(media.opener(studio.case, studio.case.media.get(reel))) as (url,):
        assert probe(url).main_video.transfer == "bt709"  # tagged: players need not guess
    studio.case.save()
