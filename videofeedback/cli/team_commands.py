"""remote add|list|remove|status|dev-server, team init|join: the team store (FORMAT §12)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path
from typing import Any

from .output import CliExit, emit


def register(commands: Any) -> None:
    remote = commands.add_parser("remote", help="team stores (S3) this library syncs with")
    actions = remote.add_subparsers(dest="remote_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a team store (keys: prompt or environment)")
    add.add_argument("name")
    add.add_argument("--endpoint", required=True, help="e.g. https://s3.example.org")
    add.add_argument("--bucket", required=True)
    add.add_argument("--prefix", default="", help="a folder inside the bucket")
    add.set_defaults(handler=cmd_remote_add)
    actions.add_parser("list", help="the remotes you added").set_defaults(handler=cmd_remote_list)
    remove = actions.add_parser("remove", help="forget a remote (its keys too)")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_remote_remove)
    status = actions.add_parser("status", help="whether the store is reachable")
    status.add_argument("name", nargs="?")
    status.set_defaults(handler=cmd_remote_status)
    dev = actions.add_parser("dev-server", help="run a local SeaweedFS store for trying it")
    dev.add_argument("--dir", type=Path, required=True, help="where the store keeps its data")
    dev.add_argument("--bucket", default="team")
    dev.set_defaults(handler=cmd_dev_server)
    _register_team(commands)


def _register_team(commands: Any) -> None:
    team = commands.add_parser("team", help="set up a team store, or join one from a laptop")
    actions = team.add_subparsers(dest="team_command", metavar="ACTION", required=True)
    init = actions.add_parser("init", help="publish the roster for joining laptops (admin)")
    init.add_argument("--remote", help="the remote to publish to (the only one if omitted)")
    init.set_defaults(handler=cmd_team_init)
    join = actions.add_parser("join", help="make an empty folder this laptop's team library")
    join.add_argument("--remote", required=True, help="a name for the store on this laptop")
    join.add_argument("--endpoint", required=True, help="e.g. https://s3.example.org")
    join.add_argument("--bucket", required=True)
    join.add_argument("--prefix", default="", help="a folder inside the bucket")
    join.add_argument(
        "--admin-key",
        required=True,
        help="the administrator key fingerprint 'team init' printed (ask your administrator, "
        "not the store): any other signer is refused — whoever holds the team code could "
        "otherwise sign a roster of their own",
    )
    join.set_defaults(handler=cmd_team_join)


def _secret(variable: str, prompt: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliExit(f"no store key: set {variable} or run in a terminal to be asked")
    return getpass.getpass(prompt)


def cmd_remote_add(args: argparse.Namespace) -> int:
    from videofeedback.team.errors import StoreError
    from videofeedback.team.remotes import Remote, save_remote
    from videofeedback.team.store import StoreCredentials, StoreLocation

    from .library_commands import acting_user

    credentials = StoreCredentials(
        _secret("VIDEOFEEDBACK_S3_ACCESS_KEY", "Store access key: "),
        _secret("VIDEOFEEDBACK_S3_SECRET_KEY", "Store secret key: "),
    )
    remote = Remote(args.name, StoreLocation(args.endpoint, args.bucket, args.prefix), credentials)
    with acting_user(args) as session:
        save_remote(session, remote)
        session.audit("remote.add", args.name)
    try:
        remote.store().check()
        reachable, note = True, "reachable"
    except StoreError as exc:
        reachable, note = False, f"not reachable now ({exc}); kept, sync will try again"
    emit(
        args.json,
        {**remote.public(), "reachable": reachable},
        f"remote {args.name}: {args.endpoint} bucket {args.bucket}: {note}",
    )
    return 0


def cmd_remote_list(args: argparse.Namespace) -> int:
    from videofeedback.team.remotes import load_remotes

    from .library_commands import acting_user

    with acting_user(args) as session:
        remotes = load_remotes(session)
    rows = [remote.public() for remote in remotes.values()]
    text = "\n".join(f"{r['name']}\t{r['endpoint']}\t{r['bucket']}\t{r['prefix']}" for r in rows)
    emit(args.json, {"remotes": rows}, text or "no remotes")
    return 0


def cmd_remote_remove(args: argparse.Namespace) -> int:
    from videofeedback.team.remotes import remove_remote

    from .library_commands import acting_user

    with acting_user(args) as session:
        remove_remote(session, args.name)
        session.audit("remote.remove", args.name)
    emit(args.json, {"removed": args.name}, f"remote {args.name} removed")
    return 0


def cmd_remote_status(args: argparse.Namespace) -> int:
    from videofeedback.team.errors import StoreError
    from videofeedback.team.remotes import find_remote
    from videofeedback.team.sync import sync_status

    from .library_commands import acting_user

    with acting_user(args) as session:
        remote = find_remote(session, args.name)
        pending = sync_status(session.library, remote.name)
    try:
        remote.store().check()
        reachable, problem = True, ""
    except StoreError as exc:
        reachable, problem = False, str(exc)
    data: dict[str, Any] = {
        **remote.public(),
        "reachable": reachable,
        "problem": problem,
        **pending,
    }
    last = pending["last_sync"] or "never"
    text = f"{remote.name}: " + ("reachable" if reachable else problem)
    only_here = f"{pending['pending_uploads']} change(s) only on this laptop; last sync {last}"
    emit(args.json, data, f"{text}\n{only_here}")
    return 0 if reachable else 1


def cmd_dev_server(args: argparse.Namespace) -> int:
    from videofeedback.team.devserver import DevServer
    from videofeedback.team.store import S3Store, StoreCredentials, StoreLocation

    server = DevServer(args.dir.resolve())
    try:
        with server:
            store = S3Store(
                StoreLocation(server.endpoint, args.bucket),
                StoreCredentials(server.credentials.access_key, server.credentials.secret_key),
            )
            store.ensure_bucket()
            print(
                f"SeaweedFS on {server.endpoint} (loopback only), data in {args.dir}\n"
                f"  export VIDEOFEEDBACK_S3_ACCESS_KEY={server.credentials.access_key}\n"
                f"  export VIDEOFEEDBACK_S3_SECRET_KEY={server.credentials.secret_key}\n"
                f"  videofeedback remote add dev --endpoint {server.endpoint} "
                f"--bucket {args.bucket}\n"
                "Ctrl+C stops it.",
                flush=True,
            )
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:  # Ctrl+C, whenever it comes: the server is stopped by `with`
        server.stop()
    return 0


def cmd_team_init(args: argparse.Namespace) -> int:
    from videofeedback.team.joining import publish
    from videofeedback.team.remotes import find_remote

    from .library_commands import acting_user

    with acting_user(args) as session:
        remote = find_remote(session, args.remote)
        published = publish(session, remote)
        session.audit("team.init", remote.name)
    data = {
        "remote": remote.name,
        "team_code": published.code,
        "admin": published.admin,
        "admin_key": published.fingerprint,
        "roster_serial": published.serial,
    }
    emit(
        args.json,
        data,
        f"team published to {remote.name} (roster version {published.serial}).\n"
        f"Give each member, out of band, with the store's keys:\n"
        f"  team code:          {published.code}\n"
        f"  administrator key:  {published.fingerprint} ({published.admin})\n"
        "They join with 'videofeedback team join … --admin-key KEY'. After adding users, "
        "your next 'videofeedback sync' (or 'team init' again) publishes them.",
    )
    return 0


def cmd_team_join(args: argparse.Namespace) -> int:
    from videofeedback.team.engine import available, sync_once
    from videofeedback.team.errors import StoreError
    from videofeedback.team.joining import check_empty, join
    from videofeedback.team.remotes import Remote
    from videofeedback.team.store import StoreCredentials, StoreLocation

    from .library_commands import library_folder, user_name
    from .output import passphrase

    folder = library_folder(args)
    check_empty(folder)  # before asking for any secret
    user = user_name(args)
    credentials = StoreCredentials(
        _secret("VIDEOFEEDBACK_S3_ACCESS_KEY", "Store access key: "),
        _secret("VIDEOFEEDBACK_S3_SECRET_KEY", "Store secret key: "),
    )
    code = _secret("VIDEOFEEDBACK_TEAM_CODE", "Team code: ")
    location = StoreLocation(args.endpoint, args.bucket, args.prefix)
    remote = Remote(args.remote, location, credentials)
    secret = passphrase(f"Passphrase for {user}: ")
    joined, library, session = join(folder, remote, user, secret, code, args.admin_key)
    try:
        if available():
            try:
                sync_once(library, session, remote.name, None)
                note = "pulled the cases you are a member of"
            except StoreError as exc:
                note = f"joined, but the first sync failed ({exc}); run 'videofeedback sync'"
        else:
            note = (
                "joined; this build has no sync engine, so no case was pulled "
                "(update videofeedback, then run 'videofeedback sync')"
            )
    finally:
        library.close()
    emit(
        args.json,
        {
            "library": str(joined.library),
            "library_id": joined.library_id,
            "admin": joined.admin,
            "admin_key": joined.fingerprint,
            "synced": note.startswith("pulled"),
            "note": note,
        },
        f"joined the team in {joined.library} as {user}.\n"
        f"The list of users is signed by administrator {joined.admin}, key "
        f"{joined.fingerprint}: compare it with the key your administrator gave you.\n{note}",
    )
    return 0
