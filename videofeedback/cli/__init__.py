"""The videofeedback command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from videofeedback.errors import VideofeedbackError

from . import annotation_commands, crypto, demo, library_commands, media_commands, team_commands
from .output import CliExit

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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="videofeedback", description=__doc__)
    parser.set_defaults(json=False, user=None, library=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (
        crypto, library_commands, annotation_commands, media_commands, team_commands, demo
    ):
        module.register(commands)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
