"""Playing from the store: an age file read in place through ranged GETs."""

import io
import os
import random
import stat

from encryption import AgeReader, AgeWriter, X25519Identity
from videofeedback.team.ranged import BlockCache, StoreObjectFile
from videofeedback.team.store import MIB

MARKER = b"PLAINTEXT-CANARY-Kasia-"


def _encrypted(size: int) -> tuple[bytes, bytes, X25519Identity]:
    plaintext = bytearray(os.urandom(size))
    for at in range(0, size - 64, 100_000):
        plaintext[at : at + len(MARKER)] = MARKER
    identity = X25519Identity.generate()
    sink = io.BytesIO()
    writer = AgeWriter(sink, [identity.recipient])
    writer.write(bytes(plaintext))
    writer.close()
    return bytes(plaintext), sink.getvalue(), identity


def test_random_seeks_decrypt_exactly_from_the_store(store, tmp_path):
    plaintext, ciphertext, identity = _encrypted(5 * MIB + 777)
    store.put_new("media/rec", ciphertext)
    cache = BlockCache(tmp_path / "cache", limit=2 * MIB)
    remote = StoreObjectFile(store, "media/rec", cache=cache, block_size=256 * 1024)
    reader = AgeReader(remote, [identity])
    rng = random.Random(7)
    for _ in range(60):
        at = rng.randrange(len(plaintext))
        length = rng.randrange(1, 300_000)
        reader.seek(at)
        assert reader.read(length) == plaintext[at : at + length]
    reader.seek(0)
    assert reader.read() == plaintext
    # only the blocks read were fetched, each at most a few times (memory + disk cache)
    blocks = -(-len(ciphertext) // (256 * 1024))
    assert remote.requests <= 3 * blocks
    # the disk cache keeps to its limit, is private, and holds no plaintext
    files = list((tmp_path / "cache").iterdir())
    assert files and sum(f.stat().st_size for f in files) <= 2 * MIB
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert MARKER not in path.read_bytes()
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700


def test_a_second_reader_uses_the_disk_cache(store, tmp_path):
    plaintext, ciphertext, identity = _encrypted(2 * MIB)
    store.put_new("media/again", ciphertext)
    cache = BlockCache(tmp_path / "cache", limit=16 * MIB)
    first = StoreObjectFile(store, "media/again", cache=cache)
    assert AgeReader(first, [identity]).read() == plaintext
    second = StoreObjectFile(store, "media/again", cache=cache)
    assert AgeReader(second, [identity]).read() == plaintext
    assert first.requests > 0 and second.requests == 0
