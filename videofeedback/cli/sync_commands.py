"""sync, conflicts: the team library's sync engine (docs/FORMAT.md §12.2-12.3)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .output import emit


def register(commands: Any) -> None:
    sync = commands.add_parser("sync", help="push and pull every case with the team store")
    sync.add_argument("--remote", help="which remote (needed only if there are several)")
    sync.set_defaults(handler=cmd_sync)
    conflicts = commands.add_parser("conflicts", help="concurrent edits a member must settle")
    conflicts.add_argument("case")
    conflicts.add_argument("--keep", metavar="VERSION", help="keep this version (its op id)")
    conflicts.set_defaults(handler=cmd_conflicts)


def _progress(phase: str, done: int, total: int) -> None:
    if sys.stderr.isatty() and total:
        mib = 1024 * 1024
        end = "\n" if done >= total else ""
        print(f"\r{phase}: {done / mib:.1f} of {total / mib:.1f} MiB", end=end, file=sys.stderr)


def _case_line(case: dict[str, Any]) -> str:
    if case["error"]:
        return f"{case['case']}: NOT SYNCED: {case['error']}"
    text = f"{case['case']}: up {case['pushed']}, down {case['pulled']}"
    if case["conflicts"]:
        text += f", {len(case['conflicts'])} conflict(s): 'videofeedback conflicts {case['case']}'"
    if case["pending_media"]:
        text += f", {case['pending_media']} recording(s) not in the store yet"
    return text


def cmd_sync(args: argparse.Namespace) -> int:
    from videofeedback.team.sync import sync_library

    from .library_commands import acting_user

    with acting_user(args) as session:
        report = sync_library(session.library, session, args.remote, _progress)
    data = report.to_json()
    lines = [_case_line(c) for c in data["cases"]] or ["no cases to sync"]
    lines += [f"{case}: new on this laptop (you were added to it)" for case in report.found]
    lines += [f"users: {report.roster}"] if report.roster else []
    emit(args.json, data, "\n".join(lines))
    return 0 if report.ok else 1


def cmd_conflicts(args: argparse.Namespace) -> int:
    from videofeedback.team.conflicts import list_conflicts, resolve_conflict
    from videofeedback.team.errors import SyncError
    from videofeedback.team.sync import open_for_sync

    from .library_commands import acting_user

    with acting_user(args) as session:
        case = open_for_sync(session, args.case)
        found = list_conflicts(case)
        if args.keep:
            chosen = next((c for c in found if any(o.id == args.keep for o in c.ops)), None)
            if chosen is None:
                raise SyncError(f"no conflict has a version {args.keep}; run without --keep")
            resolve_conflict(case, *chosen.record, chosen.field, args.keep)
            found = list_conflicts(case)
    rows = [c.to_json() for c in found]
    lines = [
        f"{' '.join(r['record'])} {r['field']}: "
        + "; ".join(f"{v['op']} by {v['author']}" for v in r["versions"])
        for r in rows
    ]
    emit(args.json, {"case": args.case, "conflicts": rows}, "\n".join(lines) or "no conflicts")
    return 0
