"""Keys: Bech32 encodings, identity files, signatures."""

import pytest

from encryption import (
    IdentityFileError,
    SignatureError,
    SigningKey,
    UserKeys,
    VerifyKey,
    WrongPassphraseError,
    X25519Identity,
    X25519Recipient,
    is_encrypted_identity,
    load_identity_file,
    parse_identities,
    save_identity_file,
)

# From the age specification's examples.
SPEC_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"


def test_identity_and_recipient_round_trip():
    identity = X25519Identity.generate()
    assert str(X25519Identity.parse(str(identity))) == str(identity)
    assert str(identity).startswith("AGE-SECRET-KEY-1")
    recipient = str(identity.recipient)
    assert recipient.startswith("age1") and len(recipient) == 62
    assert X25519Recipient.parse(recipient) == identity.recipient


def test_spec_example_identity_parses():
    identity = X25519Identity.parse(SPEC_IDENTITY)
    assert str(identity) == SPEC_IDENTITY


@pytest.mark.parametrize(
    "text",
    ["age1qqqq", "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwx", "AGE1XYZ", ""],
)
def test_bad_recipients_are_refused_clearly(text):
    with pytest.raises(IdentityFileError):
        X25519Recipient.parse(text)


def test_plain_identity_file_with_comments():
    identity = X25519Identity.generate()
    parsed = parse_identities(f"# created: now\n# public key: x\n\n{identity}\n")
    assert [str(i) for i in parsed] == [str(identity)]
    with pytest.raises(IdentityFileError, match="line 2"):
        parse_identities(f"{identity}\nnot a key\n")
    with pytest.raises(IdentityFileError):
        parse_identities("# only comments\n")


def test_identity_file_round_trip_and_wrong_passphrase(tmp_path):
    keys = UserKeys.generate()
    path = tmp_path / "me.identity"
    save_identity_file(path, keys, "pw-one")
    data = path.read_bytes()
    assert is_encrypted_identity(data)
    assert str(keys.identities[0]).encode() not in data
    loaded = load_identity_file(path, "pw-one")
    assert str(loaded.recipient) == str(keys.recipient)
    assert loaded.require_signing_key().verify_key == keys.require_signing_key().verify_key
    with pytest.raises(WrongPassphraseError):
        load_identity_file(path, "pw-two")
    with pytest.raises(IdentityFileError, match="passphrase"):
        load_identity_file(path, None)


def test_signatures():
    key = SigningKey.generate()
    signature = key.sign(b"checkpoint")
    key.verify_key.verify(b"checkpoint", signature)
    with pytest.raises(SignatureError):
        key.verify_key.verify(b"checkpoinT", signature)
    with pytest.raises(SignatureError):
        SigningKey.generate().verify_key.verify(b"checkpoint", signature)
    assert VerifyKey.parse(str(key.verify_key)) == key.verify_key
    assert str(SigningKey.parse(str(key))) == str(key)
    assert len(key.verify_key.key_id("alice")) == 4
    assert key.verify_key.key_id("alice") != key.verify_key.key_id("bob")


def test_plain_identity_cannot_sign(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text(f"{X25519Identity.generate()}\n")
    keys = load_identity_file(path, None)
    with pytest.raises(IdentityFileError, match="no signing key"):
        keys.require_signing_key()
