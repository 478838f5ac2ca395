"""keygen, encrypt, decrypt, verify, recover: the encryption layer from the command line."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from encryption import (
    AgeReader,
    AgeWriter,
    Identity,
    Recipient,
    ScryptIdentity,
    ScryptRecipient,
    UnfinishedError,
    UserKeys,
    X25519Recipient,
    atomic_file,
    is_encrypted_identity,
    iter_decrypt,
    load_identity_file,
    recover,
    recoverable_bytes,
    save_identity_file,
)
from encryption.files import PARTIAL_SUFFIX
from videofeedback.pipeline import prefetch

from .output import CliExit, emit, new_passphrase, passphrase

_COPY_SIZE = 1024 * 1024


def register(commands: Any) -> None:
    keygen = commands.add_parser("keygen", help="make an identity file (keys + passphrase)")
    keygen.add_argument("-o", "--output", required=True, help="the identity file to write")
    keygen.set_defaults(handler=cmd_keygen)

    encrypt = commands.add_parser("encrypt", help="encrypt a file to recipients, like age -e")
    encrypt.add_argument("-r", "--recipient", action="append", default=[], help="age1… key")
    encrypt.add_argument("-p", "--passphrase", action="store_true", help="encrypt to a passphrase")
    encrypt.add_argument("-o", "--output", help="output file (default: stdout)")
    encrypt.add_argument("input", nargs="?", help="input file (default: stdin)")
    encrypt.set_defaults(handler=cmd_encrypt)

    decrypt = commands.add_parser("decrypt", help="decrypt a file, like age -d")
    decrypt.add_argument("-i", "--identity", action="append", default=[], help="identity file")
    decrypt.add_argument("-o", "--output", help="output file (default: stdout)")
    decrypt.add_argument("input", nargs="?", help="input file (default: stdin)")
    decrypt.set_defaults(handler=cmd_decrypt)

    verify = commands.add_parser("verify", help="check every byte of an encrypted file")
    verify.add_argument("file")
    verify.add_argument("-i", "--identity", action="append", default=[], required=True)
    verify.set_defaults(handler=cmd_verify)

    rec = commands.add_parser("recover", help="seal an interrupted recording")
    rec.add_argument("file")
    rec.add_argument("-i", "--identity", action="append", default=[], required=True)
    rec.set_defaults(handler=cmd_recover)


# --- keys ---------------------------------------------------------------------------------


def load_identities(paths: list[str]) -> list[Identity]:
    """Identities from identity files; a protected one takes VIDEOFEEDBACK_PASSPHRASE or a
    prompt. With no files, the passphrase itself is the identity (for passphrase files)."""
    if not paths:
        return [ScryptIdentity(passphrase())]
    identities: list[Identity] = []
    for path in paths:
        with open(path, "rb") as file:
            protected = is_encrypted_identity(file.read(64))
        secret = passphrase(f"Passphrase for {path}: ") if protected else None
        identities.extend(load_identity_file(path, secret).identities)
    return identities


def cmd_keygen(args: argparse.Namespace) -> int:
    if os.path.exists(args.output):
        raise CliExit(f"{args.output} already exists; choose another name (nothing overwritten)")
    keys = UserKeys.generate()
    save_identity_file(args.output, keys, new_passphrase("VIDEOFEEDBACK_PASSPHRASE"))
    info = {"identity_file": args.output, "recipient": str(keys.recipient)}
    info["verify_key"] = str(keys.require_signing_key().verify_key)
    emit(args.json, info, str(keys.recipient))
    return 0


# --- streams ------------------------------------------------------------------------------


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    """stdout, or a file that appears only if the command succeeds (atomic)."""
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with atomic_file(path) as sink:
        yield sink


@contextlib.contextmanager
def _input(path: str | None) -> Iterator[BinaryIO]:
    if path is None:
        yield sys.stdin.buffer
        return
    with open(path, "rb") as source:
        yield source


def _recipients(args: argparse.Namespace) -> list[Recipient]:
    if args.passphrase and args.recipient:
        raise CliExit("use either -r or -p, not both: a passphrase file has no other recipient")
    if args.passphrase:
        return [ScryptRecipient(new_passphrase("VIDEOFEEDBACK_PASSPHRASE"))]
    if not args.recipient:
        raise CliExit("say who may open the file: -r age1… (or -p for a passphrase)")
    return [X25519Recipient.parse(r) for r in args.recipient]


def cmd_encrypt(args: argparse.Namespace) -> int:
    recipients = _recipients(args)
    with _input(args.input) as source, _output(args.output) as sink:
        writer = AgeWriter(sink, recipients)
        block = memoryview(bytearray(_COPY_SIZE))  # reused: no allocation per read
        while size := source.readinto(block):  # type: ignore[attr-defined]
            writer.write(block[:size])
        writer.close()
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    identities = load_identities(args.identity)
    with _input(args.input) as source, _output(args.output) as sink:
        for chunk in prefetch(iter_decrypt(source, identities)):  # decrypting overlaps writing
            sink.write(chunk)
    return 0


# --- checks -------------------------------------------------------------------------------


def cmd_verify(args: argparse.Namespace) -> int:
    identities = load_identities(args.identity)
    try:
        if args.file.endswith(PARTIAL_SUFFIX):
            raise UnfinishedError("a recording that was never sealed")
        with AgeReader(args.file, identities) as reader:
            size = reader.verify()
    except UnfinishedError:
        kept = recoverable_bytes(args.file, identities)
        info = {"file": args.file, "valid": False, "sealed": False, "recoverable_bytes": kept}
        text = (
            f"{args.file}: unfinished (not sealed); {kept} bytes can be recovered "
            f"with 'videofeedback recover {args.file}'"
        )
        emit(args.json, info, text)
        return 3
    info = {"file": args.file, "valid": True, "sealed": True, "size": size}
    emit(args.json, info, f"{args.file}: valid, sealed, {size} bytes")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    result = recover(args.file, load_identities(args.identity))
    info = {
        "file": str(result.path),
        "kept_bytes": result.kept_bytes,
        "dropped_bytes": result.dropped_bytes,
        "already_sealed": result.already_sealed,
    }
    if result.already_sealed:
        text = f"{result.path}: already sealed and valid ({result.kept_bytes} bytes); nothing to do"
    else:
        text = (
            f"recovered {Path(result.path)}: kept {result.kept_bytes} bytes, "
            f"dropped {result.dropped_bytes} bytes of an unfinished chunk"
        )
    emit(args.json, info, text)
    return 0
