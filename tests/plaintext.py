"""What a scan for plaintext looks for. Every marker is at least 6 bytes. Ciphertext holds a
given 4-byte string by chance once in 4 GiB on average, and the scans read tens of
megabytes of it a run, so 4-byte markers made the suite flaky (b"Rosa" turned up in a
recording's ciphertext in a CI rehearsal). A 6-byte string: once in 256 TiB."""

#: Bytes that every plaintext file of their kind holds: the start of videofeedback's MP4s
#: (ffmpeg's and clips.muxer's), a fragment's header (moof, then its 16-byte mfhd) and PNG's
#: signature.
MEDIA = (b"ftypiso5", b"moof\x00\x00\x00\x10mfhd", b"\x89PNG\r\n\x1a\n")


def names(*words: str) -> tuple[bytes, ...]:
    """People's and cases' names (four letters or more) as JSON holds them: quoted, for a
    short name is no marker alone."""
    return tuple(f'"{word}"'.encode() for word in words)
