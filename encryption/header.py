"""The age v1 header: parse it strictly, write it, and check its MAC."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from hashlib import sha256
from typing import BinaryIO

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import b64
from .errors import HeaderError, HeaderMacError

VERSION_LINE = b"age-encryption.org/v1\n"
_VERSION_PREFIX = b"age-encryption.org/"
_MAX_LINE = 16 * 1024
_MAX_STANZAS = 1024
_BODY_COLUMNS = 64


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: its arguments (the first names the type) and its body."""

    args: tuple[str, ...]
    body: bytes

    @property
    def type(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Header:
    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes  # the header bytes up to and including "---"
    length: int  # bytes from the start of the file to the end of the MAC line


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=salt, info=info).derive(ikm)


def header_mac(file_key: bytes, mac_input: bytes) -> bytes:
    return hmac.new(hkdf(file_key, b"", b"header"), mac_input, sha256).digest()


def _damaged(reason: str) -> HeaderError:
    return HeaderError(f"the file's header is damaged or not an age file ({reason})")


class _Lines:
    """Reads header lines and keeps every byte read, for the MAC."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.raw = bytearray()

    def next(self) -> bytes:
        line = self._source.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            raise _damaged("it ends too early" if len(line) < _MAX_LINE else "a line is too long")
        self.raw += line
        return line


def _parse_args(line: bytes) -> tuple[str, ...]:
    args = line[3:-1].split(b" ")
    for arg in args:
        if not arg or any(not 0x21 <= c <= 0x7E for c in arg):
            raise _damaged("a stanza has an empty or invalid argument")
    return tuple(a.decode("ascii") for a in args)


def _read_body(lines: _Lines) -> bytes:
    encoded = bytearray()
    while True:
        line = lines.next()[:-1]
        if len(line) > _BODY_COLUMNS:
            raise _damaged("a stanza body line is longer than 64 columns")
        encoded += line
        if len(line) < _BODY_COLUMNS:
            return b64.decode(bytes(encoded), "a stanza body")


def read_header(source: BinaryIO) -> Header:
    """Parse the header at the current position of ``source`` (left just after it)."""
    first = source.readline(_MAX_LINE)
    if first != VERSION_LINE:
        if first.startswith(_VERSION_PREFIX):
            raise HeaderError("this age file uses a version videofeedback cannot read")
        raise _damaged("no age version line")
    lines = _Lines(source)
    lines.raw += first
    stanzas: list[Stanza] = []
    while True:
        before = len(lines.raw)
        line = lines.next()
        if line.startswith(b"-> ") and len(stanzas) < _MAX_STANZAS:
            stanzas.append(Stanza(_parse_args(line), _read_body(lines)))
        elif line.startswith(b"--- ") and stanzas:
            encoded = line[4:-1]
            if len(encoded) != 43:
                raise _damaged("the MAC line has the wrong length")
            mac = b64.decode(encoded, "the MAC")
            mac_input = bytes(lines.raw[:before]) + b"---"
            return Header(tuple(stanzas), mac, mac_input, len(lines.raw))
        else:
            raise _damaged("unexpected line in the header")


def write_header(stanzas: list[Stanza], file_key: bytes) -> bytes:
    """Serialise stanzas and append the MAC computed with ``file_key``."""
    out = bytearray(VERSION_LINE)
    for stanza in stanzas:
        out += b"-> " + " ".join(stanza.args).encode("ascii") + b"\n"
        encoded = b64.encode(stanza.body)
        for i in range(0, len(encoded) + 1, _BODY_COLUMNS):
            out += encoded[i : i + _BODY_COLUMNS] + b"\n"
    out += b"---"
    mac = header_mac(file_key, bytes(out))
    return bytes(out) + b" " + b64.encode(mac) + b"\n"


def check_mac(header: Header, file_key: bytes) -> None:
    if not hmac.compare_digest(header_mac(file_key, header.mac_input), header.mac):
        raise HeaderMacError(
            "the file's header was altered (its MAC does not match); do not trust this file"
        )
