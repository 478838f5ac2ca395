"""The C2SP CCTV age vectors: every X25519 and scrypt vector gives its expected outcome, and
all plaintext released before a failure hashes to the vector's payload hash."""

import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from encryption import (
    AgeReader,
    HeaderError,
    HeaderMacError,
    NoIdentityMatchError,
    PayloadError,
    ScryptIdentity,
    X25519Identity,
    iter_decrypt,
)
from tests.paths import VECTORS

EXPECTED_ERRORS = {
    "header failure": HeaderError,
    "no match": NoIdentityMatchError,
    "HMAC failure": HeaderMacError,
    "payload failure": PayloadError,
}
# Armor and the post-quantum/plugin recipient types are not used by videofeedback.
SKIPPED_PREFIXES = ("armor", "hybrid")


@dataclass
class Vector:
    name: str
    expect: str
    payload_hash: str
    identities: list[str] = field(default_factory=list)
    passphrases: list[str] = field(default_factory=list)
    armored: bool = False
    body: bytes = b""


def load_vector(path: Path) -> Vector:
    raw = path.read_bytes()
    head, body = raw.split(b"\n\n", 1)
    values: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        values.setdefault(key, []).append(value)
    if values.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return Vector(
        name=path.name,
        expect=values["expect"][0],
        payload_hash=values.get("payload", [""])[0],
        identities=values.get("identity", []),
        passphrases=values.get("passphrase", []),
        armored=values.get("armored") == ["yes"],
        body=body,
    )


def all_vectors() -> list[Path]:
    return sorted(p for p in VECTORS.iterdir() if p.name != "README.md")


def used_vectors() -> list[Path]:
    return [p for p in all_vectors() if not p.name.startswith(SKIPPED_PREFIXES)]


def identities_for(vector: Vector) -> list[object]:
    keys: list[object] = [X25519Identity.parse(i) for i in vector.identities]
    return keys + [ScryptIdentity(p) for p in vector.passphrases]


def read_seekable(vector: Vector) -> tuple[bytes, Exception | None]:
    released = bytearray()
    try:
        with AgeReader(io.BytesIO(vector.body), identities_for(vector)) as reader:
            while piece := reader.read(7919):  # an odd size that crosses chunk boundaries
                released += piece
    except Exception as exc:  # noqa: BLE001 - the test classifies it
        return bytes(released), exc
    return bytes(released), None


def read_streaming(vector: Vector) -> tuple[bytes, Exception | None]:
    released = bytearray()
    try:
        for piece in iter_decrypt(io.BytesIO(vector.body), identities_for(vector)):
            released += piece
    except Exception as exc:  # noqa: BLE001
        return bytes(released), exc
    return bytes(released), None


def test_vectors_are_present_and_skips_are_listed():
    names = [p.name for p in all_vectors()]
    assert len(names) > 100, f"expected the CCTV vectors in {VECTORS}"
    skipped = sorted(n for n in names if n.startswith(SKIPPED_PREFIXES))
    assert all(n.startswith(("armor_", "hybrid")) for n in skipped)
    print(f"skipped {len(skipped)} armor/hybrid vectors: {', '.join(skipped)}")


@pytest.mark.parametrize("reader", [read_seekable, read_streaming], ids=["seekable", "streaming"])
@pytest.mark.parametrize("path", used_vectors(), ids=lambda p: p.name)
def test_vector(path: Path, reader):
    vector = load_vector(path)
    assert not vector.armored
    released, error = reader(vector)
    if vector.expect == "success":
        assert error is None, f"{vector.name}: {error!r}"
    else:
        expected = EXPECTED_ERRORS[vector.expect]
        assert isinstance(error, expected), f"{vector.name}: wanted {expected}, got {error!r}"
        if expected is NoIdentityMatchError:
            assert not isinstance(error, HeaderError)
    if vector.expect in ("success", "payload failure"):
        assert hashlib.sha256(released).hexdigest() == vector.payload_hash
    else:
        assert released == b""
