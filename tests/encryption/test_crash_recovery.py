"""Writers killed with SIGKILL at random points: recovery keeps exactly the complete chunks."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from encryption import (
    CHUNK_SIZE,
    AgeReader,
    DurableEncryptedFile,
    PayloadError,
    RecoveryError,
    UnfinishedError,
    X25519Identity,
    partial_path,
    read_encrypted,
    recover,
)
from tests.agetool import age
from tests.encryption.durable_writer_child import prefix
from tests.paths import REPO

ENC = CHUNK_SIZE + 16
CHILD = Path(__file__).with_name("durable_writer_child.py")
KILLS = 24


def header_length(data: bytes) -> int:
    mac = data.index(b"\n---") + 1
    return data.index(b"\n", mac) + 1 + 16


@pytest.fixture(scope="module")
def identity_file(tmp_path_factory):
    identity = X25519Identity.generate()
    path = tmp_path_factory.mktemp("key") / "key.txt"
    path.write_text(f"{identity}\n")
    return identity, path


def run_and_kill(path: Path, recipient: str, seed: int, delay: float) -> int:
    """Start the writer, kill -9 it after ``delay`` s; return the last durable count it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path), recipient, str(seed)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    durable = 0
    for line in child.stdout:
        durable = int(line)
    child.wait()
    return durable


def test_killed_writers_recover_exactly_their_complete_chunks(tmp_path, identity_file):
    identity, key_file = identity_file
    rng = random.Random(20261123)
    outcomes = []
    for attempt in range(KILLS):
        seed = rng.randrange(1 << 30)
        path = tmp_path / f"rec{attempt}.mp4.age"
        reported = run_and_kill(path, str(identity.recipient), seed, rng.uniform(0.0, 0.6))
        partial = partial_path(path)
        raw = partial.read_bytes()
        complete = (len(raw) - header_length(raw)) // ENC

        with pytest.raises(
            UnfinishedError
            if complete and (len(raw) - header_length(raw)) % ENC == 0
            else PayloadError
        ):
            read_encrypted(partial, [identity])

        result = recover(partial, [identity])
        expected = prefix(seed, complete * CHUNK_SIZE)
        assert result.kept_bytes == complete * CHUNK_SIZE
        assert result.kept_bytes >= reported, "a chunk reported durable was lost"
        assert read_encrypted(path, [identity]) == expected
        assert age("-d", "-i", key_file, path) == expected
        assert not partial.exists()
        outcomes.append(complete)
    assert len(set(outcomes)) > 5, f"kills did not land at varied points: {outcomes}"


def test_sealed_then_truncated_file_stays_an_error(tmp_path, identity):
    path = tmp_path / "sealed.age"
    with DurableEncryptedFile(path, [identity.recipient]) as file:
        file.write(os.urandom(3 * CHUNK_SIZE + 10))
    data = path.read_bytes()
    path.write_bytes(data[: header_length(data) + 2 * ENC])  # cut at a chunk boundary
    with pytest.raises(UnfinishedError):
        read_encrypted(path, [identity])
    with pytest.raises(PayloadError, match="sealed and is now damaged"):
        recover(path, [identity])
    assert path.read_bytes() == data[: header_length(data) + 2 * ENC]  # untouched


def test_recover_of_a_sound_sealed_file_changes_nothing(tmp_path, identity):
    path = tmp_path / "ok.age"
    with DurableEncryptedFile(path, [identity.recipient]) as file:
        file.write(b"complete")
    before = path.read_bytes()
    result = recover(path, [identity])
    assert result.already_sealed and result.kept_bytes == 8
    assert path.read_bytes() == before


def test_unfinished_file_without_complete_chunk_recovers_empty(tmp_path, identity):
    file = DurableEncryptedFile(tmp_path / "short.age", [identity.recipient])
    file.write(b"less than one chunk")
    file.abort()
    result = recover(file.partial, [identity])
    assert result.kept_bytes == 0
    with AgeReader(tmp_path / "short.age", [identity]) as reader:
        assert reader.size() == 0


def test_recovery_with_wrong_identity_changes_nothing(tmp_path, identity):
    file = DurableEncryptedFile(tmp_path / "r.age", [identity.recipient])
    file.write(os.urandom(2 * CHUNK_SIZE + 1))
    file.abort()
    before = file.partial.read_bytes()
    with pytest.raises(RecoveryError):
        recover(file.partial, [X25519Identity.generate()])
    assert file.partial.read_bytes() == before
    assert not (tmp_path / "r.age").exists()


def test_durable_file_refuses_to_overwrite(tmp_path, identity):
    (tmp_path / "x.age").write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        DurableEncryptedFile(tmp_path / "x.age", [identity.recipient])
    assert (tmp_path / "x.age").read_bytes() == b"keep me"


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 1])
def test_durable_file_sealed_on_a_chunk_boundary_is_valid(tmp_path, identity_file, size):
    """Durable mode writes a full chunk at once as non-final; close() reseals the last one."""
    identity, key_file = identity_file
    data = os.urandom(size)
    path = tmp_path / "d.age"
    with DurableEncryptedFile(path, [identity.recipient]) as file:
        file.write(data[: size // 2])
        file.write(data[size // 2 :])
        assert file.durable_bytes == (size // CHUNK_SIZE) * CHUNK_SIZE
    assert read_encrypted(path, [identity]) == data
    assert age("-d", "-i", key_file, path) == data
