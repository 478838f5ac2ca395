"""Output helpers shared by the CLI commands: plain text or --json, and passphrases."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import MutableMapping, Sequence
from typing import Any

from videofeedback.library.passphrases import EXAMPLE, passphrase_problem


class CliExit(Exception):
    """Stop the command with this one-line message and exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def emit(json_mode: bool, data: dict[str, Any], text: str) -> None:
    """Print ``data`` as JSON with --json, else the human ``text``."""
    print(json.dumps(data, indent=2, default=str) if json_mode else text)


#: Environment variables that hold a passphrase (or, with _FILE, name a file that does).
SECRET_VARIABLES = ("VIDEOFEEDBACK_PASSPHRASE", "VIDEOFEEDBACK_NEW_PASSPHRASE")
_secrets: dict[str, str] = {}


def take_secrets(environ: MutableMapping[str, str] | None = None, *, fresh: bool = False) -> None:
    """Move the passphrases out of the environment, once, at start, so that no child process
    (ffmpeg) inherits them (children get a minimal environment anyway: clips.ffmpeg.spawn).
    ``NAME_FILE`` names a file (or /dev/fd/N, a descriptor the caller opened) whose first line
    is the passphrase: nothing in the shell's history or the environment at all."""
    environ = os.environ if environ is None else environ
    if fresh:  # a new command: nothing kept from an earlier one in the same process
        _secrets.clear()
    for name in SECRET_VARIABLES:
        path = environ.pop(f"{name}_FILE", None)
        value = environ.pop(name, None)
        if path is not None:
            value = _read_secret_file(path, f"{name}_FILE")
        if value is not None:
            _secrets[name] = value


def _read_secret_file(path: str, variable: str) -> str:
    try:
        with open(path, encoding="utf-8") as file:
            return file.readline().rstrip("\r\n")
    except OSError as exc:
        raise CliExit(f"{variable}: cannot read {path} ({exc.strerror})") from None


def secret_from_environment(variable: str) -> str | None:
    """A passphrase given through the environment (taken out of it by ``take_secrets``)."""
    if variable in os.environ or f"{variable}_FILE" in os.environ:
        take_secrets()  # set since the start (by a caller in the same process)
    return _secrets.get(variable)


def passphrase(prompt: str = "Passphrase: ", variable: str = "VIDEOFEEDBACK_PASSPHRASE") -> str:
    """The passphrase from the environment variable, else from a prompt on the terminal."""
    value = secret_from_environment(variable)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise CliExit(f"no passphrase: set {variable} or run in a terminal to be asked")
    return getpass.getpass(prompt)


def new_passphrase(variable: str, known: Sequence[str] = ()) -> str:
    """A new passphrase: from the environment variable, or asked twice on the terminal; it
    must pass the strength rule (``known``: words an attacker would try first, the user name)."""
    value = secret_from_environment(variable)
    if value is None:
        if not sys.stdin.isatty():
            raise CliExit(f"no passphrase: set {variable} or run in a terminal to be asked")
        value = getpass.getpass("New passphrase: ")
        if getpass.getpass("Repeat it: ") != value:
            raise CliExit("the two passphrases differ; nothing was written")
    problem = passphrase_problem(value, known)
    if problem:
        raise CliExit(
            f"{problem}; nothing was written. Choose one that would take at least "
            f"10^10 guesses: {EXAMPLE}"
        )
    return value
