"""A recording read from the store by the exact-frame seek (the still and review path):
the same frame as from the local file, a small part of the object fetched, and a cache
that holds ciphertext only."""

import io
from fractions import Fraction

import numpy as np
import pytest

from clips.ffmpeg import base_args, capture
from clips.frames import frame_at
from clips.normalise import FRAGMENTED_MP4
from clips.serve import serving
from encryption import AgeReader, AgeWriter, X25519Identity
from videofeedback.library.errors import LibraryError
from videofeedback.team.ranged import BlockCache
from videofeedback.team.remote_media import StoreMedia, cache_limit
from videofeedback.team.remotes import Remote
from videofeedback.team.store import MIB, StoreCredentials

FPS = Fraction(30)
SIZE = (640, 360)
SECONDS = 24


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    """A fragmented MP4 like an imported recording (1 s GOPs), busy enough to be large."""
    out = tmp_path_factory.mktemp("movie") / "movie.mp4"
    argv = [
        *base_args(),
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size={SIZE[0]}x{SIZE[1]}:rate=30,noise=alls=40:allf=t",
        "-t",
        str(SECONDS),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "30",
        "-bf",
        "0",
        "-b:v",
        "6M",
        "-pix_fmt",
        "yuv420p",
        *FRAGMENTED_MP4,
        str(out),
    ]
    done = capture(argv, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    return out.read_bytes()


def _encrypted(plain: bytes, identity) -> bytes:
    sink = io.BytesIO()
    writer = AgeWriter(sink, [identity.recipient])
    writer.write(plain)
    writer.close()
    return sink.getvalue()


def _remote(seaweed, store):
    credentials = StoreCredentials(seaweed.credentials.access_key, seaweed.credentials.secret_key)
    return Remote("office", store.location, credentials)


def test_exact_frame_from_the_store_reads_a_small_part(seaweed, store, movie, tmp_path):
    identity = X25519Identity.generate()
    sealed = _encrypted(movie, identity)
    store.put_new("o/rec", sealed)
    local = tmp_path / "rec.age"
    local.write_bytes(sealed)
    cache = BlockCache(tmp_path / "cache", limit=4 * MIB)
    media = StoreMedia(_remote(seaweed, store), "o/rec", [identity], cache=cache)
    with serving(media.open, lambda: AgeReader(local, [identity])) as (remote_url, local_url):
        for seconds in (Fraction(19, 1) + Fraction(7, 30), Fraction(3, 1)):
            there = frame_at(remote_url, seconds, FPS, SIZE)
            here = frame_at(local_url, seconds, FPS, SIZE)
            assert np.array_equal(there, here)
    requests, fetched = media.count()
    print(f"two exact-frame seeks: {requests} GETs, {fetched} of {len(sealed)} bytes")
    # ffmpeg walks the fragment headers up to the frame (~a third here), never the pictures
    assert 0 < fetched < len(sealed) / 2
    files = list((tmp_path / "cache").iterdir())
    assert files and sum(f.stat().st_size for f in files) <= 4 * MIB
    for file in files:
        data = file.read_bytes()
        assert b"Lavf" not in data and b"x264 - core" not in data and b"ftyp" not in data


def test_an_object_missing_from_the_store_is_a_clear_error(seaweed, store):
    media = StoreMedia(_remote(seaweed, store), "o/none", [X25519Identity.generate()])
    with pytest.raises(LibraryError, match="neither on this laptop nor in the team store"):
        media.open()


def test_the_cache_limit_is_a_setting(monkeypatch):
    monkeypatch.setenv("VIDEOFEEDBACK_STORE_CACHE_MB", "5")
    assert cache_limit() == 5 * MIB
    monkeypatch.setenv("VIDEOFEEDBACK_STORE_CACHE_MB", "lots")
    with pytest.raises(LibraryError, match="whole number"):
        cache_limit()
