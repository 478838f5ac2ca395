"""A real SeaweedFS S3 server on loopback for the team-store tests (never a mock)."""

import secrets
import time

import pytest

from videofeedback.team.devserver import DevServer
from videofeedback.team.errors import StoreError
from videofeedback.team.store import S3Store, StoreCredentials, StoreLocation


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """One server for the run: free ports, its own folder, stopped at the end."""
    server = DevServer(tmp_path_factory.mktemp("seaweedfs")).start()
    yield server
    server.stop()


def store_for(server: DevServer, bucket: str = "team", prefix: str = "") -> S3Store:
    return S3Store(
        StoreLocation(server.endpoint, bucket, prefix),
        StoreCredentials(server.credentials.access_key, server.credentials.secret_key),
    )


def wait_writable(store: S3Store, timeout: float = 60.0) -> None:
    """S3 answers before the volume server takes writes: wait for a first write."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            store.ensure_bucket()
            store.put_if("probe/" + secrets.token_hex(8), b"probe", None)
            return
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.fixture
def store(seaweed):
    """A store under a fresh prefix: each test sees only its own objects."""
    made = store_for(seaweed, prefix="t-" + secrets.token_hex(6))
    wait_writable(made)
    return made
