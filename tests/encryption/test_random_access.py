"""Random access: reads at any offset and length match the plaintext."""

import io
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from encryption import CHUNK_SIZE, AgeReader, AgeWriter, X25519Identity
from tests.encryption.helpers import encrypt_bytes, patterned

IDENTITY = X25519Identity.generate()
SIZE = 5 * CHUNK_SIZE + 1234
PLAINTEXT = patterned(SIZE)
CIPHERTEXT = encrypt_bytes(PLAINTEXT, IDENTITY)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reads=st.lists(
        st.tuples(st.integers(0, SIZE + 100), st.integers(0, 3 * CHUNK_SIZE)), min_size=1
    )
)
def test_random_reads_match_plaintext(reads):
    with AgeReader(io.BytesIO(CIPHERTEXT), [IDENTITY]) as reader:
        for offset, length in reads:
            reader.seek(offset)
            assert reader.read(length) == PLAINTEXT[offset : offset + length]
            assert reader.tell() == max(offset, min(offset + length, SIZE))


@settings(max_examples=50, deadline=None)
@given(size=st.integers(0, 3 * CHUNK_SIZE + 10), data=st.data())
def test_any_size_round_trips_with_any_write_pattern(size, data):
    plaintext = os.urandom(size)
    cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=8)))
    sink = io.BytesIO()
    writer = AgeWriter(sink, [IDENTITY.recipient])
    for start, end in zip([0, *cuts], [*cuts, size], strict=True):
        writer.write(plaintext[start:end])
    writer.close()
    with AgeReader(io.BytesIO(sink.getvalue()), [IDENTITY]) as reader:
        assert reader.size() == size
        assert reader.read() == plaintext


def test_seek_from_end_and_current(tmp_path):
    path = tmp_path / "f.age"
    path.write_bytes(CIPHERTEXT)
    with AgeReader(path, [IDENTITY]) as reader:
        assert reader.seek(-10, os.SEEK_END) == SIZE - 10
        assert reader.read() == PLAINTEXT[-10:]
        reader.seek(100)
        reader.seek(50, os.SEEK_CUR)
        assert reader.read(4) == PLAINTEXT[150:154]
        assert reader.read(0) == b""


def test_reader_works_through_buffered_io(tmp_path):
    path = tmp_path / "f.age"
    path.write_bytes(CIPHERTEXT)
    with io.BufferedReader(AgeReader(path, [IDENTITY])) as buffered:
        buffered.seek(CHUNK_SIZE - 3)
        assert buffered.read(6) == PLAINTEXT[CHUNK_SIZE - 3 : CHUNK_SIZE + 3]
