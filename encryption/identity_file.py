"""A user's keys in one passphrase-protected age file that the age tool can use directly."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import keys as _keys
from .errors import IdentityFileError
from .files import write_encrypted
from .keys import ScryptIdentity, ScryptRecipient, X25519Identity, X25519Recipient, parse_identities
from .signing import SigningKey
from .stream import AgeReader

_SIGNING_PREFIX = "# signing-key:"
_AGE_MAGIC = b"age-encryption.org/"


@dataclass
class UserKeys:
    """X25519 identities (the first is the user's own) and an optional Ed25519 signing key."""

    identities: list[X25519Identity]
    signing_key: SigningKey | None = None
    comments: list[str] = field(default_factory=list)

    @classmethod
    def generate(cls) -> UserKeys:
        return cls([X25519Identity.generate()], SigningKey.generate())

    @property
    def recipient(self) -> X25519Recipient:
        return self.identities[0].recipient

    def require_signing_key(self) -> SigningKey:
        if self.signing_key is None:
            raise IdentityFileError(
                "this identity file has no signing key (a plain age identity); "
                "use a videofeedback identity made with 'videofeedback keygen'"
            )
        return self.signing_key

    def to_text(self) -> str:
        created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        lines = ["# videofeedback identity v1", f"# created: {created}"]
        lines.append(f"# recipient: {self.recipient}")
        if self.signing_key is not None:
            lines.append(f"{_SIGNING_PREFIX} {self.signing_key}")
            lines.append(f"# verify-key: {self.signing_key.verify_key}")
        lines += [str(identity) for identity in self.identities]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> UserKeys:
        signing = None
        for line in text.splitlines():
            if line.startswith(_SIGNING_PREFIX):
                signing = SigningKey.parse(line[len(_SIGNING_PREFIX) :])
        return cls(parse_identities(text), signing)


def save_identity_file(path: str | os.PathLike[str], keys: UserKeys, passphrase: str) -> None:
    """Write ``keys`` to ``path`` (atomically), encrypted with ``passphrase`` (scrypt 2^18)."""
    recipient = ScryptRecipient(passphrase, _keys.MIN_WRITE_WORK_FACTOR)
    write_encrypted(path, keys.to_text().encode(), [recipient])


def is_encrypted_identity(data: bytes) -> bool:
    return data.startswith(_AGE_MAGIC)


def load_identity_file(path: str | os.PathLike[str], passphrase: str | None) -> UserKeys:
    """Read a videofeedback identity file (needs the passphrase) or a plain age identity file.
    A protected one below scrypt 2^18 (as only a test suite makes) is refused unread."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise IdentityFileError(f"cannot read the identity file {path}: {exc.strerror}") from None
    if is_encrypted_identity(data):
        if passphrase is None:
            raise IdentityFileError(f"{path} is protected by a passphrase; give the passphrase")
        identity = ScryptIdentity(passphrase, min_work_factor=_keys.MIN_WRITE_WORK_FACTOR)
        with AgeReader(io.BytesIO(data), [identity]) as reader:
            data = reader.readall()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise IdentityFileError(f"{path} is not an identity file") from None
    return UserKeys.from_text(text)
