"""The team's list of users after ``team init`` (docs/FORMAT.md §12.9).

The join package (``team/join.age``, sealed to the team code) holds the signed roster. On
every sync, before invitations and cases:

- an **administrator** whose library holds a newer roster than the package (a user was
  added since) publishes the package again (compare-and-swap, the same team code), so a new
  user can ``team join`` with the same commands as the others;
- a laptop that **joined** (it kept the team code with its remote) reads the package and
  takes a roster that is newer than its own, once ``Library.take_roster`` checked it: signed
  by an administrator this computer pinned when it joined (``--admin-key``), never older
  than the one it holds, unless it removes the administrator who signed the one it holds
  (``roster.supersedes``: he signed that one after his removal). A store serving an older
  package, or a roster signed by anyone else, changes nothing; the sync says so in one
  line and goes on;
- an administrator whose library **refuses** the package (signed by an administrator she
  removed, say) publishes hers again, so her removal reaches the laptops that took his.
"""

from __future__ import annotations

from videofeedback.library import Role, UserSession
from videofeedback.library.manifest import Manifest
from videofeedback.library.roster import (
    RosterError,
    removes,
    roster_message,
    signer_of,
    supersedes,
)

from .errors import StoreConflictError
from .joining import JoinError, Package, _code_path, fetch_package, publish
from .remotes import Remote


def _admin_code(session: UserSession, remote: Remote) -> str:
    """The team code an administrator's library keeps for this store ("" if none)."""
    from encryption import EncryptionError, read_encrypted

    path = _code_path(session.library, remote)
    if session.role != Role.ADMIN or not path.exists():
        return ""
    try:
        return read_encrypted(path, session.identities).decode()
    except EncryptionError:
        return ""  # made before this user was an administrator: another one publishes


def refresh_roster(session: UserSession, remote: Remote) -> str:
    """Publish or take the team's roster; a one-line note of what happened ("" nothing)."""
    admin_code = _admin_code(session, remote)  # only where the team was set up
    code = admin_code or remote.team_code
    if not code:
        return ""  # not a joined laptop, nor an administrator who set the team up
    try:
        package = fetch_package(remote, code)
    except JoinError as exc:
        return f"the team's list of users was not read: {exc}"
    mine, theirs = session.library.manifest, package.manifest
    if theirs.library_id != mine.library_id:
        return "the store's team package is of another library: ignored; ask your administrator"
    if _same(theirs, mine):
        return ""
    if theirs.roster_serial > mine.roster_serial or supersedes(theirs, mine):
        note = _take(session, package)
        if admin_code and not note.startswith("took"):  # one she refuses: hers goes back
            return f"{note}; {_publish(session, remote)}"
        return note
    if admin_code:  # never from a joined laptop: it lacks the others' identity files, and a
        return _publish(session, remote)  # new code would lock every member out
    if removes(theirs, signer_of(mine)):  # and mine removes its signer (supersedes)
        return (
            f"the store's list of users (version {theirs.roster_serial}, signed by "
            f"{signer_of(theirs)}) removes {signer_of(mine)}, who signed this laptop's "
            f"(version {mine.roster_serial}) and removed {signer_of(theirs)}: one of them "
            "was signed after its signer's removal. This laptop keeps its own; ask your "
            "administrator which is right (if not this one, join the team again)"
        )
    if theirs.roster_serial < mine.roster_serial:
        return (
            f"the store serves an older list of users (version {theirs.roster_serial}; this "
            f"laptop has {mine.roster_serial}): ignored, this laptop keeps its own"
        )
    return (
        f"the store serves another list of users of the same version ({mine.roster_serial}, "
        f"signed by {signer_of(theirs)}): ignored, this laptop keeps its own"
    )


def _same(theirs: Manifest, mine: Manifest) -> bool:
    signed = theirs.roster_signature == mine.roster_signature
    return signed and roster_message(theirs) == roster_message(mine)


def _publish(session: UserSession, remote: Remote) -> str:
    try:
        publish(session, remote)
    except StoreConflictError:  # another administrator published meanwhile
        return "the list of users was not published (the store changed meanwhile); sync again"
    session.audit("team.init", remote.name)
    serial = session.library.manifest.roster_serial
    return f"published the list of users (version {serial}) to {remote.name}"


def _take(session: UserSession, package: Package) -> str:
    library = session.library
    serial = package.manifest.roster_serial
    try:
        library.take_roster(package.manifest)
    except RosterError as exc:
        return f"the list of users in the store (version {serial}) was refused: {exc}"
    session.audit("roster.take", str(serial), by=package.admin)
    return f"took the team's list of users, version {serial}, signed by {package.admin}"
