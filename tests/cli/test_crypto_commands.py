"""keygen / encrypt / decrypt / verify / recover, through the installed console script."""

import json
import os

import pytest

from encryption import DurableEncryptedFile, X25519Recipient
from tests.agetool import age_with_passphrase
from tests.cli.conftest import assert_one_line_error, run_cli

PW = {"VIDEOFEEDBACK_PASSPHRASE": "alice-quiet-harbour-lantern"}


@pytest.fixture(scope="module")
def alice(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alice")
    result = run_cli("keygen", "-o", folder / "alice.identity", env=PW)
    assert result.code == 0, result.err
    recipient = result.text.strip()
    X25519Recipient.parse(recipient)
    return folder / "alice.identity", recipient


def test_keygen_prints_recipient_and_refuses_to_overwrite(alice):
    identity, recipient = alice
    assert recipient.startswith("age1")
    before = identity.read_bytes()
    assert_one_line_error(run_cli("keygen", "-o", identity, env=PW), "already exists")
    assert identity.read_bytes() == before


def test_keygen_json(tmp_path):
    result = run_cli("--json", "keygen", "-o", tmp_path / "k", env=PW)
    info = json.loads(result.text)
    assert info["recipient"].startswith("age1") and info["verify_key"].startswith("vfsign1")


def test_encrypt_decrypt_files(tmp_path, alice):
    identity, recipient = alice
    plaintext = os.urandom(200_000)
    (tmp_path / "in").write_bytes(plaintext)
    assert run_cli("encrypt", "-r", recipient, "-o", tmp_path / "c.age", tmp_path / "in").code == 0
    assert plaintext not in (tmp_path / "c.age").read_bytes()
    result = run_cli("decrypt", "-i", identity, "-o", tmp_path / "out", tmp_path / "c.age", env=PW)
    assert result.code == 0, result.err
    assert (tmp_path / "out").read_bytes() == plaintext


def test_encrypt_decrypt_through_pipes(alice):
    identity, recipient = alice
    plaintext = os.urandom(70_000)
    encrypted = run_cli("encrypt", "-r", recipient, stdin=plaintext)
    assert encrypted.code == 0 and encrypted.out.startswith(b"age-encryption.org/v1\n")
    decrypted = run_cli("decrypt", "-i", identity, stdin=encrypted.out, env=PW)
    assert decrypted.code == 0, decrypted.err
    assert decrypted.out == plaintext


def test_passphrase_encryption_interoperates_with_age(tmp_path):
    result = run_cli("encrypt", "-p", "-o", tmp_path / "p.age", stdin=b"hello", env=PW)
    assert result.code == 0, result.err
    age_with_passphrase(
        "-d", "-o", tmp_path / "out", tmp_path / "p.age", passphrase="alice-quiet-harbour-lantern", prompts=1
    )
    assert (tmp_path / "out").read_bytes() == b"hello"
    assert run_cli("decrypt", tmp_path / "p.age", env=PW).out == b"hello"


def test_verify_sealed_and_unfinished(tmp_path, alice):
    identity, recipient = alice
    (tmp_path / "in").write_bytes(os.urandom(1000))
    run_cli("encrypt", "-r", recipient, "-o", tmp_path / "c.age", tmp_path / "in")
    result = run_cli("verify", tmp_path / "c.age", "-i", identity, env=PW)
    assert result.code == 0 and "valid, sealed, 1000 bytes" in result.text

    recording = DurableEncryptedFile(tmp_path / "rec.age", [X25519Recipient.parse(recipient)])
    recording.write(os.urandom(3 * 65536 + 5))
    recording.abort()
    result = run_cli("--json", "verify", recording.partial, "-i", identity, env=PW)
    assert result.code == 3
    info = json.loads(result.text)
    assert info == {
        "file": str(recording.partial),
        "valid": False,
        "sealed": False,
        "recoverable_bytes": 3 * 65536,
    }

    result = run_cli("recover", recording.partial, "-i", identity, env=PW)
    assert result.code == 0, result.err
    assert "kept 196608 bytes" in result.text
    result = run_cli("verify", tmp_path / "rec.age", "-i", identity, env=PW)
    assert result.code == 0 and "196608 bytes" in result.text


def test_failures_are_one_line(tmp_path, alice):
    identity, recipient = alice
    (tmp_path / "in").write_bytes(b"data" * 100)
    run_cli("encrypt", "-r", recipient, "-o", tmp_path / "c.age", tmp_path / "in")
    c = tmp_path / "c.age"
    wrong = {"VIDEOFEEDBACK_PASSPHRASE": "not-it"}
    assert_one_line_error(run_cli("decrypt", "-i", identity, c, env=wrong), "wrong passphrase")
    assert_one_line_error(run_cli("decrypt", "-i", tmp_path / "nope", c, env=PW), "no such file")
    assert_one_line_error(run_cli("encrypt", "-r", "age1bogus", stdin=b"x"), "not a")
    assert_one_line_error(run_cli("encrypt", stdin=b"x"), "-r")
    assert_one_line_error(run_cli("frobnicate"), "invalid choice")
    damaged = bytearray(c.read_bytes())
    damaged[-3] ^= 1
    (tmp_path / "d.age").write_bytes(bytes(damaged))
    result = run_cli(
        "decrypt", "-i", identity, "-o", tmp_path / "d.out", tmp_path / "d.age", env=PW
    )
    assert_one_line_error(result, "damaged")
    assert not (tmp_path / "d.out").exists(), "no partial plaintext file may be left"
    assert_one_line_error(run_cli("decrypt", "-i", identity, tmp_path / "in", env=PW), "not an age")
    other = tmp_path / "other.identity"
    run_cli("keygen", "-o", other, env=PW)
    assert_one_line_error(run_cli("decrypt", "-i", other, c, env=PW), "someone else")


def test_no_passphrase_and_no_terminal_says_how(tmp_path, alice):
    identity, _ = alice
    assert_one_line_error(run_cli("keygen", "-o", tmp_path / "k"), "VIDEOFEEDBACK_PASSPHRASE")


def test_python_dash_m_works():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "videofeedback", "--help"], capture_output=True)
    assert done.returncode == 0 and b"keygen" in done.stdout
