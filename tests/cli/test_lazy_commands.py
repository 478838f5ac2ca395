"""The command line imports a command's modules only when it runs: ``--help`` and the crypto
commands never load Qt, numpy or OpenCV (about a second of start-up each time)."""

import argparse
import json
import subprocess
import sys

import pytest

from encryption import UserKeys
from videofeedback import cli

HEAVY = ("PySide6", "numpy", "cv2")
# Runs the entry point as the console script does, then reports which heavy packages it loaded.
DRIVER = """
import json, sys
from ui.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
print(json.dumps([code, loaded]), file=sys.stderr)
"""


def heavy_modules_loaded(*args: str, cwd=None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{DRIVER}", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        env={"VIDEOFEEDBACK_PASSPHRASE": "pw-lazy", "PATH": "/usr/bin:/bin"},
    )
    code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert code in (0, None), done.stderr
    return loaded


@pytest.mark.parametrize("args", [["--help"], ["--json"], ["encrypt", "--help"], ["keygen", "-h"]])
def test_help_imports_no_qt_numpy_or_opencv(args):
    assert heavy_modules_loaded(*args) == []  # ("--json" alone: no command, the help)


def test_crypto_commands_import_no_qt_numpy_or_opencv(tmp_path):
    keys = UserKeys.generate()
    (tmp_path / "me.key").write_text(keys.to_text())  # a plain age identity file
    (tmp_path / "plain.txt").write_bytes(b"a small file\n" * 100)
    steps = [
        ["encrypt", "-r", str(keys.recipient), "-o", "sealed.age", "plain.txt"],
        ["decrypt", "-i", "me.key", "-o", "back.txt", "sealed.age"],
        ["verify", "-i", "me.key", "sealed.age"],
    ]
    for step in steps:
        assert heavy_modules_loaded(*step, cwd=tmp_path) == [], step
    assert (tmp_path / "back.txt").read_bytes() == (tmp_path / "plain.txt").read_bytes()


def test_the_command_table_is_what_the_modules_register():
    """``--help`` lists commands from cli.COMMANDS without importing them: it must say what
    the modules themselves register (a new command needs a row there)."""
    parser = cli.build_parser()  # every module
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    registered = {}
    for choice in commands._choices_actions:
        module = _owner(commands.choices[choice.dest])
        registered[choice.dest] = (module, choice.help)
    assert registered == cli.COMMANDS
    assert list(registered) == list(cli.COMMANDS)  # same order in --help


def _owner(subparser: argparse.ArgumentParser) -> str:
    """The cli module whose handlers the (sub)command calls."""
    handler = subparser.get_default("handler")
    if handler is None:
        (nested,) = (a for a in subparser._actions if isinstance(a, argparse._SubParsersAction))
        handler = next(iter(nested.choices.values())).get_default("handler")
    return handler.__module__.rsplit(".", 1)[-1]


def test_command_module_skips_common_options():
    assert cli.command_module(["--user", "encrypt", "case", "list"]) == "library_commands"
    assert cli.command_module(["--json", "--library=x", "moments", "list"]) == "annotation_commands"
    assert cli.command_module(["--help"]) is None
    assert cli.command_module(["nonsense"]) is None
