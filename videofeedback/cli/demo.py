"""``videofeedback demo``: a short tour of what is built so far, in a throw-away folder.

It uses no personal data: a generated identity, a made-up payload. Later the app replaces it.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
from pathlib import Path
from typing import Any

from encryption import (
    AgeReader,
    DurableEncryptedFile,
    PayloadError,
    UserKeys,
    load_identity_file,
    recover,
    save_identity_file,
    write_encrypted,
)

DEMO_PASSPHRASE = "demo-passphrase"


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="a short demonstration in a temporary folder")
    demo.set_defaults(handler=cmd_demo)


def _step(text: str) -> None:
    print(f"\n== {text}")


def cmd_demo(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="videofeedback-demo-") as folder:
        run_demo(Path(folder))
    print("\nDemo finished; its temporary folder was removed.")
    return 0


def run_demo(folder: Path) -> None:
    _step("1. A practitioner's identity file, protected by a passphrase (scrypt 2^18)")
    keys = UserKeys.generate()
    identity_path = folder / "practitioner.identity"
    save_identity_file(identity_path, keys, DEMO_PASSPHRASE)
    print(f"recipient {keys.recipient}\nwritten   {identity_path.name} (an age file)")
    identities = load_identity_file(identity_path, DEMO_PASSPHRASE).identities

    _step("2. A 1 MiB file encrypted to that recipient, read back at random offsets")
    payload = bytes(range(256)) * 4096
    stored = folder / "example.age"
    write_encrypted(stored, payload, [keys.recipient])
    with AgeReader(stored, identities) as reader:
        reader.seek(700_000)
        same = reader.read(16) == payload[700_000:700_016]
        print(f"size {reader.size()} bytes; 16 bytes at offset 700000 match: {same}")

    _step("3. One flipped bit is caught, and nothing unverified is returned")
    damaged = bytearray(stored.read_bytes())
    damaged[-100] ^= 1
    try:
        with AgeReader(io.BytesIO(bytes(damaged)), identities) as reader:
            reader.seek(0, os.SEEK_END)
    except PayloadError as exc:
        print(f"refused: {exc}")

    _step("4. A recording that stops without being sealed is recovered")
    recording = DurableEncryptedFile(folder / "recording.mp4.age", [keys.recipient])
    recording.write(os.urandom(300_000))
    recording.abort()  # as if the laptop's battery died here: the last chunk was never written
    result = recover(recording.partial, identities)
    print(
        f"kept {result.kept_bytes} of 300000 bytes; dropped a torn tail of {result.dropped_bytes}"
    )
