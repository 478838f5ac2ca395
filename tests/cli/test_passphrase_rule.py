"""The passphrase rule on every command-line path that sets one, and the recovery secret."""

import json
import re

from encryption import load_identity_file
from tests.cli.conftest import assert_one_line_error, run_cli

STRONG = "alice-quiet-harbour-lantern"


def _init(tmp_path, passphrase: str, *extra: str):
    return run_cli(
        "--json", "--user", "alice", "--library", tmp_path / "lib", "init",
        "--recovery-out", tmp_path / "recovery.age", *extra,
        env={"VIDEOFEEDBACK_PASSPHRASE": passphrase},
    )  # fmt: skip


def test_init_refuses_a_weak_passphrase_and_writes_nothing(tmp_path):
    for weak in ("a", "1111", "alice"):
        result = _init(tmp_path, weak)
        assert_one_line_error(result, "10^10 guesses")
    assert not (tmp_path / "recovery.age").exists() and not (tmp_path / "lib").exists()


def test_init_prints_the_recovery_secret_once_and_it_opens_the_recovery_key(tmp_path):
    result = _init(tmp_path, STRONG)
    assert result.code == 0, result.err
    info = json.loads(result.out)
    secret = info["recovery_secret"]
    assert re.fullmatch(r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}", secret)
    assert load_identity_file(tmp_path / "recovery.age", secret).recipient
    for path in (tmp_path / "lib").rglob("*"):
        assert not path.is_file() or secret.encode() not in path.read_bytes()


def test_user_add_and_keygen_refuse_weak_passphrases(tmp_path):
    assert _init(tmp_path, STRONG).code == 0
    added = run_cli(
        "--user", "alice", "--library", tmp_path / "lib", "user", "add", "bob",
        "--role", "practitioner",
        env={"VIDEOFEEDBACK_PASSPHRASE": STRONG, "VIDEOFEEDBACK_NEW_PASSPHRASE": "1111"},
    )  # fmt: skip
    assert_one_line_error(added, "too easy to guess")
    keygen = run_cli("keygen", "-o", tmp_path / "k", env={"VIDEOFEEDBACK_PASSPHRASE": "a"})
    assert_one_line_error(keygen, "too easy to guess")
    assert not (tmp_path / "k").exists()
