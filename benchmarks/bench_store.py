"""The team store against a local SeaweedFS, side by side with boto3 on its own.

Upload and download of one large ciphertext file (ours: resumable parts, MD5 per part,
bookkeeping; baseline: boto3's managed transfer), and random chunk reads of an age file
decrypted from the store against the same reads from the local file.

Usage: .venv/bin/python benchmarks/bench_store.py [--size-mib 1024] [--rounds 3]
Goals (issue 17): upload and download >= 0.8x boto3's throughput; a random read from the
store p50 <= 1.5x the same read from the local file (after its blocks are cached: the
first read of a block is a round trip); memory flat.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import alternate, machine, report  # noqa: E402
from encryption import AgeReader, AgeWriter, X25519Identity  # noqa: E402
from videofeedback.team.devserver import DevServer  # noqa: E402
from videofeedback.team.ranged import StoreObjectFile  # noqa: E402
from videofeedback.team.store import MIB, S3Store, StoreCredentials, StoreLocation  # noqa: E402


def encrypted_file(path: Path, size: int, identity: X25519Identity) -> None:
    block = os.urandom(MIB)
    with open(path, "wb") as out:
        writer = AgeWriter(out, [identity.recipient])
        for _ in range(size // MIB):
            writer.write(block)
        writer.close()


def seek_times(opener, reads: int) -> list[float]:
    rng = random.Random(3)
    times = []
    with opener() as reader:
        end = reader.seek(0, os.SEEK_END) - 70_000
        for _ in range(reads):
            at = rng.randrange(end)
            start = time.perf_counter()
            reader.seek(at)
            reader.read(64 * 1024)
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {machine()}\npayload: {args.size_mib} MiB, median of {args.rounds} rounds")
    with tempfile.TemporaryDirectory() as folder, DevServer(Path(folder) / "store") as server:
        store = S3Store(
            StoreLocation(server.endpoint, "bench"),
            StoreCredentials(server.credentials.access_key, server.credentials.secret_key),
        )
        for _ in range(100):
            try:
                store.ensure_bucket()
                store.put_if("probe", b"x", store.head("probe") and store.head("probe").etag)
                break
            except Exception:  # noqa: BLE001 - the volume server is still starting
                time.sleep(0.3)
        identity = X25519Identity.generate()
        source = Path(folder) / "recording.age"
        encrypted_file(source, args.size_mib * MIB, identity)
        size = source.stat().st_size
        counter = iter(range(10**6))
        from boto3.s3.transfer import TransferConfig

        def ours() -> None:
            name = f"ours-{next(counter)}"
            store.upload_file(name, source, Path(folder) / "state.json")

        def theirs() -> None:
            store.s3.upload_file(
                str(source), "bench", f"boto3-{next(counter)}", Config=TransferConfig()
            )

        up = alternate({"ours (resumable parts)": ours, "boto3 upload_file": theirs}, args.rounds)
        report(f"upload {args.size_mib} MiB", up, ["boto3 upload_file"])
        for name, timing in up.items():
            print(f"  {name}: {size / timing.wall / MIB:.0f} MiB/s")

        def ours_down() -> None:
            remote = StoreObjectFile(store, "ours-0", size=size, block_size=16 * MIB)
            while remote.read(16 * MIB):
                pass

        def theirs_down() -> None:
            store.s3.download_file("bench", "ours-0", str(Path(folder) / "down"))

        down = alternate({"ours (ranged blocks)": ours_down, "boto3 download_file": theirs_down},
                         args.rounds)
        report(f"download {args.size_mib} MiB", down, ["boto3 download_file"])

        local = seek_times(lambda: AgeReader(source, [identity]), args.reads)
        remote_file = StoreObjectFile(store, "ours-0", size=size)
        cold = seek_times(lambda: AgeReader(remote_file, [identity]), args.reads)
        warm = seek_times(lambda: AgeReader(remote_file, [identity]), args.reads)
        p50 = statistics.median
        print(f"\nrandom 64 KiB reads, p50: local {p50(local) * 1e3:.2f} ms, "
              f"store cold {p50(cold) * 1e3:.2f} ms ({p50(cold) / p50(local):.1f}x), "
              f"store warm {p50(warm) * 1e3:.2f} ms ({p50(warm) / p50(local):.1f}x)")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
