"""Encrypt and decrypt 1 GiB with videofeedback, with `age` and with `cp`, side by side;
then random 4 KiB reads from the encrypted file against the same reads from the plaintext.

Usage: .venv/bin/python benchmarks/bench_encryption.py [--size-mib 1024] [--rounds 3]
           [--previous OTHER_CHECKOUT/.venv/bin/videofeedback]
Goals (issue 2): encrypt and decrypt <= 1.0x age and <= 1.5x cp; >= 5,000 random reads/s.
Goals (issue 14): encrypt 256 MiB to stdout <= 1.2x age (CPU and wall); start-up (--help,
encrypt/decrypt of a small file) under 0.2 s. --previous puts another build's console script
side by side (e.g. the checkout before a change).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import VENV_BIN, alternate, machine, report, run_quiet  # noqa: E402
from encryption import AgeReader, X25519Identity  # noqa: E402

VF = VENV_BIN / "videofeedback"


def make_plaintext(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        for _ in range(size >> 20):
            out.write(block)


def random_reads(path: Path, opener, count: int, size: int) -> float:
    rng = random.Random(1)
    with opener(path) as file:
        file.seek(0, os.SEEK_END)
        end = file.tell() - 4096
        start = time.perf_counter()
        for _ in range(count):
            file.seek(rng.randrange(end))
            file.read(size)
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=20_000)
    parser.add_argument(
        "--dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where the files go (default: tmpfs, so disk write-back noise is left out)",
    )
    parser.add_argument("--previous", help="another videofeedback console script to compare")
    args = parser.parse_args()
    age = shutil.which("age")
    if not age:
        sys.exit("the age tool is needed: run ./test.sh once (it installs it)")
    print(f"machine: {machine()}\npayload: {args.size_mib} MiB, median of {args.rounds} rounds")
    print(f"files in: {args.dir or tempfile.gettempdir()}")
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        d = Path(folder)
        identity = X25519Identity.generate()
        (d / "key.txt").write_text(f"{identity}\n")
        r = str(identity.recipient)
        make_plaintext(d / "plain", args.size_mib << 20)
        (d / "small").write_bytes(os.urandom(10_000))
        scripts = {"videofeedback": VF, **({"previous": args.previous} if args.previous else {})}

        start_up = {"age -e (10 kB)": lambda: run_quiet([age, "-r", r, d / "small"])}
        for label, script in scripts.items():
            start_up |= {
                f"{label} --help": lambda s=script: run_quiet([s, "--help"]),
                f"{label} encrypt (10 kB)": lambda s=script: run_quiet(
                    [s, "encrypt", "-r", r, "-o", d / "s.age", d / "small"]
                ),
                f"{label} decrypt (10 kB)": lambda s=script: run_quiet(
                    [s, "decrypt", "-i", d / "key.txt", d / "s.age"]
                ),
            }
        report("start-up", alternate(start_up, max(args.rounds, 5)), ["age -e (10 kB)"])
        if args.previous:
            previous = alternate(
                {
                    "age -e": lambda: run_quiet([age, "-r", r, d / "plain"], d / "a.age"),
                    "videofeedback encrypt (stdout)": lambda: run_quiet(
                        [VF, "encrypt", "-r", r, d / "plain"], d / "v.age"
                    ),
                    "previous encrypt (stdout)": lambda: run_quiet(
                        [args.previous, "encrypt", "-r", r, d / "plain"], d / "p.age"
                    ),
                },
                args.rounds,
            )
            report("encrypt to stdout, side by side with the previous build", previous, ["age -e"])

        enc = alternate(
            {
                "cp": lambda: run_quiet(["cp", d / "plain", d / "copy"]),
                "age -e": lambda: run_quiet([age, "-r", r, "-o", d / "a.age", d / "plain"]),
                "videofeedback encrypt (stdout)": lambda: run_quiet(
                    [VF, "encrypt", "-r", r, d / "plain"], d / "v.age"
                ),
                "videofeedback encrypt -o (fsync)": lambda: run_quiet(
                    [VF, "encrypt", "-r", r, "-o", d / "w.age", d / "plain"]
                ),
            },
            args.rounds,
        )
        report("encrypt", enc, ["age -e", "cp"])

        dec = alternate(
            {
                "cp": lambda: run_quiet(["cp", d / "a.age", d / "copy"]),
                "age -d": lambda: run_quiet(
                    [age, "-d", "-i", d / "key.txt", "-o", d / "a.out", d / "a.age"]
                ),
                "videofeedback decrypt (stdout)": lambda: run_quiet(
                    [VF, "decrypt", "-i", d / "key.txt", d / "v.age"], d / "v.out"
                ),
            },
            args.rounds,
        )
        report("decrypt", dec, ["age -d", "cp"])

        ours = random_reads(d / "v.age", lambda p: AgeReader(p, [identity]), args.reads, 4096)
        plain = random_reads(d / "plain", lambda p: open(p, "rb"), args.reads, 4096)
        print("\nrandom 4 KiB reads")
        print(f"  plaintext file (buffered open)      {plain:10,.0f} reads/s")
        print(
            f"  encrypted file (AgeReader)          {ours:10,.0f} reads/s"
            f"   {ours / plain:.2f}x plaintext"
        )


if __name__ == "__main__":
    main()
