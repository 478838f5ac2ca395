"""Bytes of an interchange file to text: BOMs first, then the stated encoding, else UTF-8.

A file that is not what it claims gives an InterchangeError naming ``--encoding``, never a
UnicodeDecodeError: Excel writes UTF-16 CSV with a BOM, old subtitle tools Windows-1252.
"""

from __future__ import annotations

import codecs
import zlib

from ..errors import InterchangeError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def detect_bom(data: bytes) -> tuple[str, int] | None:
    """The encoding a byte-order mark names, and the mark's length; None without a mark."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


def decode_text(data: bytes, name: str, encoding: str | None = None) -> str:
    """The file's text. A BOM wins; then ``encoding`` if given; then strict UTF-8."""
    found = detect_bom(data)
    if found is not None:
        chosen, skip = found
    else:
        chosen, skip = (encoding or "utf-8"), 0
    try:
        codecs.lookup(chosen)
    except LookupError:
        raise InterchangeError(
            f"unknown encoding {chosen!r}; name one Python knows (cp1252, latin-1, utf-16)"
        ) from None
    try:
        return data[skip:].decode(chosen)
    except UnicodeDecodeError as exc:
        bad = data[skip + exc.start : skip + exc.start + 1].hex()
        hint = _guess(data)
        raise InterchangeError(
            f"{name} is not {chosen} text (byte 0x{bad} at offset {skip + exc.start}); "
            f"give its encoding with --encoding{hint}"
        ) from None


def _guess(data: bytes) -> str:
    sample = data[:4000]
    if sample and sample.count(0) * 3 > len(sample):
        return " (it looks like UTF-16 without a byte-order mark: try utf-16-le)"
    return " (e.g. --encoding cp1252 for Windows text, latin-1, utf-16)"


GZIP_LIMIT = 256 * 1024 * 1024  # a project this large unpacked is not one BORIS wrote


def unwrap_gzip(data: bytes, name: str, limit: int = GZIP_LIMIT) -> tuple[bytes, str]:
    """BORIS saves compressed projects as .boris.gz: the bytes inside, and the inner name.
    Unpacking stops at ``limit`` bytes, so a crafted archive cannot fill the memory."""
    if not data.startswith(b"\x1f\x8b"):
        return data, name
    unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inner = unpacker.decompress(data, limit)
    except zlib.error as exc:
        raise InterchangeError(f"{name} is a damaged gzip file ({exc})") from None
    if unpacker.unconsumed_tail:
        raise InterchangeError(f"{name} unpacks to more than {limit // 2**20} MiB; not read")
    if not unpacker.eof:  # truncated, or its end is garbage
        raise InterchangeError(f"{name} is a damaged gzip file (it ends too soon)")
    return inner, name.removesuffix(".gz").removesuffix(".GZ")
