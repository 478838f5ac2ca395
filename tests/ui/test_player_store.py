"""Playing a recording straight from the team store (real SeaweedFS, real QMediaPlayer):
the local file is gone, the player reads ranged GETs decrypted in memory, seeks to the
exact frame, and the only thing on disk is a capped cache of ciphertext blocks."""

import dataclasses
import secrets
from fractions import Fraction

import pytest

from clips.ffmpeg import base_args, capture
from clips.normalise import FRAGMENTED_MP4
from encryption import write_encrypted
from tests.team.conftest import seaweed, store_for, wait_writable  # noqa: F401 - fixture
from tests.ui.helpers import frame_number
from tests.ui.test_player import _case
from ui.player import Player
from videofeedback.library.errors import LibraryError
from videofeedback.library.local_state import state_dir
from videofeedback.team import media_index
from videofeedback.team.remote_media import StoreMedia
from videofeedback.team.remotes import Remote, save_remote
from videofeedback.team.store import StoreCredentials

CACHE_MB = 3


def _recording_in_store(case, seaweed, tmp_path):  # noqa: F811 - the fixture's value
    store = store_for(seaweed, prefix="t-" + secrets.token_hex(6))
    wait_writable(store)
    save_remote(
        case.session,
        Remote(
            "office",
            store.location,
            StoreCredentials(seaweed.credentials.access_key, seaweed.credentials.secret_key),
        ),
    )
    media_id = case.db.execute("SELECT id FROM media WHERE kind = 'recording'").fetchone()[0]
    record = case.media.get(media_id)
    path = case.folder / record.file
    name = "o/" + secrets.token_hex(16)  # opaque, as the sync names objects
    store.upload_file(name, path, tmp_path / "upload.json")
    # its block list, as sync stamps and uploads it (FORMAT 12.4)
    stamp = media_index.stamp(path, case.recipients, tmp_path / "index.age")
    index = "o/" + secrets.token_hex(16)
    media_index.push(store, index, tmp_path / "index.age", [case.identity])
    size = path.stat().st_size
    path.unlink()  # not on this laptop any more
    where = {"object": name, "remote": "office", "index": index}
    stored = {**record.info, **stamp, "store": where}
    return dataclasses.replace(record, info=stored), size, store


def test_player_plays_a_recording_from_the_store_to_the_exact_frame(
    qtbot,
    library,
    seaweed,  # noqa: F811 - the fixture imported above
    tmp_path,
    monkeypatch,
):
    monkeypatch.setenv("VIDEOFEEDBACK_STORE_CACHE_MB", str(CACHE_MB))
    case = _case(library)
    record, size, _ = _recording_in_store(case, seaweed, tmp_path)
    player = Player()
    frames = []
    player.frame_ready.connect(frames.append)
    player.load_record(case, record, Fraction(30))
    assert isinstance(player.store_media, StoreMedia)
    qtbot.waitUntil(lambda: player.duration() > 0, timeout=20_000)
    for target in (700, 151, 37):
        player.seek_frame(target)
        qtbot.waitUntil(
            lambda t=target: bool(frames) and frame_number(frames[-1]) == t, timeout=20_000
        )
    player.step(1)
    qtbot.waitUntil(lambda: frame_number(frames[-1]) == 38, timeout=20_000)
    requests, fetched = player.store_media.count()
    print(f"store playback: {requests} ranged GETs, {fetched} of {size} bytes")
    player.unload(wait=True)
    assert requests > 0  # it read from the store (tests/team/test_remote_media.py: how little)
    # the cache: ciphertext blocks only, within the limit, outside the library folder
    cache = state_dir() / "store-cache" / case.session.library.manifest.library_id
    files = list(cache.iterdir())
    assert files and sum(f.stat().st_size for f in files) <= CACHE_MB * 1024 * 1024
    for file in files:
        data = file.read_bytes()
        for marker in (b"ftypiso", b"x264 - core", b"Lavf", b"moof"):
            assert marker not in data
    assert not list(library.rglob("*.mp4"))


def test_review_opens_a_store_recording_and_rebuilds_its_overview(
    qtbot,
    library,
    seaweed,  # noqa: F811 - the fixture imported above
    tmp_path,
):
    """The review view's first step (the filmstrip and waveform) on a laptop that has only
    the case: the overview is made again from the store, through the media layer's opener."""
    from videofeedback import media

    case = _case(library)
    record, size, _ = _recording_in_store(case, seaweed, tmp_path)
    case.media.update_info(
        record.id, {k: record.info[k] for k in ("store", "sha256", "bytes", "index")}
    )
    for key in ("filmstrip", "peaks"):
        (case.folder / record.info["overview"][key]).unlink()
    strip, peaks = media.load_overview(case, record.id)
    assert strip.thumbnails and len(peaks.minimum) > 0
    assert not (case.folder / record.file).exists()  # nothing of the recording came back


def _other_film(tmp_path) -> bytes:
    """Another short recording (fragmented MP4, like the library's)."""
    out = tmp_path / "other.mp4"
    argv = [
        *base_args(), "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        *FRAGMENTED_MP4, str(out),
    ]  # fmt: skip
    assert capture(argv, timeout=120).returncode == 0
    return out.read_bytes()


@pytest.mark.parametrize("attack", ["swap", "truncate"])
def test_player_refuses_a_swapped_or_cut_recording(
    qtbot,
    library,
    seaweed,  # noqa: F811 - the fixture imported above
    tmp_path,
    attack,
):
    """The store serves another recording of the case under this one's name (sealed to the
    same case key, so it would decrypt and play), or cuts it short: the player refuses at
    load, naming the recording and what is wrong, and not one frame is shown."""
    case = _case(library)
    record, _, store = _recording_in_store(case, seaweed, tmp_path)
    name = record.info["store"]["object"]
    if attack == "swap":
        other = tmp_path / "other.age"
        write_encrypted(other, _other_film(tmp_path), case.recipients)
        served = other.read_bytes()
    else:
        served = store.get(name)[: record.info["bytes"] // 2]
    store.s3.put_object(Bucket=store.location.bucket, Key=store.location.key(name), Body=served)
    player = Player()
    frames = []
    player.frame_ready.connect(frames.append)
    with pytest.raises(LibraryError, match=f"other bytes as recording {record.id}.*cut short"):
        player.load_record(case, record, Fraction(30))
    qtbot.wait(300)
    assert not frames and player.duration() == 0
