"""Recipients (who a file is encrypted to) and identities (what opens it): X25519 and scrypt."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from . import b64, bech32
from .errors import HeaderError, IdentityFileError
from .header import Stanza, hkdf

FILE_KEY_SIZE = 16
_ZERO_NONCE = b"\x00" * 12
_X25519_INFO = b"age-encryption.org/v1/X25519"
_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_WORK_FACTOR = re.compile(r"[1-9][0-9]*")

#: The smallest scrypt work factor (log2) videofeedback writes, and the smallest it accepts on
#: a passphrase-protected identity file (identity_file.py). Only the test suite lowers it, in
#: its own processes (tests/fast_scrypt.py, which is not part of the installed package), so
#: that its identities cost milliseconds; the application never does, so it refuses to unlock
#: any identity file a test made, and such a file can never protect a real library.
MIN_WRITE_WORK_FACTOR = 18
#: The largest scrypt work factor (log2) videofeedback reads; larger is a header failure, as in age.
MAX_READ_WORK_FACTOR = 22


class Recipient(Protocol):
    def wrap(self, file_key: bytes) -> Stanza: ...


class Identity(Protocol):
    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key, None if no stanza is for this identity; raise HeaderError
        for a stanza of this identity's type that breaks the specification."""
        ...


def _seal_file_key(wrap_key: bytes, file_key: bytes) -> bytes:
    return ChaCha20Poly1305(wrap_key).encrypt(_ZERO_NONCE, file_key, None)


def _open_file_key(wrap_key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


def _check_body(stanza: Stanza) -> None:
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError(f"the file's header is damaged (a {stanza.type} stanza has a bad body)")


# --- X25519 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class X25519Recipient:
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        try:
            hrp, data = bech32.decode(text.strip())
        except IdentityFileError as exc:
            raise IdentityFileError(f"{text.strip()!r} is not a recipient: {exc}") from None
        if hrp != "age" or len(data) != 32 or text.strip() != text.strip().lower():
            raise IdentityFileError(f"{text.strip()!r} is not an age1… recipient")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode("age", self.public_key)

    def wrap(self, file_key: bytes) -> Stanza:
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        secret = ephemeral.exchange(X25519PublicKey.from_public_bytes(self.public_key))
        wrap_key = hkdf(secret, share + self.public_key, _X25519_INFO)
        return Stanza(("X25519", b64.encode(share).decode()), _seal_file_key(wrap_key, file_key))


def _exchange(key: X25519PrivateKey, share: bytes) -> bytes:
    """X25519; an all-zero result (low-order share) comes back as zeros for the caller to refuse."""
    try:
        return key.exchange(X25519PublicKey.from_public_bytes(share))
    except ValueError:  # OpenSSL refuses to return the all-zero shared secret
        return bytes(32)


class X25519Identity:
    def __init__(self, secret: bytes) -> None:
        self._key = X25519PrivateKey.from_private_bytes(secret)
        self._secret = secret

    @classmethod
    def generate(cls) -> X25519Identity:
        return cls(os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        hrp, data = bech32.decode(text.strip())
        if hrp != "age-secret-key-" or len(data) != 32:
            raise IdentityFileError("this is not an AGE-SECRET-KEY-1… identity")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode("age-secret-key-", self._secret).upper()

    @property
    def recipient(self) -> X25519Recipient:
        return X25519Recipient(self._key.public_key().public_bytes_raw())

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "X25519":
                continue
            if len(stanza.args) != 2:
                raise HeaderError("the file's header is damaged (an X25519 stanza is malformed)")
            share = b64.decode(stanza.args[1].encode(), "an X25519 share")
            if len(share) != 32:
                raise HeaderError("the file's header is damaged (an X25519 share is malformed)")
            _check_body(stanza)
            secret = _exchange(self._key, share)
            if not any(secret):
                raise HeaderError("the file's header is malicious (an X25519 share is low-order)")
            wrap_key = hkdf(secret, share + self.recipient.public_key, _X25519_INFO)
            file_key = _open_file_key(wrap_key, stanza.body)
            if file_key is not None:
                return file_key
        return None


# --- scrypt -----------------------------------------------------------------------------------


def _scrypt_key(passphrase: str, salt: bytes, work_factor: int) -> bytes:
    kdf = Scrypt(salt=_SCRYPT_LABEL + salt, length=32, n=1 << work_factor, r=8, p=1)
    return kdf.derive(passphrase.encode("utf-8"))


@dataclass(frozen=True)
class ScryptRecipient:
    passphrase: str
    work_factor: int = MIN_WRITE_WORK_FACTOR

    def __post_init__(self) -> None:
        if self.work_factor < MIN_WRITE_WORK_FACTOR:
            raise ValueError(f"scrypt work factor must be at least {MIN_WRITE_WORK_FACTOR}")
        if not self.passphrase:
            raise IdentityFileError("the passphrase is empty; choose a passphrase")

    def wrap(self, file_key: bytes) -> Stanza:
        salt = os.urandom(16)
        wrap_key = _scrypt_key(self.passphrase, salt, self.work_factor)
        args = ("scrypt", b64.encode(salt).decode(), str(self.work_factor))
        return Stanza(args, _seal_file_key(wrap_key, file_key))


@dataclass(frozen=True)
class ScryptIdentity:
    passphrase: str
    max_work_factor: int = MAX_READ_WORK_FACTOR
    #: Below this the stanza is refused before any key is derived (0: any, as age does).
    min_work_factor: int = 0

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        for stanza in stanzas:
            if stanza.type != "scrypt":
                continue
            if len(stanza.args) != 3:
                raise HeaderError("the file's header is damaged (a scrypt stanza is malformed)")
            salt = b64.decode(stanza.args[1].encode(), "a scrypt salt")
            if len(salt) != 16 or not _WORK_FACTOR.fullmatch(stanza.args[2]):
                raise HeaderError("the file's header is damaged (a scrypt stanza is malformed)")
            work_factor = int(stanza.args[2])
            if work_factor < self.min_work_factor:
                raise IdentityFileError(
                    f"this file is protected by scrypt work factor 2^{work_factor}, below the "
                    f"2^{self.min_work_factor} videofeedback writes (a test suite's file?); "
                    "make a new one with 'videofeedback keygen'"
                )
            if work_factor > self.max_work_factor:
                raise HeaderError(
                    f"the file asks for scrypt work factor 2^{work_factor}, above the limit "
                    f"2^{self.max_work_factor}; it was not written by videofeedback or age"
                )
            _check_body(stanza)
            file_key = _open_file_key(_scrypt_key(self.passphrase, salt, work_factor), stanza.body)
            if file_key is not None:
                return file_key
        return None


def parse_identities(text: str) -> list[X25519Identity]:
    """Parse an age identity file: AGE-SECRET-KEY-1 lines, '#' comments, blank lines."""
    identities = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(X25519Identity.parse(line))
        except IdentityFileError as exc:
            raise IdentityFileError(f"line {number} of the identity file: {exc}") from None
    if not identities:
        raise IdentityFileError("the identity file holds no AGE-SECRET-KEY-1… identity")
    return identities
