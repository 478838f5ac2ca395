"""``videofeedback demo``: make (once) the demo library and say how to unlock it.

``videofeedback demo`` from the app's launcher also opens the app on it; this command only
prepares it, so scripts and tests can use it without a display.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from videofeedback.demo import ensure_demo_library

from .output import emit


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo", help="open the app on the demo library (made on first run, under a minute)"
    )
    demo.add_argument(
        "--no-app", action="store_true", help="only prepare the demo library and print its users"
    )
    demo.set_defaults(handler=cmd_demo)


def demo_folder(args: argparse.Namespace) -> Path:
    """--library, else $VIDEOFEEDBACK_DEMO_LIBRARY, else the user's data folder."""
    chosen = args.library or os.environ.get("VIDEOFEEDBACK_DEMO_LIBRARY")
    return Path(chosen) if chosen else Path(user_data_dir("videofeedback-demo", appauthor=False))


def cmd_demo(args: argparse.Namespace) -> int:
    folder = demo_folder(args)
    demo = ensure_demo_library(folder, lambda step: print(f"demo: {step}…", file=sys.stderr))
    users = "\n".join(f"  {user:6} {secret}" for user, secret in demo.passphrases.items())
    text = f"The demo library is {folder}\nIts users and their demo passphrases:\n{users}"
    emit(args.json, {"library": str(folder), "passphrases": demo.passphrases}, text)
    return 0
