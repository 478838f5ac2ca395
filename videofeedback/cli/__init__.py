"""The videofeedback command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from vferrors import VideofeedbackError

from .output import CliExit, take_secrets

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


class _Parser(argparse.ArgumentParser):
    """Every (sub)command accepts the common options, before or after its name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        common = self.add_argument_group("common options")
        common.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
        )
        common.add_argument(
            "--user", default=argparse.SUPPRESS, help="act as this user (or VIDEOFEEDBACK_USER)"
        )
        common.add_argument(
            "--library",
            default=argparse.SUPPRESS,
            help="the library folder (or VIDEOFEEDBACK_LIBRARY)",
        )

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliExit(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


#: The modules that register commands, in the order ``--help`` lists them.
MODULES = (
    "crypto",
    "library_commands",
    "annotation_commands",
    "media_commands",
    "redact_commands",
    "team_commands",
    "sync_commands",
    "demo",
)
#: Each command's module and its one-line help, so that ``--help`` and a command import only
#: what that command needs (the media modules bring Qt's GUI, numpy and OpenCV: about a
#: second). tests/cli/test_lazy_commands.py keeps this table equal to what the modules register.
COMMANDS: dict[str, tuple[str, str]] = {
    "keygen": ("crypto", "make an identity file (keys + passphrase)"),
    "encrypt": ("crypto", "encrypt a file to recipients, like age -e"),
    "decrypt": ("crypto", "decrypt a file, like age -d"),
    "verify": ("crypto", "check every byte of an encrypted file"),
    "recover": ("crypto", "seal an interrupted recording"),
    "init": ("library_commands", "create a library with you as its administrator"),
    "user": ("library_commands", "users of the library"),
    "case": ("library_commands", "cases (families)"),
    "participant": ("library_commands", "family members in a case"),
    "consent": ("library_commands", "consent per participant and purpose"),
    "session": ("library_commands", "recording, review and supervision sessions"),
    "goal": ("library_commands", "goals and goal attainment scores"),
    "comment": ("library_commands", "a supervisor's comment on a session or moment"),
    "signoff": ("library_commands", "sign off a cycle: a film and its review"),
    "audit": ("library_commands", "the audit trail of a case or of the library"),
    "export": ("library_commands", "hand a case over to another user, signed"),
    "open-bundle": ("library_commands", "verify and open a bundle, read-only"),
    "purge": ("library_commands", "delete closed cases past retention (admin)"),
    "moments": ("annotation_commands", "moments on a recording"),
    "agreement": ("annotation_commands", "agreement between two coders (kappa)"),
    "codebook": ("annotation_commands", "codebooks"),
    "record": ("media_commands", "record a session (encrypted as it is captured)"),
    "import": ("media_commands", "import phone or camera files into a session"),
    "media": ("media_commands", "recordings, stills and reels"),
    "reel": ("media_commands", "highlight reels"),
    "still": ("media_commands", "the exact frame at a time, as an encrypted PNG"),
    "people": ("redact_commands", "find and name the people in a recording"),
    "redact": ("redact_commands", "review what a redacted export hides"),
    "remote": ("team_commands", "team stores (S3) this library syncs with"),
    "team": ("team_commands", "set up a team store, or join one from a laptop"),
    "sync": ("sync_commands", "push and pull every case with the team store"),
    "conflicts": ("sync_commands", "concurrent edits a member must settle"),
    "demo": ("demo", "open the app on the demo library (made on first run, under a minute)"),
}
_OPTIONS_WITH_VALUE = ("--user", "--library")


def command_module(argv: Sequence[str]) -> str | None:
    """The module of the command ``argv`` names (its first word that is not an option)."""
    words = iter(argv)
    for word in words:
        if word in _OPTIONS_WITH_VALUE:
            next(words, None)
        elif not word.startswith("-"):
            return COMMANDS[word][0] if word in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, only the module of the command it names is imported (the
    others' commands are listed by name and help), without, every module."""
    wanted = set(MODULES) if argv is None else {command_module(argv)}
    parser = _Parser(prog="videofeedback", description=__doc__)
    parser.set_defaults(json=False, user=None, library=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in MODULES:
        if module in wanted:
            importlib.import_module(f"{__name__}.{module}").register(commands)
            continue
        for name, (owner, help_text) in COMMANDS.items():
            if owner == module:
                commands.add_parser(name, help=help_text)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    take_secrets(fresh=True)  # out of the environment before any child process starts
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    result: int = args.handler(args)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except CliExit as exc:
        return _fail(str(exc), exc.code)
    except VideofeedbackError as exc:
        return _fail(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return EXIT_ERROR
    except OSError as exc:
        name = f" {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{name}", EXIT_ERROR)
    except Exception as exc:  # noqa: BLE001 - never a traceback; say what broke
        return _fail(
            f"internal error ({type(exc).__name__}: {exc}); please report it", EXIT_INTERNAL
        )


def _fail(message: str, code: int) -> int:
    print(f"videofeedback: error: {message}", file=sys.stderr)
    return code
