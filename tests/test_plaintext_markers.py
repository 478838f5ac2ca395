"""The markers the plaintext scans look for are in every plaintext file of their kind, so a
scan that finds none of them means something (tests/plaintext.py)."""

import json
import subprocess
from fractions import Fraction

import numpy as np

from clips.ffmpeg import ffmpeg_exe, video_encoder_args
from clips.frames import png_bytes
from clips.normalise import FRAGMENTED_MP4
from tests import plaintext


def test_media_markers_are_in_plaintext_media():
    mp4 = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=30",
         "-f", "lavfi", "-i", "sine", "-t", "2", *video_encoder_args(Fraction(30)),
         "-c:a", "aac", *FRAGMENTED_MP4, "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    mp4_start, fragment, png = plaintext.MEDIA
    assert mp4.count(mp4_start) == 1 and mp4.count(fragment) == 2
    assert png_bytes(np.zeros((4, 4, 3), np.uint8)).startswith(png)


def test_names_are_found_as_json_holds_them():
    stored = json.dumps({"participants": [{"name": "Rosa", "role": "mother"}]}).encode()
    assert all(name in stored for name in plaintext.names("Rosa"))
    assert all(len(marker) >= 6 for marker in (*plaintext.MEDIA, *plaintext.names("Lily")))
