"""How strong a new passphrase must be, and the offline recovery secret (docs/FORMAT.md 10.2).

Identity files are readable by every library user, so a passphrase can be guessed offline at
about one guess a second (scrypt 2^18). The rule: zxcvbn must estimate at least 10^10 guesses
(its score 4), counting the user's own name and the product's name as known words.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

from encryption import UserKeys, load_identity_file

from .errors import LibraryError

MIN_SCORE = 4  # zxcvbn: at least 10^10 guesses
_KNOWN_WORDS = ("videofeedback", "video", "feedback", "passphrase", "password")
EXAMPLE = "four or more uncommon words, e.g. 'tidal maple quarry lantern'"
RECOVERY_GROUPS = 8  # of 4 base32 characters: 160 bits


class WeakPassphraseError(LibraryError):
    """A new passphrase would be too easy to guess."""


def passphrase_problem(passphrase: str, known: Iterable[str] = ()) -> str | None:
    """Why ``passphrase`` is too weak (one line), or None when it is strong enough."""
    if not passphrase:
        return "the passphrase is empty"
    from zxcvbn import zxcvbn  # its word lists load in ~20 ms: only when a passphrase is set

    words = [w for w in (*_KNOWN_WORDS, *known) if w]
    result = zxcvbn(passphrase[:100], user_inputs=words)  # zxcvbn is quadratic in length
    if int(result["score"]) >= MIN_SCORE:
        return None
    warning = str(result["feedback"].get("warning") or "").rstrip(".")
    why = f" ({warning.lower()})" if warning else ""
    return f"the passphrase is too easy to guess{why}"


def check_new_passphrase(passphrase: str, known: Iterable[str] = ()) -> str:
    """Return ``passphrase`` if it is strong enough, else raise WeakPassphraseError."""
    problem = passphrase_problem(passphrase, known)
    if problem:
        raise WeakPassphraseError(
            f"{problem}; choose one that would take at least 10^10 guesses: {EXAMPLE}"
        )
    return passphrase


def new_recovery_secret() -> str:
    """160 random bits as 8 groups of 4 letters and digits, to be printed once, kept offline."""
    text = base64.b32encode(secrets.token_bytes(20)).decode()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def normalise_recovery_secret(text: str) -> str:
    """The secret as printed, whatever spaces, dashes or case it was typed with."""
    plain = re.sub(r"[\s-]", "", text).upper()
    if not re.fullmatch(r"[A-Z2-7]{32}", plain):
        raise LibraryError(
            "that is not a recovery secret (8 groups of 4 letters and digits, as printed at "
            "'videofeedback init'); type it again"
        )
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


def load_recovery_key(path: Path, secret: str) -> UserKeys:
    """The organisation's recovery identity, opened with its secret however it was typed."""
    return load_identity_file(path, normalise_recovery_secret(secret))
