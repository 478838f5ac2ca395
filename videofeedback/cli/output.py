"""Output helpers shared by the CLI commands: plain text or --json, and passphrases."""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Sequence
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


def passphrase(prompt: str = "Passphrase: ", variable: str = "VIDEOFEEDBACK_PASSPHRASE") -> str:
    """The passphrase from the environment variable, else from a prompt on the terminal."""
    value = os.environ.get(variable)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise CliExit(f"no passphrase: set {variable} or run in a terminal to be asked")
    return getpass.getpass(prompt)


def new_passphrase(variable: str, known: Sequence[str] = ()) -> str:
    """A new passphrase: from the environment variable, or asked twice on the terminal; it
    must pass the strength rule (``known``: words an attacker would try first, the user name)."""
    value = os.environ.get(variable)
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
