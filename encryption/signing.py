"""Ed25519 signing keys, Bech32-encoded like age keys (VFSIGN-SECRET-KEY-1… / vfsign1…)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from hashlib import sha256

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import bech32
from .errors import IdentityFileError, SignatureError

_SECRET_HRP = "vfsign-secret-key-"
_PUBLIC_HRP = "vfsign"


@dataclass(frozen=True)
class VerifyKey:
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifyKey:
        hrp, data = bech32.decode(text.strip())
        if hrp != _PUBLIC_HRP or len(data) != 32:
            raise IdentityFileError(f"{text.strip()!r} is not a vfsign1… public signing key")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode(_PUBLIC_HRP, self.public_key)

    def key_id(self, name: str) -> bytes:
        """The C2SP signed-note key ID for an Ed25519 key with this name."""
        return sha256(name.encode() + b"\n\x01" + self.public_key).digest()[:4]

    def verify(self, message: bytes, signature: bytes) -> None:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            raise SignatureError(
                "a signature does not verify: the signed data was altered"
            ) from None


class SigningKey:
    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        hrp, data = bech32.decode(text.strip())
        if hrp != _SECRET_HRP or len(data) != 32:
            raise IdentityFileError("this is not a VFSIGN-SECRET-KEY-1… signing key")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode(_SECRET_HRP, self._seed).upper()

    @property
    def verify_key(self) -> VerifyKey:
        return VerifyKey(self._key.public_key().public_bytes_raw())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)
