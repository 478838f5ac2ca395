"""The test suite's cheap identity files (scrypt 2^10, tests/fast_scrypt.py) never reach a real
library. Attacker: the holder of a copy of a library folder, who would guess the passphrase
of a weak identity file 256 times faster. The application writes 2^18 and refuses, before
deriving any key, an identity file below it; only the test process lowers that floor."""

import subprocess
import sys

import pytest

from encryption import (
    IdentityFileError,
    ScryptRecipient,
    UserKeys,
    load_identity_file,
    save_identity_file,
)
from encryption.header import read_header
from tests import fast_scrypt


def scrypt_work_factor(path) -> int:
    with open(path, "rb") as file:
        (stanza,) = read_header(file).stanzas
    return int(stanza.args[2])


def test_the_suite_writes_cheap_identities(tmp_path):
    save_identity_file(tmp_path / "k", UserKeys.generate(), "pw")
    assert scrypt_work_factor(tmp_path / "k") == fast_scrypt.TEST_WORK_FACTOR


def test_the_application_writes_2_18_and_refuses_anything_weaker(tmp_path, production_scrypt):
    save_identity_file(tmp_path / "real", UserKeys.generate(), "pw")
    assert scrypt_work_factor(tmp_path / "real") == 18
    assert load_identity_file(tmp_path / "real", "pw").identities
    with pytest.raises(ValueError, match="at least 18"):
        ScryptRecipient("pw", fast_scrypt.TEST_WORK_FACTOR)


def test_a_test_made_identity_is_refused_by_the_application(tmp_path, production_scrypt):
    """A 2^10 identity file, planted in (or copied into) a library, never unlocks there."""
    fast_scrypt.install()
    save_identity_file(tmp_path / "weak", UserKeys.generate(), "pw")
    from encryption import keys

    keys.MIN_WRITE_WORK_FACTOR = 18  # the application's floor (production_scrypt restores it)
    with pytest.raises(IdentityFileError, match=r"2\^10, below the 2\^18"):
        load_identity_file(tmp_path / "weak", "pw")


def test_a_process_without_the_test_hook_refuses_it(tmp_path):
    """The console script, started without tests/fast_scrypt_site, is the application."""
    save_identity_file(tmp_path / "weak", UserKeys.generate(), "pw")
    (tmp_path / "plain").write_bytes(b"x")
    done = subprocess.run(
        [sys.executable, "-m", "videofeedback", "decrypt", "-i", "weak", "plain"],
        cwd=tmp_path,
        env={"VIDEOFEEDBACK_PASSPHRASE": "pw", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "2^10, below the 2^18" in done.stderr and "Traceback" not in done.stderr
