"""init, user, case, participant, consent, session, goal, audit, export, open-bundle, purge."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import platformdirs

from videofeedback import operations
from videofeedback.exports import sweep_unfinished_exports
from videofeedback.library import (
    Case,
    Library,
    Programme,
    Purpose,
    Role,
    SessionKind,
    UserSession,
    create_case,
    export_bundle,
    list_cases,
    open_bundle,
    open_case,
    parse_choice,
    parse_date,
    report_json,
)
from videofeedback.library.records import as_json
from videofeedback.library.sessions import session_title
from videofeedback.operations import run_operation

from .output import CliExit, emit, new_passphrase, passphrase


def library_folder(args: argparse.Namespace) -> Path:
    chosen = args.library or os.environ.get("VIDEOFEEDBACK_LIBRARY")
    return Path(chosen or platformdirs.user_data_dir("videofeedback", appauthor=False)).resolve()


def user_name(args: argparse.Namespace) -> str:
    name = args.user or os.environ.get("VIDEOFEEDBACK_USER")
    if not name:
        raise CliExit("say who you are: --user NAME or VIDEOFEEDBACK_USER")
    return str(name)


@contextlib.contextmanager
def acting_user(args: argparse.Namespace) -> Iterator[UserSession]:
    """The library, locked for writing, and the unlocked user."""
    with Library.open(library_folder(args)) as library:
        session = library.unlock(user_name(args), passphrase(f"Passphrase for {user_name(args)}: "))
        for path in sweep_unfinished_exports(session):
            print(
                f"videofeedback: removed {path}, the unfinished plaintext export of a run that "
                "was stopped (the case's audit trail records it)",
                file=sys.stderr,
            )
        yield session


@contextlib.contextmanager
def opened_case(args: argparse.Namespace) -> Iterator[Case]:
    """The case named by ``args.case``, saved if the command succeeds."""
    with acting_user(args) as session:
        case = open_case(session, args.case)
        yield case
        case.save()


def register(commands: Any) -> None:
    _register_setup(commands)
    _register_case(commands)
    _register_records(commands)
    _register_audit(commands)


# --- init and users -----------------------------------------------------------------------


def _register_setup(commands: Any) -> None:
    init = commands.add_parser("init", help="create a library with you as its administrator")
    init.add_argument("--recovery-out", help="where to write the recovery key (default: here)")
    init.add_argument("--retention-days", type=int, default=730)
    init.set_defaults(handler=cmd_init)

    user = commands.add_parser("user", help="users of the library").add_subparsers(
        dest="user_command", required=True, metavar="ACTION"
    )
    add = user.add_parser("add", help="add a user (admin only)")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="social-worker, practitioner, supervisor, admin")
    add.set_defaults(handler=cmd_user_add)
    user.add_parser("list", help="list users").set_defaults(handler=cmd_user_list)
    remove = user.add_parser("remove", help="remove a user, going forward (admin only)")
    remove.add_argument("name")
    remove.set_defaults(handler=cmd_user_remove)


def cmd_init(args: argparse.Namespace) -> int:
    folder = library_folder(args)
    admin = user_name(args)
    secret = new_passphrase("VIDEOFEEDBACK_PASSPHRASE", [admin, folder.name])
    recovery = Path(args.recovery_out or f"videofeedback-recovery-{folder.name}.age").resolve()
    library, _ = Library.create(folder, admin, secret, recovery, args.retention_days)
    library.close()
    info = {
        "library": str(folder),
        "id": library.manifest.library_id,
        "admin": admin,
        "recovery_key": str(recovery),
        "recovery_secret": library.recovery_secret,
    }
    text = (
        f"created library {folder} with administrator {admin}\n"
        f"RECOVERY KEY written to {recovery}. Its secret (shown only now, never stored):\n\n"
        f"    {library.recovery_secret}\n\n"
        "Write the secret on paper (or split it: groups 1-4 to one person, 5-8 to another) and "
        "keep it offline, apart from the key file (a USB stick in a safe). With both, every "
        "case can be opened; the administrator's passphrase does not open the recovery key."
    )
    emit(args.json, info, text)
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    role = Role.parse(args.role)
    with acting_user(args) as session:
        new_secret = new_passphrase("VIDEOFEEDBACK_NEW_PASSPHRASE", [args.name])
        session.library.add_user(session, args.name, role, new_secret)
        recipient = session.library.manifest.users[args.name].recipient
    info = {"name": args.name, "role": role.value, "recipient": recipient}
    emit(args.json, info, f"added {role.value} {args.name} ({recipient})")
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        session.library.remove_user(session, args.name)
    emit(
        args.json,
        {"name": args.name, "removed": True},
        f"removed {args.name}: nothing new is encrypted to them; remove them from their cases "
        "too (a new key epoch), and sync to tell the team",
    )
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    library = Library(library_folder(args))
    users = [
        {"name": n, "role": u.role, "recipient": u.recipient, "removed": u.removed or None}
        for n, u in sorted(library.manifest.users.items())
    ]
    lines = [f"{u['name']:<16} {u['role']}" + (" (removed)" if u["removed"] else "") for u in users]
    emit(args.json, {"users": users}, "\n".join(lines))
    return 0


# --- cases ----------------------------------------------------------------------------------


def _register_case(commands: Any) -> None:
    case = commands.add_parser("case", help="cases (families)").add_subparsers(
        dest="case_command", required=True, metavar="ACTION"
    )
    new = case.add_parser("new", help="create a case")
    new.add_argument("label", help="a pseudonym or the service's reference")
    new.add_argument("--programme", default="VIG", help="VIG, PUP or other")
    new.add_argument("--supervisor", action="append", default=[])
    new.add_argument("--practitioner", action="append", default=[])
    new.add_argument("--social-worker", action="append", default=[])
    new.add_argument("--start", help="start date, YYYY-MM-DD (default: today)")
    new.set_defaults(handler=cmd_case_new)
    case.add_parser("list", help="the cases you can open").set_defaults(handler=cmd_case_list)
    for name, handler, text in (
        ("show", cmd_case_show, "show a case"),
        ("close", cmd_case_close, "close a case (starts retention)"),
    ):
        sub = case.add_parser(name, help=text)
        sub.add_argument("case")
        sub.set_defaults(handler=handler)
    member = case.add_parser("member", help="add or remove a member")
    member.add_argument("case")
    member.add_argument("change", choices=["add", "remove"])
    member.add_argument("member_user")
    member.set_defaults(handler=cmd_case_member)
    book = case.add_parser("codebook", help="code the case's recordings with another codebook")
    book.add_argument("case")
    book.add_argument("codebook", help="a codebook id (see 'videofeedback codebook list')")
    book.set_defaults(handler=cmd_case_codebook)


def cmd_case_new(args: argparse.Namespace) -> int:
    programme = parse_choice(Programme, args.programme, "programme")
    members = [*args.supervisor, *args.practitioner, *args.social_worker]
    with acting_user(args) as session:
        case = create_case(session, args.label, programme, parse_date(args.start), members)
    emit(args.json, {"id": case.id, "programme": programme.value}, case.id)
    return 0


def cmd_case_list(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        cases = list_cases(session)
    text = "\n".join(f"{c.id}  {c.label}  {c.programme}" for c in cases)
    emit(args.json, {"cases": [as_json(c) for c in cases]}, text or "no cases you can open")
    return 0


def cmd_case_show(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        info = case.summary()
    text = "\n".join(f"{key}: {value}" for key, value in info.items())
    emit(args.json, info, text)
    return 0


def cmd_case_close(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        until = case.close_case(date.today())
    emit(
        args.json,
        {"id": case.id, "retention_until": until.isoformat()},
        f"closed {case.id}; it may be purged after {until.isoformat()}",
    )
    return 0


def cmd_case_member(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        (case.members.add if args.change == "add" else case.members.remove)(args.member_user)
        members = case.members.names()
    emit(args.json, {"id": case.id, "members": members}, ", ".join(members))
    return 0


def cmd_case_codebook(args: argparse.Namespace) -> int:
    from videofeedback.library.annotating import set_case_codebook

    with opened_case(args) as case:
        book = set_case_codebook(case, args.codebook)
    emit(args.json, {"id": case.id, "codebook": book.id}, f"{case.id} now uses {book.name}")
    return 0


# --- participants, consent, sessions, goals ------------------------------------------------


def _register_records(commands: Any) -> None:
    participant = commands.add_parser("participant", help="family members in a case")
    participant_actions = participant.add_subparsers(
        dest="p_command", required=True, metavar="ACTION"
    )
    add = participant_actions.add_parser("add", help="add a participant")
    add.add_argument("case")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="mother, father, carer, child, …")
    add.add_argument("--age-band", help="for a child, e.g. 0-1, 1-3")
    add.add_argument("--language", help="preferred language, e.g. pl, ur, en")
    add.set_defaults(handler=cmd_participant_add)

    consent = commands.add_parser("consent", help="consent per participant and purpose")
    consent_actions = consent.add_subparsers(dest="c_command", required=True, metavar="ACTION")
    for name, handler in (("set", cmd_consent_set), ("withdraw", cmd_consent_withdraw)):
        sub = consent_actions.add_parser(name, help=f"{name} consent")
        sub.add_argument("case")
        sub.add_argument("participant")
        sub.add_argument("--purpose", required=True, help=", ".join(p.value for p in Purpose))
        if name == "set":
            sub.add_argument("--given", action="store_true", required=True)
        sub.set_defaults(handler=handler)

    session = commands.add_parser("session", help="recording, review and supervision sessions")
    session_actions = session.add_subparsers(dest="s_command", required=True, metavar="ACTION")
    new = session_actions.add_parser("new", help="create a session")
    new.add_argument("case")
    new.add_argument("--kind", required=True, help="recording, review or supervision")
    new.add_argument("--date", help="YYYY-MM-DD (default: today)")
    new.add_argument("--notes", default="")
    new.add_argument(
        "--title", default="", help="what the session is called, e.g. 'Play with blocks'"
    )
    new.set_defaults(handler=cmd_session_new)
    listing = session_actions.add_parser("list", help="sessions of a case")
    listing.add_argument("case")
    listing.set_defaults(handler=cmd_session_list)

    goal = commands.add_parser("goal", help="goals and goal attainment scores")
    goal_actions = goal.add_subparsers(dest="g_command", required=True, metavar="ACTION")
    add_goal = goal_actions.add_parser("add", help="add a goal")
    add_goal.add_argument("case")
    add_goal.add_argument("text")
    add_goal.set_defaults(handler=cmd_goal_add)
    score = goal_actions.add_parser("score", help="score a goal from -2 to +2")
    score.add_argument("case")
    score.add_argument("goal")
    score.add_argument("--score", type=int, required=True)
    score.add_argument("--date", help="YYYY-MM-DD (default: today)")
    score.set_defaults(handler=cmd_goal_score)
    listing = goal_actions.add_parser("list", help="goals and their scores")
    listing.add_argument("case")
    listing.set_defaults(handler=cmd_goal_list)

    comment = commands.add_parser("comment", help="a supervisor's comment on a session or moment")
    comment.add_argument("case")
    comment.add_argument("target", help="the id commented on (session, moment, media)")
    comment.add_argument("text")
    comment.set_defaults(handler=cmd_comment)

    signoff = commands.add_parser("signoff", help="sign off a cycle: a film and its review")
    signoff.add_argument("case")
    signoff.add_argument("--recording", required=True, help="the recording session")
    signoff.add_argument("--review", required=True, help="the shared review session")
    signoff.set_defaults(handler=cmd_signoff)


def cmd_participant_add(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        participant = case.participants.add(args.name, args.role, args.age_band, args.language)
    emit(args.json, {"id": participant, "case": args.case}, participant)
    return 0


def _consent(args: argparse.Namespace, given: bool) -> int:
    purpose = parse_choice(Purpose, args.purpose, "purpose")
    with opened_case(args) as case:
        run_operation(case, operations.set_consent(args.participant, purpose, given))
    status = "given" if given else "withdrawn"
    emit(
        args.json,
        {"participant": args.participant, "purpose": purpose.value, "status": status},
        f"consent to {purpose.value}: {status}",
    )
    return 0


def cmd_consent_set(args: argparse.Namespace) -> int:
    return _consent(args, given=True)


def cmd_consent_withdraw(args: argparse.Namespace) -> int:
    return _consent(args, given=False)


def cmd_session_new(args: argparse.Namespace) -> int:
    kind = parse_choice(SessionKind, args.kind, "session kind")
    with opened_case(args) as case:
        op = operations.new_session(kind, parse_date(args.date), args.notes, args.title)
        session_id = run_operation(case, op).value
    emit(args.json, {"id": session_id, "case": args.case, "kind": kind.value}, session_id)
    return 0


def cmd_session_list(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        sessions = case.sessions.all()
    text = "\n".join(f"{s.id}  {s.date}  {s.kind}  {session_title(s)}" for s in sessions)
    emit(args.json, {"sessions": [as_json(s) for s in sessions]}, text or "no sessions")
    return 0


def cmd_goal_add(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        goal_id = case.goals.add(args.text)
    emit(args.json, {"id": goal_id, "case": args.case}, goal_id)
    return 0


def cmd_goal_score(args: argparse.Namespace) -> int:
    when = parse_date(args.date)
    with opened_case(args) as case:
        case.goals.score(args.goal, args.score, when)
    emit(
        args.json,
        {"goal": args.goal, "date": when.isoformat(), "score": args.score},
        f"{args.goal}: {args.score:+d} on {when.isoformat()}",
    )
    return 0


def cmd_goal_list(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        goals = case.goals.all()
    lines = [
        f"{g.id}  {g.text}  " + " ".join(f"{s.date}:{s.score:+d}" for s in g.scores) for g in goals
    ]
    emit(args.json, {"goals": [as_json(g) for g in goals]}, "\n".join(lines) or "no goals")
    return 0


def cmd_comment(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        comment_id = run_operation(case, operations.add_comment(args.target, args.text)).value
    emit(args.json, {"id": comment_id, "target": args.target}, comment_id)
    return 0


def cmd_signoff(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        signoff_id = case.supervision.sign_off(args.recording, args.review)
    emit(
        args.json,
        {"id": signoff_id, "recording": args.recording, "review": args.review},
        f"signed off {args.recording} + {args.review} ({signoff_id})",
    )
    return 0


# --- audit, export, bundles, purge -----------------------------------------------------------


def _register_audit(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the audit trail of a case or of the library")
    audit_actions = audit.add_subparsers(dest="a_command", required=True, metavar="ACTION")
    for name, handler in (("verify", cmd_audit_verify), ("show", cmd_audit_show)):
        sub = audit_actions.add_parser(name, help=f"{name} the audit trail")
        sub.add_argument("case", nargs="?", help="a case id (default: the library's own trail)")
        sub.set_defaults(handler=handler)

    export = commands.add_parser("export", help="hand a case over to another user, signed")
    export.add_argument("case")
    export.add_argument("--to", required=True, help="the receiving user")
    export.add_argument("--out", required=True, help="the bundle file to write")
    export.add_argument("--media", action="append", default=[], help="media id to include")
    export.set_defaults(handler=cmd_export)

    bundle = commands.add_parser("open-bundle", help="verify and open a bundle, read-only")
    bundle.add_argument("file")
    bundle.set_defaults(handler=cmd_open_bundle)

    purge = commands.add_parser("purge", help="delete closed cases past retention (admin)")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(handler=cmd_purge)


def _audit_target(args: argparse.Namespace, session: UserSession) -> Any:
    if args.case:
        return open_case(session, args.case)
    if session.role != Role.ADMIN:
        raise CliExit("only an administrator can read the library's own audit trail; name a case")
    return None


def cmd_audit_verify(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = _audit_target(args, session)
        if case is not None:
            report = case.verify_audit()  # before any save: a save would sign what it finds
            case.save()  # then sign this command's own entry
        else:
            report = session.library.verify_audit(session)[0]
    emit(args.json, report_json(report), report.summary())
    return 0 if report.valid else 4


def cmd_audit_show(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = _audit_target(args, session)
        log = case.audit_log() if case else session.library.audit_log()
        entries = log.entries([case.identity] if case else session.identities)
        if case:
            case.save()
    rows = [e.__dict__ for e in entries]
    text = "\n".join(
        f"{e.seq:>5} {e.time[:19]} {e.user:<12} {e.action:<20} {e.object}" for e in entries
    )
    emit(args.json, {"entries": rows}, text)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with opened_case(args) as case:
        info = export_bundle(case, args.to, Path(args.out), args.media)
    emit(args.json, info, f"wrote {args.out} for {args.to}")
    return 0


def cmd_open_bundle(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        bundle = open_bundle(session, Path(args.file))
    info = bundle.summary()
    emit(args.json, info, "\n".join(f"{k}: {v}" for k, v in info.items()))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        expired = session.library.expired_cases(session)
        if expired and not args.yes:
            if not sys.stdin.isatty():
                raise CliExit(
                    f"{len(expired)} cases would be deleted for ever; add --yes to confirm"
                )
            answer = input(f"Delete {len(expired)} cases for ever ({', '.join(expired)})? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CliExit("nothing deleted")
        purged = session.library.purge(session)
    emit(
        args.json,
        {"purged": purged},
        f"purged {len(purged)} cases" + "".join(f"\n  {c}" for c in purged),
    )
    return 0
