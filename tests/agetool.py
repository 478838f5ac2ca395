"""Driving the real `age` command-line tool, including its passphrase prompt (through a pty)."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import time
from pathlib import Path

AGE = shutil.which("age")
AGE_KEYGEN = shutil.which("age-keygen")


def age(*args: str | Path, stdin: bytes = b"") -> bytes:
    """Run age without a terminal; return stdout, raise on failure."""
    assert AGE, "the age tool is missing: ./test.sh installs it (apt package 'age')"
    done = subprocess.run([AGE, *map(str, args)], input=stdin, capture_output=True, timeout=60)
    if done.returncode != 0:
        raise AssertionError(f"age {args} failed: {done.stderr.decode()}")
    return done.stdout


def age_with_passphrase(*args: str | Path, passphrase: str, prompts: int) -> None:
    """Run age with a terminal, answering its passphrase prompt(s). Output goes to a file (-o)."""
    assert AGE, "the age tool is missing"
    pid, fd = pty.fork()
    if pid == 0:  # child: age reads the passphrase from /dev/tty, i.e. this pty
        os.execv(AGE, [AGE, *map(str, args)])
    transcript = b""
    answered = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(fd, 1024)
        except OSError:
            break
        if not data:
            break
        transcript += data
        if answered < prompts and transcript.count(b":") > answered:
            os.write(fd, passphrase.encode() + b"\r")
            answered += 1
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"age {args} failed: {transcript.decode(errors='replace')}")
