"""Where the tests' data is. In the repository: tests/data (the CCTV age vectors and the
interoperability samples, see tests/data/MANIFEST.md); the tests make their own media with
ffmpeg. Outside it: the real phone and camera files, in VIDEOFEEDBACK_TEST_CORPUS (default
../shared/media beside the checkout, as on CI); tests that need them are skipped without it."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
VECTORS = DATA / "age-cctv"
#: Media files in the repository: none any more (binaries stay out of the tree); kept as
#: the first place media_file() looks, for a contributor's local additions.
MEDIA_IN_REPO = DATA / "media"
#: The shared reference folder beside the checkout (the design notes, the corpus on CI).
SHARED = Path(os.environ.get("VIDEOFEEDBACK_SHARED", REPO.parent / "shared"))
CORPUS_VARIABLE = "VIDEOFEEDBACK_TEST_CORPUS"
#: The external media corpus (it may not exist).
MEDIA = Path(os.environ.get(CORPUS_VARIABLE) or SHARED / "media")
#: The real phone and camera files, all outside the repository: tests/data/MANIFEST.md.
OUTSIDE = (
    "android12_h264_4k60_portrait.mp4",
    "android14_hevc10_hlg.mp4",
    "ios_3gp_h263_amrnb8k_mono.3gp",
    "iphone14pro_hevc10_dolbyvision_hlg_portrait.MOV",
    "panasonic_avchd_1080i60_ac3.mts",
    "webcam_mediarecorder_chrome57_vp8_opus.webm",
    "gopro_max_heromode_gpmf.mp4",
    "ipadmini_hevc_portrait_mono44k.mov",
    "iphone_hevc10_dolbyvision_hlg_portrait_vfr_editlist.mp4",
    "pixel_motionphoto_2hevc_tracks_vfr_noaudio.mp4",
    "truncated_panasonic_ag_hmc151.mts",
    "webcam_mediarecorder_firefox55_vp8_opus.webm",
)


def real_media_names() -> list[str]:
    """Every real phone/camera file of the corpus except the damaged one."""
    return sorted(n for n in OUTSIDE if "truncated" not in n)


def missing_corpus_reason() -> str:
    return (
        f"media corpus not found at {MEDIA} (real phone and camera files stay outside the "
        f"repository): set {CORPUS_VARIABLE} to a copy of shared/media to run this test"
    )


def media_file(name: str) -> Path:
    """A real media file: from tests/data/media, else the corpus; skips the test (one line
    saying how to supply it) when the corpus is absent, fails when it was named but lacks it."""
    for folder in (MEDIA_IN_REPO, MEDIA):
        if (folder / name).is_file():
            return folder / name
    if os.environ.get(CORPUS_VARIABLE):
        pytest.fail(f"{name} is not in {CORPUS_VARIABLE}={MEDIA}")
    pytest.skip(missing_corpus_reason())
