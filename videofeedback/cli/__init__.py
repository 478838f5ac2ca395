"""The videofeedback command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from videofeedback.errors import VideofeedbackError

from . import crypto, demo
from .output import CliExit

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliExit(f"{message} (see '{self.prog} --help')", EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="videofeedback", description=__doc__)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in (crypto, demo):
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
