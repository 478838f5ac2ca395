"""Interoperability both ways with the real `age` tool."""

import subprocess

import pytest

from encryption import (
    AgeReader,
    ScryptIdentity,
    ScryptRecipient,
    UserKeys,
    X25519Identity,
    load_identity_file,
    parse_identities,
    read_encrypted,
    save_identity_file,
    write_encrypted,
)
from tests.agetool import AGE_KEYGEN, age, age_with_passphrase
from tests.encryption.helpers import random_bytes

SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 1024 * 1024 + 3]


@pytest.fixture(scope="module")
def age_keys(tmp_path_factory):
    """An identity made by age-keygen, and its recipient."""
    folder = tmp_path_factory.mktemp("agekeys")
    key_file = folder / "key.txt"
    subprocess.run([AGE_KEYGEN, "-o", str(key_file)], check=True, capture_output=True)
    text = key_file.read_text()
    recipient = next(line.split(": ")[1] for line in text.splitlines() if "public key" in line)
    return key_file, recipient


@pytest.mark.parametrize("size", SIZES)
def test_our_files_decrypt_with_age(tmp_path, age_keys, size):
    key_file, _ = age_keys
    identity = parse_identities(key_file.read_text())[0]
    plaintext = random_bytes(size)
    write_encrypted(tmp_path / "f.age", plaintext, [identity.recipient])
    assert age("-d", "-i", key_file, tmp_path / "f.age") == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_age_files_decrypt_with_ours(tmp_path, age_keys, size):
    key_file, recipient = age_keys
    plaintext = random_bytes(size)
    (tmp_path / "plain").write_bytes(plaintext)
    age("-r", recipient, "-o", tmp_path / "f.age", tmp_path / "plain")
    identities = parse_identities(key_file.read_text())
    assert read_encrypted(tmp_path / "f.age", identities) == plaintext
    with AgeReader(tmp_path / "f.age", identities) as reader:
        assert reader.size() == size


def test_multiple_recipients_each_open_it(tmp_path, age_keys):
    key_file, recipient = age_keys
    ours = X25519Identity.generate()
    age("-r", recipient, "-r", str(ours.recipient), "-o", tmp_path / "f.age", stdin=b"shared")
    assert read_encrypted(tmp_path / "f.age", [ours]) == b"shared"
    write_encrypted(
        tmp_path / "g.age",
        b"both",
        [ours.recipient, parse_identities(key_file.read_text())[0].recipient],
    )
    assert age("-d", "-i", key_file, tmp_path / "g.age") == b"both"


def test_age_passphrase_file_decrypts_with_ours(tmp_path):
    plaintext = random_bytes(65537)
    (tmp_path / "plain").write_bytes(plaintext)
    age_with_passphrase(
        "-p", "-o", tmp_path / "f.age", tmp_path / "plain", passphrase="correct horse", prompts=2
    )
    assert read_encrypted(tmp_path / "f.age", [ScryptIdentity("correct horse")]) == plaintext


def test_our_passphrase_file_decrypts_with_age(tmp_path):
    plaintext = random_bytes(1000)
    write_encrypted(tmp_path / "f.age", plaintext, [ScryptRecipient("battery staple")])
    age_with_passphrase(
        "-d", "-o", tmp_path / "out", tmp_path / "f.age", passphrase="battery staple", prompts=1
    )
    assert (tmp_path / "out").read_bytes() == plaintext


def test_our_identity_file_works_directly_with_age(tmp_path):
    """The identity file is a passphrase-protected age identity file: age can use it as-is."""
    keys = UserKeys.generate()
    save_identity_file(tmp_path / "me.identity", keys, "pw-me")
    write_encrypted(tmp_path / "f.age", b"for me", [keys.recipient])
    age_with_passphrase(
        "-d",
        "-i",
        tmp_path / "me.identity",
        "-o",
        tmp_path / "out",
        tmp_path / "f.age",
        passphrase="pw-me",
        prompts=1,
    )
    assert (tmp_path / "out").read_bytes() == b"for me"


def test_age_keygen_identity_file_is_accepted(tmp_path, age_keys):
    key_file, recipient = age_keys
    keys = load_identity_file(key_file, passphrase=None)
    assert str(keys.recipient) == recipient
    assert keys.signing_key is None
