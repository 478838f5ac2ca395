"""Playing from the store checks every block against the recording's block list (FORMAT
§12.4): real SeaweedFS, real sync between two laptops, the store as the attacker. The
supervisor's laptop (b) has synced the case, then lost the media files: every read goes to
the store through ``media_source``, as the player's and ffmpeg's do."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
from datetime import date

import pytest

from encryption import write_encrypted
from tests.team.laptops import first_laptop
from tests.team.laptops import sync_ok as _ok
from videofeedback.library.cases import SessionKind
from videofeedback.library.errors import LibraryError
from videofeedback.team import media_index
from videofeedback.team.errors import SyncError
from videofeedback.team.heads import CaseNames, decrypt
from videofeedback.team.media_index import BLOCK, BlockList, MediaCheckError
from videofeedback.team.remote_media import StoreMedia, media_source
from videofeedback.team.sync import open_for_sync

SIZE = 20 * BLOCK + 5000  # more blocks than a first open fetches (16 and the last two)


def _film(seed: int) -> bytes:
    """Bytes that look like nothing but themselves (a marker every 64 KiB)."""
    data = bytearray(random.Random(seed).randbytes(SIZE))
    for at in range(0, SIZE - 32, 65536):
        data[at : at + 16] = f"FILM-{seed}-MARKER".encode()[:16].ljust(16, b"-")
    return bytes(data)


FILMS = (_film(1), _film(2))


def _raw_put(store, name, data):
    """The operator writes the bucket directly: no condition, no client of ours."""
    store.s3.put_object(Bucket=store.location.bucket, Key=store.location.key(name), Body=data)


@pytest.fixture
def played(tmp_path, store, monkeypatch):
    """pat (a) made two recordings and synced; sam (b, supervisor) synced them, then lost
    the files. No disk cache unless a test asks for one."""
    monkeypatch.setenv("VIDEOFEEDBACK_STORE_CACHE_MB", "0")
    a, case_id = first_laptop(tmp_path, store)
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "sam")
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        (case.folder / "media").mkdir(exist_ok=True, mode=0o700)
        ids = []
        for n, film in enumerate(FILMS, 1):
            write_encrypted(case.folder / "media" / f"r{n}.age", film, case.recipients)
            ids.append(case.media.add(session_id, "recording", f"media/r{n}.age", {}))
        case.save()
    _ok(a)
    _ok(b)
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        names = CaseNames.of(case.identity)
        for media_id in ids:
            (case.folder / case.media.get(media_id).file).unlink()
    return b, case_id, ids, names


def _open(laptop, case_id, media_id):
    """(reader, StoreMedia) of the recording as the player gets it."""
    with laptop.session() as (_, session):
        case = open_for_sync(session, case_id)
        source = media_source(case, case.media.get(media_id))
        assert isinstance(source, StoreMedia)
        return source


def test_a_recording_plays_from_the_store_checked_block_by_block(played, store):
    b, case_id, ids, names = played
    with b.session() as (_, sam):
        info = open_for_sync(sam, case_id).media.get(ids[0]).info
    assert info["index"]["block"] == BLOCK and len(info["index"]["sha256"]) == 64
    index = store.get(names.index(ids[0]))
    assert b"MARKER" not in index and b"media index" not in index  # ciphertext only
    with b.session() as (_, sam):
        plain = decrypt(index, [open_for_sync(sam, case_id).identity])
    assert hashlib.sha256(plain).hexdigest() == info["index"]["sha256"]
    media = _open(b, case_id, ids[0])
    assert media.checked is not None
    reader = media.open()
    assert reader.read() == FILMS[0]
    reader.seek(2 * BLOCK + 17)
    assert reader.read(100) == FILMS[0][2 * BLOCK + 17 : 2 * BLOCK + 117]
    assert media.count()[0] > 0


def test_a_swapped_recording_is_refused_before_a_frame(played, store):
    b, case_id, ids, names = played
    _raw_put(store, names.media(ids[0]), store.get(names.media(ids[1])))  # same case key
    media = _open(b, case_id, ids[0])
    with pytest.raises(MediaCheckError, match=f"other bytes as recording {ids[0]}.*sync"):
        media.open().read(10)
    # the other recording would have decrypted (same key): only the block list stops it
    media.checked = None
    media._shared = None
    assert media.open().read(16).startswith(b"FILM-2")


def test_a_truncated_recording_is_refused(played, store):
    b, case_id, ids, names = played
    whole = store.get(names.media(ids[1]))
    _raw_put(store, names.media(ids[1]), whole[: 2 * BLOCK + 100])
    with pytest.raises(MediaCheckError, match=f"recording {ids[1]}.*cut short"):
        _open(b, case_id, ids[1]).open()


def test_an_altered_block_is_refused_when_it_is_read(played, store):
    b, case_id, ids, names = played
    data = bytearray(store.get(names.media(ids[0])))
    data[17 * BLOCK + 1000] ^= 1
    _raw_put(store, names.media(ids[0]), bytes(data))
    reader = _open(b, case_id, ids[0]).open()  # the header and final chunk are intact
    assert reader.read(1000) == FILMS[0][:1000]
    reader.seek(15 * BLOCK)
    assert reader.read(1000) == FILMS[0][15 * BLOCK : 15 * BLOCK + 1000]
    with pytest.raises(MediaCheckError, match="block 17"):
        reader.seek(17 * BLOCK + 2000)
        reader.read(10)


def test_a_swapped_block_list_is_refused(played, store):
    b, case_id, ids, names = played
    for suffix in (names.media, names.index):  # the store swaps both, consistently
        _raw_put(store, suffix(ids[0]), store.get(suffix(ids[1])))
    with pytest.raises(MediaCheckError, match=f"another block list for recording {ids[0]}"):
        _open(b, case_id, ids[0]).open()
    store.s3.delete_object(
        Bucket=store.location.bucket, Key=store.location.key(names.index(ids[0]))
    )
    with pytest.raises(MediaCheckError, match="no block list.*sync to download it first"):
        _open(b, case_id, ids[0]).open()


def test_a_record_without_a_block_list_is_not_played_from_the_store(played):
    b, case_id, ids, _ = played
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        record = case.media.get(ids[0])
        info = {k: v for k, v in record.info.items() if k != "index"}
        with pytest.raises(LibraryError, match="without a block list.*sync to download"):
            media_source(case, dataclasses.replace(record, info=info))


def test_a_block_altered_in_the_disk_cache_is_refused(played, monkeypatch):
    b, case_id, ids, _ = played
    monkeypatch.setenv("VIDEOFEEDBACK_STORE_CACHE_MB", "16")
    first = _open(b, case_id, ids[0])
    assert first.open().read() == FILMS[0]
    assert first.cache is not None
    cached = sorted(first.cache.folder.iterdir())
    assert len(cached) == 21
    other = cached[0].read_bytes()
    for path in cached:  # another account cannot write there (0700); a bug or a restore might
        path.write_bytes(other if path != cached[0] else other[:-1])
    with pytest.raises(MediaCheckError):
        _open(b, case_id, ids[0]).open().read()


def test_the_block_list_upload_is_write_once_and_retried_with_the_same_list(played, store):
    b, case_id, ids, names = played
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        keys = [case.identity]
        path = case.folder / "made.age"
        write_encrypted(path, b"x" * 1000, case.recipients)
        sealed = media_index.sealed_path(case.folder, "m9")
        stamp = media_index.stamp(path, case.recipients, sealed)
        assert media_index.push(store, names.index("m9"), sealed, keys)
        assert media_index.push(store, names.index("m9"), sealed, keys)  # a retried sync
        # another copy of this folder stamps the same file: other ciphertext, same list
        assert media_index.stamp(path, case.recipients, sealed) == stamp
        assert media_index.push(store, names.index("m9"), sealed, keys)
        write_encrypted(path, b"y" * 1000, case.recipients)  # another file's list
        media_index.stamp(path, case.recipients, sealed)
        with pytest.raises(SyncError, match="different block list"):
            media_index.push(store, names.index("m9"), sealed, keys)
        sealed.write_bytes(os.urandom(200))
        with pytest.raises(SyncError, match="different block list"):
            media_index.push(store, names.index("m9"), sealed, keys)
        assert not media_index.push(store, names.index("m8"), sealed.with_name("none"), keys)


def test_a_block_list_round_trips_and_refuses_a_wrong_length(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(os.urandom(2 * BLOCK + 1))
    blocks = media_index.build(path)
    assert blocks.count == 3 and blocks.size == 2 * BLOCK + 1
    assert BlockList.from_bytes(blocks.to_bytes()) == blocks
    blocks.check(2, path.read_bytes()[2 * BLOCK :], "recording m1")
    with pytest.raises(MediaCheckError):
        blocks.check(2, path.read_bytes()[2 * BLOCK :] + b"x", "recording m1")
    with pytest.raises(MediaCheckError):
        blocks.check(3, b"", "recording m1")
    with pytest.raises(ValueError):
        BlockList.from_bytes(blocks.to_bytes()[:-1])


def test_stills_and_review_refuse_a_swapped_recording_with_the_reason(played, store):
    """The media layer's opener (ffmpeg's path: stills, the review's overview, reels)."""
    from videofeedback import media

    b, case_id, ids, names = played
    _raw_put(store, names.media(ids[1]), store.get(names.media(ids[0])))
    with b.session() as (_, sam):
        case = open_for_sync(sam, case_id)
        with pytest.raises(MediaCheckError, match=f"other bytes as recording {ids[1]}"):
            media.opener(case, case.media.get(ids[1]))
        opener = media.opener(case, case.media.get(ids[0]))  # the untouched one opens
        with opener() as reader:
            assert reader.read(16).startswith(b"FILM-1")


def test_two_copies_of_one_folder_stamp_a_recording_alike(tmp_path, store):
    """A recording made before the folder was copied: both laptops stamp it and upload its
    block list (sealed with other randomness each); neither conflicts nor is refused."""
    a, case_id = first_laptop(tmp_path, store)
    with a.session() as (_, pat):
        case = open_for_sync(pat, case_id)
        session_id = case.sessions.new(SessionKind.RECORDING, date(2026, 11, 2))
        (case.folder / "media").mkdir(exist_ok=True, mode=0o700)
        write_encrypted(case.folder / "media" / "r1.age", FILMS[0], case.recipients)
        media_id = case.media.add(session_id, "recording", "media/r1.age", {})
        case.save()
    b = a.copy(tmp_path / "lib-b", tmp_path / "state-b", "pat")
    for laptop in (a, b, a):
        report = _ok(laptop)
        assert not report.cases[0].conflicts
    with b.session() as (_, pat):
        (open_for_sync(pat, case_id).folder / "media" / "r1.age").unlink()
    assert _open(b, case_id, media_id).open().read() == FILMS[0]
