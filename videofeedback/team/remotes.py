"""Remotes: where a user's team store is, and its keys, kept encrypted to that user.

``LIBRARY/remotes/USER.age`` holds the user's remotes as JSON, encrypted to the user's
own recipient: store keys are never in a plaintext config, and no other library user
(nor anyone holding a copy of the folder) reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from encryption import read_encrypted, write_encrypted
from videofeedback.library import UserSession

from .errors import StoreError
from .store import S3Store, StoreCredentials, StoreLocation


@dataclass(frozen=True)
class Remote:
    name: str
    location: StoreLocation
    credentials: StoreCredentials
    team_code: str = ""  # kept by ``team join``: a later sync reads the team's roster with it

    def store(self) -> S3Store:
        return S3Store(self.location, self.credentials)

    def public(self) -> dict[str, str]:
        """What may be shown: everything but the secret key."""
        return {
            "name": self.name,
            "endpoint": self.location.endpoint,
            "bucket": self.location.bucket,
            "prefix": self.location.prefix,
            "access_key": self.credentials.access_key,
        }


def _path(session: UserSession) -> Path:
    return session.library.folder / "remotes" / f"{session.name}.age"


def load_remotes(session: UserSession) -> dict[str, Remote]:
    path = _path(session)
    if not path.exists():
        return {}
    data = json.loads(read_encrypted(path, session.identities))
    return {
        name: Remote(
            name,
            StoreLocation(item["endpoint"], item["bucket"], item.get("prefix", "")),
            StoreCredentials(item["access_key"], item["secret_key"]),
            item.get("team_code", ""),
        )
        for name, item in data.items()
    }


def save_remote(session: UserSession, remote: Remote) -> None:
    remotes = load_remotes(session)
    remotes[remote.name] = remote
    _write(session, remotes)


def remove_remote(session: UserSession, name: str) -> None:
    remotes = load_remotes(session)
    if remotes.pop(name, None) is None:
        raise StoreError(f"there is no remote {name!r}; 'videofeedback remote list' shows them")
    _write(session, remotes)


def find_remote(session: UserSession, name: str | None) -> Remote:
    """The remote called ``name``, or the only one when no name is given."""
    remotes = load_remotes(session)
    if not remotes:
        raise StoreError("no remote yet; add one with 'videofeedback remote add NAME --endpoint …'")
    if name is None:
        if len(remotes) > 1:
            raise StoreError(f"say which remote: --remote {' or '.join(sorted(remotes))}")
        return next(iter(remotes.values()))
    try:
        return remotes[name]
    except KeyError:
        known = ", ".join(sorted(remotes))
        raise StoreError(f"there is no remote {name!r}; known: {known}") from None


def _write(session: UserSession, remotes: dict[str, Remote]) -> None:
    data = {
        name: {
            **remote.public(),
            "secret_key": remote.credentials.secret_key,
            **({"team_code": remote.team_code} if remote.team_code else {}),
        }
        for name, remote in remotes.items()
    }
    path = _path(session)
    path.parent.mkdir(exist_ok=True, mode=0o700)
    write_encrypted(path, json.dumps(data, sort_keys=True).encode(), [session.keys.recipient])
