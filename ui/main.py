"""The ``videofeedback`` launcher: no arguments opens the app, ``demo`` opens it on the demo
library, anything else is the command line (``videofeedback.cli``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from videofeedback import cli


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        return run_app(None)
    if args[0] == "demo" and not {"--no-app", "--json", "-h", "--help"} & set(args):
        from videofeedback.cli.demo import demo_folder
        from videofeedback.demo import is_demo

        folder = demo_folder(cli.build_parser(args).parse_args(args))
        if not is_demo(folder):  # first run: the window at once, the demo built behind it
            return run_app(folder, build_demo=True)
        code = cli.main(args)  # prints the demo library's passphrases
        if code:
            return code
        return run_app(folder)
    return cli.main(args)


def has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_app(library: Path | None, build_demo: bool = False) -> int:
    if not has_display():
        print(
            "videofeedback: there is no display here, so the app cannot open; run it on a "
            "desktop (or under xvfb-run)",
            file=sys.stderr,
        )
        return 1
    from PySide6.QtWidgets import QApplication

    from ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("videofeedback")
    window = MainWindow()
    window.show()
    folder = library or last_library()
    if build_demo and library is not None:
        window.build_demo(library)  # a job: progress in the window, unlock screen when ready
    elif folder is not None:
        window.open_library(folder)
    return app.exec()


def last_library() -> Path | None:
    """The default library of the command line, if there is one."""
    from videofeedback.cli.library_commands import library_folder

    folder = library_folder(argparse.Namespace(library=None))
    return folder if (folder / "manifest.json").exists() else None


if __name__ == "__main__":
    sys.exit(main())
