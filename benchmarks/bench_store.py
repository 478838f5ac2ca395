"""The team store against a local SeaweedFS, side by side with boto3 on its own.

Upload and download of one large ciphertext file (ours: resumable parts, MD5 per part,
bookkeeping; baseline: boto3's managed transfer), with this process's peak RSS while ours
uploads; random chunk reads of an age file decrypted from the store against the same
reads from the local file; and the exact-frame seek (ffmpeg through the loopback media
server, as stills and review do) of an encrypted recording played from the store
(``StoreMedia``: cold, a new reader and no cache each time; warm, one player's reader)
against the same seek on the local file.

Usage: .venv/bin/python benchmarks/bench_store.py [--size-mib 1024] [--rounds 3] [--seeks-only]
Goals (issue 17): upload and download >= 0.8x boto3's throughput; an exact-frame seek
from the store p50 <= 1.5x the same seek on the local file; memory flat (<= 300 MB).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import PeakRss, alternate, machine, report, rss_mb  # noqa: E402
from encryption import AgeReader, AgeWriter, X25519Identity  # noqa: E402
from videofeedback.team import media_index, remote_media  # noqa: E402
from videofeedback.team.devserver import DevServer  # noqa: E402
from videofeedback.team.download import Wanted, download  # noqa: E402
from videofeedback.team.ranged import StoreObjectFile  # noqa: E402
from videofeedback.team.remote_media import Checked, StoreMedia  # noqa: E402
from videofeedback.team.remotes import Remote  # noqa: E402
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


def movie(path: Path, seconds: int) -> None:
    """A fragmented MP4 like an imported recording: 1280x720, 30 fps, 1 s GOPs, ~6 Mbit/s."""
    from clips.ffmpeg import base_args, capture
    from clips.normalise import FRAGMENTED_MP4

    argv = [
        *base_args(), "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30,noise=alls=30:allf=t",
        "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-bf", "0",
        "-b:v", "6M", "-pix_fmt", "yuv420p", *FRAGMENTED_MP4, str(path),
    ]  # fmt: skip
    done = capture(argv, timeout=900)
    if done.returncode:
        raise SystemExit(done.stderr.decode()[-400:])


def frame_seeks(store: S3Store, folder: Path, seconds: int, seeks: int) -> None:
    """Exact-frame seek p50: local file vs the store, cold and warm."""
    from clips.frames import frame_at
    from clips.serve import serving

    identity = X25519Identity.generate()
    plain = folder / "movie.mp4"
    movie(plain, seconds)
    sealed = folder / "movie.age"
    with open(sealed, "wb") as out:
        writer = AgeWriter(out, [identity.recipient])
        writer.write(plain.read_bytes())
        writer.close()
    plain.unlink()
    store.upload_file("movie", sealed, folder / "movie-state.json")
    # its block list, as sync makes it (FORMAT 12.4): every block read is checked
    info = media_index.stamp(sealed, [identity.recipient], folder / "movie-index.age")
    media_index.push(store, "movie-index", folder / "movie-index.age", [identity])
    checked = Checked("movie-index", info, "the benchmark's recording")
    remote = Remote("bench", store.location, store._credentials)
    size = sealed.stat().st_size
    rng = random.Random(5)
    frames = [rng.randrange(seconds * 30 - 1) for _ in range(seeks)]
    fps, dims = Fraction(30), (1280, 720)
    warm_media = StoreMedia(remote, "movie", [identity], checked=checked)
    names = ["local", "store cold", "store cold, new client", "store warm"]
    times: dict[str, list[float]] = {name: [] for name in names}
    fetched = requests = 0
    load = os.getloadavg()[0]
    for frame in frames:
        cold_media = StoreMedia(remote, "movie", [identity], checked=checked)
        fresh_media = StoreMedia(remote, "movie", [identity], checked=checked)

        def fresh(media: StoreMedia = fresh_media) -> AgeReader:
            if media._store is None:  # the first recording this app plays from the store
                remote_media._clients.clear()
            return media.open()

        openers = {
            "local": lambda: AgeReader(sealed, [identity]),
            "store cold": cold_media.open,
            "store cold, new client": fresh,
            "store warm": warm_media.open,
        }
        for name, opener in openers.items():
            with serving(opener) as (url,):
                start = time.perf_counter()
                frame_at(url, Fraction(frame, 30), fps, dims)
                times[name].append(time.perf_counter() - start)
        count = cold_media.count()
        requests, fetched = requests + count[0], fetched + count[1]
    p50 = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"\nexact-frame seek in a {seconds} s 720p recording ({size / MIB:.0f} MiB), "
        f"p50 of {seeks} random frames (every block checked against its block list), "
        f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}:"
    )
    for name, value in p50.items():
        print(f"  {name}: {value * 1e3:.0f} ms ({value / p50['local']:.2f}x local)")
    print(
        f"  a cold seek made {requests / seeks:.1f} GETs, fetched {fetched / seeks / MIB:.1f} "
        f"MiB on average ({fetched / seeks / size:.0%} of the object)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--movie-seconds", type=int, default=120)
    parser.add_argument("--seeks", type=int, default=15)
    parser.add_argument(
        "--seeks-only", action="store_true", help="only the exact-frame seek (no 1 GiB file)"
    )
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
        if args.seeks_only:
            frame_seeks(store, Path(folder), args.movie_seconds, args.seeks)
            return
        identity = X25519Identity.generate()
        source = Path(folder) / "recording.age"
        encrypted_file(source, args.size_mib * MIB, identity)
        size = source.stat().st_size
        counter = iter(range(10**6))
        from boto3.s3.transfer import TransferConfig

        peaks: list[float] = []

        def ours() -> None:
            name = f"ours-{next(counter)}"
            with PeakRss() as rss:
                store.upload_file(name, source, Path(folder) / "state.json")
            peaks.append(rss.peak - rss.before)

        def theirs() -> None:
            store.s3.upload_file(
                str(source), "bench", f"boto3-{next(counter)}", Config=TransferConfig()
            )

        up = alternate({"ours (resumable parts)": ours, "boto3 upload_file": theirs}, args.rounds)
        report(f"upload {args.size_mib} MiB", up, ["boto3 upload_file"])
        for name, timing in up.items():
            print(f"  {name}: {size / timing.wall / MIB:.0f} MiB/s")
        print(f"  peak RSS while ours uploads: +{max(peaks):.0f} MB over {rss_mb():.0f} MB")

        def ours_down() -> None:
            remote = StoreObjectFile(store, "ours-0", size=size, block_size=16 * MIB)
            while remote.read(16 * MIB):
                pass

        def theirs_down() -> None:
            store.s3.download_file("bench", "ours-0", str(Path(folder) / "down"))

        with open(source, "rb") as file:
            whole = Wanted("ours-0", size, hashlib.file_digest(file, "sha256").hexdigest())

        def sync_down() -> None:  # what sync does: to a file, SHA-256 checked, fsynced
            target = Path(folder) / "synced" / "down"
            download(store, whole, target, Path(folder) / "down-state.json")
            target.unlink()

        down = alternate(
            {
                "ours (ranged blocks)": ours_down,
                "ours (sync download to a file)": sync_down,
                "boto3 download_file": theirs_down,
            },
            args.rounds,
        )
        report(f"download {args.size_mib} MiB", down, ["boto3 download_file"])
        for name, timing in down.items():
            print(f"  {name}: {size / timing.wall / MIB:.0f} MiB/s")
        (Path(folder) / "down").unlink(missing_ok=True)

        local = seek_times(lambda: AgeReader(source, [identity]), args.reads)
        remote_file = StoreObjectFile(store, "ours-0", size=size)
        cold = seek_times(lambda: AgeReader(remote_file, [identity]), args.reads)
        warm = seek_times(lambda: AgeReader(remote_file, [identity]), args.reads)
        p50 = statistics.median
        print(
            f"\nrandom 64 KiB reads, p50: local {p50(local) * 1e3:.2f} ms, "
            f"store cold {p50(cold) * 1e3:.2f} ms ({p50(cold) / p50(local):.1f}x), "
            f"store warm {p50(warm) * 1e3:.2f} ms ({p50(warm) / p50(local):.1f}x)"
        )
        source.unlink()
        frame_seeks(store, Path(folder), args.movie_seconds, args.seeks)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of this process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
