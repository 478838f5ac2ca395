"""people find|list|mark, redact review-status|approve|mute: redaction from the command line."""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction
from typing import Any

from annotations.timebase import parse_time
from clips.redact.plan import OTHER
from videofeedback import redaction
from videofeedback.library.media_records import find_media

from .library_commands import acting_user
from .output import CliExit, emit


def register(commands: Any) -> None:
    people = commands.add_parser("people", help="find and name the people in a recording")
    actions = people.add_subparsers(dest="people_command", required=True, metavar="ACTION")
    find = actions.add_parser("find", help="detect and track faces (a job, progress on stderr)")
    find.add_argument("media")
    find.set_defaults(handler=cmd_find)
    listing = actions.add_parser("list", help="the tracks, who each is, and where")
    listing.add_argument("media")
    listing.set_defaults(handler=cmd_list)
    mark = actions.add_parser("mark", help="say who a track is: a participant id, or other")
    mark.add_argument("media")
    mark.add_argument("track")
    mark.add_argument("--as", dest="who", required=True, metavar="PARTICIPANT|other")
    mark.set_defaults(handler=cmd_mark)

    redact = commands.add_parser("redact", help="review what a redacted export hides")
    steps = redact.add_subparsers(dest="redact_command", required=True, metavar="ACTION")
    status = steps.add_parser("review-status", help="what still needs a look")
    status.add_argument("media")
    status.set_defaults(handler=cmd_status)
    approve = steps.add_parser("approve", help="confirm you reviewed every flagged stretch")
    approve.add_argument("media")
    approve.set_defaults(handler=cmd_approve)
    mute = steps.add_parser("mute", help="silence the sound between two times")
    mute.add_argument("media")
    mute.add_argument("--start", required=True, help="seconds or mm:ss.ms")
    mute.add_argument("--end", required=True, help="seconds or mm:ss.ms")
    mute.add_argument("--bleep", action="store_true", help="a 1 kHz tone instead of silence")
    mute.set_defaults(handler=cmd_mute)
    box = steps.add_parser("box", help="hide a box you draw (moving from --box to --to)")
    box.add_argument("media")
    box.add_argument("--start", required=True, help="seconds or mm:ss.ms")
    box.add_argument("--end", required=True, help="seconds or mm:ss.ms")
    box.add_argument("--box", required=True, metavar="X,Y,W,H", help="in the film's pixels")
    box.add_argument("--to", metavar="X,Y,W,H", help="where the box is at --end")
    box.set_defaults(handler=cmd_box)


def _frames_progress(total: int | None) -> Any:
    def report(frames: int) -> None:
        share = f" ({frames / total:5.1%})" if total else ""
        print(f"finding people: frame {frames}{share}", file=sys.stderr, flush=True)

    return report


def cmd_find(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        record = case.media.get(args.media)
        total = int((record.duration or 0) * record.frame_rate()) or None
        plan = redaction.find_people(case, args.media, _frames_progress(total))
        case.save()
        status = redaction.review_status(case, args.media)
    emit(
        args.json,
        status,
        f"{args.media}: {len(plan.tracks)} people tracked in {plan.frames} frames; "
        f"{len(plan.stretches)} stretches to review ('people list', 'redact review-status')",
    )
    return 0


def _track_rows(plan: Any, fps: Any) -> list[dict[str, Any]]:
    rows = []
    for track in plan.tracks:
        middle = track.boxes[len(track.boxes) // 2]
        rows.append(
            {
                "track": track.id,
                "as": plan.mark_of(track.id),
                "start": float(track.first / fps),
                "end": float(track.last / fps),
                "box_at_middle": [round(v) for v in (middle.x, middle.y, middle.w, middle.h)],
                "lowest_confidence": min(b.confidence for b in track.boxes),
            }
        )
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan = redaction.require_plan(case, args.media)
        case.save()
    rows = _track_rows(plan, Fraction(plan.fps))
    text = "\n".join(
        f"{r['track']}  {r['start']:7.2f}-{r['end']:7.2f} s  box {r['box_at_middle']}  "
        f"{r['as'] or 'not marked (hidden)'}"
        for r in rows
    )
    emit(args.json, {"media": args.media, "tracks": rows}, text or "no people found")
    return 0


def cmd_mark(args: argparse.Namespace) -> int:
    who = OTHER if args.who.strip().lower() == OTHER else args.who.strip()
    with acting_user(args) as session:
        case = find_media(session, args.media)
        redaction.mark(case, args.media, args.track, who)
        case.save()
    emit(args.json, {"media": args.media, "track": args.track, "as": who}, f"{args.track}: {who}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        status = redaction.review_status(case, args.media)
        case.save()
    lines = [
        f"{args.media}: review {'PENDING' if status['pending'] else 'done'}; "
        f"{status['tracks']} tracks, {len(status['unmarked'])} not marked (hidden)"
    ]
    lines += [
        f"  {s['track']}  {s['start']:7.2f}-{s['end']:7.2f} s  {s['reason']}"
        for s in status["stretches"]
    ]
    emit(args.json, status, "\n".join(lines))
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan = redaction.approve(case, args.media)
        case.save()
    review = plan.reviews[-1]
    emit(
        args.json,
        {
            "media": args.media,
            "by": review.by,
            "at": review.at,
            "tracks": review.tracks,
            "stretches": review.stretches,
            "changes": review.changes,
        },  # fmt: skip
        f"{args.media}: review by {review.by} recorded ({review.tracks} tracks, "
        f"{review.stretches} stretches, {review.changes} changes)",
    )
    return 0


def cmd_mute(args: argparse.Namespace) -> int:
    start, end = parse_time(args.start), parse_time(args.end)
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan = redaction.mute(case, args.media, start, end, args.bleep)
        case.save()
    emit(
        args.json,
        {
            "media": args.media,
            "mutes": [[float(a), float(b)] for a, b in (m.seconds() for m in plan.mutes)],
        },  # fmt: skip
        f"{args.media}: sound {'bleeped' if args.bleep else 'muted'} "
        f"{float(start):.2f}-{float(end):.2f} s in exports",
    )
    return 0


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise CliExit(f"{text!r}: write a box as X,Y,W,H (pixels)") from None
    return x, y, w, h


def cmd_box(args: argparse.Namespace) -> int:
    start, end = parse_time(args.start), parse_time(args.end)
    box, to = _box(args.box), _box(args.to) if args.to else None
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan = redaction.add_box(case, args.media, start, end, box, to)
        case.save()
    emit(
        args.json,
        {"media": args.media, "box": plan.manual[-1].id},
        f"{plan.manual[-1].id}: hidden {float(start):.2f}-{float(end):.2f} s in exports",
    )
    return 0
