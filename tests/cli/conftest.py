import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).with_name("videofeedback")


@dataclass
class Result:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode()


def run_cli(*args, stdin: bytes = b"", env: dict | None = None, cwd=None) -> Result:
    """Run the installed `videofeedback` console script, as a person would."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VIDEOFEEDBACK_")}
    full_env.update(env or {})
    done = subprocess.run(
        [str(SCRIPT), *map(str, args)],
        input=stdin,
        capture_output=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr.decode())


def assert_one_line_error(result: Result, contains: str = "") -> None:
    assert result.code != 0
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("videofeedback: error: ")
    assert contains.lower() in lines[0].lower(), lines[0]


@pytest.fixture
def cli():
    return run_cli
