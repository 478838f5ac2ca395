"""Change batches signed one by one by their author (docs/FORMAT.md §12.2, §12.3; pure).

A batch of format version 2 carries its case's device, its number in that device's chain,
what its writer had seen (``seen``, as an audit entry's) and an Ed25519 ``signature`` by
``author`` over ``"videofeedback batch v2\\nCASE_ID\\n" || canonical JSON of the rest || "\\n"``.
Its author is the signer, checked against the roster's verify keys: not the user who
happened to sign the head that brought it. Unsigned batches (version 1, from before) keep
the older rule (the head's signer), but only before a device's first signed batch.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from encryption import SignatureError, SigningKey, VerifyKey
from videofeedback.library.merged_trail import parse_seen

from .merge import canonical

SIGNED_VERSION = 2


def signed_bytes(case_id: str, body: Mapping[str, Any]) -> bytes:
    rest = {k: v for k, v in body.items() if k != "signature"}
    return f"videofeedback batch v2\n{case_id}\n{canonical(rest)}\n".encode()


def sign_batch(body: Mapping[str, Any], case_id: str, key: SigningKey) -> dict[str, Any]:
    signature = base64.b64encode(key.sign(signed_bytes(case_id, body))).decode()
    return {**body, "signature": signature}


@dataclass(frozen=True)
class Authorship:
    """Who wrote a batch: ``author`` None when it counts nowhere (``problem`` says why);
    ``seen`` (device -> (entries, batches)) only for a signed batch."""

    author: str | None
    seen: dict[str, tuple[int, int]] | None = None
    problem: str = ""


def check_signed(
    body: Mapping[str, Any], case_id: str, device: str, number: int, keys: Mapping[str, VerifyKey]
) -> Authorship:
    """A signed batch's author, if its signature is the named author's and it sits where it
    says (this case, this device, this number)."""
    where = f"change batch {number} of device {device[:8]}"
    author = str(body.get("author", ""))
    key = keys.get(author)
    try:
        if key is None:
            raise SignatureError("unknown author")
        key.verify(signed_bytes(case_id, body), base64.b64decode(str(body["signature"])))
    except (SignatureError, ValueError):
        return Authorship(None, problem=f"{where} is not signed by {author or '?'}: not merged")
    if body.get("device") != device or body.get("number") != number:
        return Authorship(None, problem=f"{where} was signed for another place: not merged")
    return Authorship(author, parse_seen(str(body.get("seen", ""))))
