"""Canonical, unpadded base64 as the age header uses it."""

import base64
import binascii

from .errors import HeaderError

_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def decode(text: bytes, what: str) -> bytes:
    """Decode canonical unpadded base64; anything else is a header failure."""
    if any(c not in _ALPHABET for c in text) or len(text) % 4 == 1:
        raise HeaderError(f"the file's header is damaged ({what} is not valid base64)")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise HeaderError(f"the file's header is damaged ({what} is not valid base64)") from exc
    if encode(data) != text:
        raise HeaderError(f"the file's header is damaged ({what} is not canonical base64)")
    return data
