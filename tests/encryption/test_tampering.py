"""Every kind of damage raises the right error, and no unverified plaintext is released."""

import io
import os

import pytest

from encryption import (
    CHUNK_SIZE,
    AgeReader,
    HeaderError,
    HeaderMacError,
    NoIdentityMatchError,
    PayloadError,
    ScryptIdentity,
    ScryptRecipient,
    UnfinishedError,
    WrongPassphraseError,
    X25519Identity,
    iter_decrypt,
    write_encrypted,
)
from tests.encryption.helpers import encrypt_bytes, patterned

ENC = CHUNK_SIZE + 16
IDENTITY = X25519Identity.generate()
PLAINTEXT = patterned(4 * CHUNK_SIZE + 777)  # 5 chunks, the last one short
FILE = encrypt_bytes(PLAINTEXT, IDENTITY)
HEADER_END = FILE.index(b"\n---") + 1 + FILE[FILE.index(b"\n---") + 1 :].index(b"\n") + 1
PAYLOAD = HEADER_END + 16  # after the nonce


def chunk_span(i: int) -> tuple[int, int]:
    start = PAYLOAD + i * ENC
    return start, min(start + ENC, len(FILE))


def read_all(data: bytes, identities=(IDENTITY,)) -> bytes:
    """Read sequentially; assert nothing beyond the verified prefix was released, then raise."""
    released = bytearray()
    try:
        with AgeReader(io.BytesIO(data), list(identities)) as reader:
            while piece := reader.read(10_000):
                released += piece
            reader.size()
    finally:
        assert PLAINTEXT.startswith(bytes(released))
    return bytes(released)


def verify(data: bytes) -> int:
    with AgeReader(io.BytesIO(data), [IDENTITY]) as reader:
        return reader.verify()


def test_intact_file_reads_back():
    assert read_all(FILE) == PLAINTEXT
    assert verify(FILE) == len(PLAINTEXT)


@pytest.mark.parametrize("chunks", range(0, 5))
def test_truncation_at_every_chunk_boundary(chunks):
    with pytest.raises(PayloadError):
        read_all(FILE[: PAYLOAD + chunks * ENC])
    with pytest.raises(PayloadError):
        verify(FILE[: PAYLOAD + chunks * ENC])


@pytest.mark.parametrize("cut", [1, 15, 16, 17, 1000, ENC - 1, ENC + 1, 2 * ENC + 99, -1, -16])
def test_truncation_inside_chunks(cut):
    end = PAYLOAD + cut if cut > 0 else len(FILE) + cut
    with pytest.raises(PayloadError):
        read_all(FILE[:end])


def test_truncation_inside_header_or_nonce():
    for end in (10, HEADER_END - 5, HEADER_END, HEADER_END + 8):
        with pytest.raises(HeaderError):
            read_all(FILE[:end])


@pytest.mark.parametrize("extra", [b"\x00", b"x" * 16, os.urandom(ENC), os.urandom(ENC + 5)])
def test_appended_bytes(extra):
    with pytest.raises(PayloadError):
        read_all(FILE + extra)


def flip(data: bytes, position: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 0x01
    return bytes(damaged)


def test_flipped_bit_in_header_stanza_arguments():
    position = FILE.index(b"-> X25519 ") + 12
    with pytest.raises((HeaderError, NoIdentityMatchError, HeaderMacError)):
        read_all(flip(FILE, position))


def test_flipped_bit_in_header_version_line():
    with pytest.raises(HeaderError):
        read_all(flip(FILE, 3))


def test_flipped_bit_in_mac():
    """One bit of the MAC itself, re-encoded as valid base64 (flipping a bit of the base64
    text can make an invalid character, which is a different error: the key is random, so
    that happened in some runs)."""
    import base64

    start = FILE.index(b"\n--- ") + 5
    end = FILE.index(b"\n", start)
    mac = bytearray(base64.b64decode(FILE[start:end] + b"="))
    mac[3] ^= 0x10
    damaged = FILE[:start] + base64.b64encode(bytes(mac)).rstrip(b"=") + FILE[end:]
    with pytest.raises(HeaderMacError):
        read_all(damaged)


def test_invalid_base64_in_mac_is_a_header_error():
    position = FILE.index(b"\n--- ") + 6
    damaged = FILE[:position] + b"@" + FILE[position + 1 :]
    with pytest.raises(HeaderError, match="not valid base64"):
        read_all(damaged)


def test_flipped_bit_in_nonce():
    with pytest.raises(PayloadError):
        read_all(flip(FILE, HEADER_END + 3))


@pytest.mark.parametrize("chunk", range(5))
@pytest.mark.parametrize("where", ["start", "middle", "tag"])
def test_flipped_bit_in_each_chunk(chunk, where):
    start, end = chunk_span(chunk)
    position = {"start": start, "middle": (start + end) // 2, "tag": end - 1}[where]
    damaged = flip(FILE, position)
    with pytest.raises(PayloadError):
        read_all(damaged)
    with AgeReader(io.BytesIO(damaged), [IDENTITY]) as reader:  # random access to that chunk
        reader.seek(chunk * CHUNK_SIZE)
        with pytest.raises(PayloadError):
            reader.read(1)


def rebuild(order: list[int]) -> bytes:
    return FILE[:PAYLOAD] + b"".join(FILE[slice(*chunk_span(i))] for i in order)


@pytest.mark.parametrize(
    "order",
    [
        [1, 0, 2, 3, 4],
        [0, 2, 1, 3, 4],
        [0, 1, 2, 4, 3],
        [0, 0, 1, 2, 3, 4],
        [0, 1, 1, 2, 3, 4],
        [0, 1, 2, 3, 3, 4],
        [1, 2, 3, 4],
        [0, 2, 3, 4],
        [0, 1, 2, 3],
        [0, 1, 2, 3, 4, 4],
    ],
    ids=[
        "swap01",
        "swap12",
        "swap-last",
        "dup-first",
        "dup-mid",
        "dup-before-last",
        "drop-first",
        "drop-mid",
        "drop-last",
        "dup-last",
    ],
)
def test_swapped_duplicated_dropped_chunks(order):
    with pytest.raises(PayloadError):
        read_all(rebuild(order))


def test_dropping_the_last_chunk_is_reported_as_unfinished():
    with pytest.raises(UnfinishedError):
        read_all(rebuild([0, 1, 2, 3]))


def test_streaming_reader_also_refuses_damage():
    with pytest.raises(PayloadError):
        b"".join(iter_decrypt(io.BytesIO(rebuild([0, 2, 1, 3, 4])), [IDENTITY]))
    assert b"".join(iter_decrypt(io.BytesIO(FILE), [IDENTITY])) == PLAINTEXT


def test_wrong_identity():
    with pytest.raises(NoIdentityMatchError) as info:
        read_all(FILE, identities=[X25519Identity.generate()])
    assert not isinstance(info.value, WrongPassphraseError)


def test_wrong_passphrase(tmp_path):
    write_encrypted(tmp_path / "p.age", b"secret", [ScryptRecipient("right one")])
    data = (tmp_path / "p.age").read_bytes()
    with pytest.raises(WrongPassphraseError):
        read_all(data, identities=[ScryptIdentity("wrong one")])


def test_errors_say_what_to_do():
    with pytest.raises(PayloadError) as info:
        read_all(FILE[:-1])
    assert "byte" in str(info.value)
    with pytest.raises(NoIdentityMatchError) as info:
        read_all(FILE, identities=[X25519Identity.generate()])
    assert "someone else" in str(info.value)
