"""people find|list|mark|split|merge|extend, redact review-status|approve|mute|box: redaction
from the command line."""

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
    split = actions.add_parser("split", help="split a track where it jumps to someone else")
    split.add_argument("media")
    split.add_argument("track")
    split.add_argument(
        "--at", required=True, help="the new track starts here (seconds or mm:ss.ms)"
    )
    split.set_defaults(handler=cmd_split)
    merge = actions.add_parser("merge", help="join two tracks of one person (into the first)")
    merge.add_argument("media")
    merge.add_argument("track")
    merge.add_argument("other")
    merge.set_defaults(handler=cmd_merge)
    extend = actions.add_parser("extend", help="continue a track over frames it missed")
    extend.add_argument("media")
    extend.add_argument("track")
    extend.add_argument(
        "--to", required=True, help="until (or from) this time: seconds or mm:ss.ms"
    )
    extend.add_argument("--rect", metavar="X,Y,W,H", help="where the face is then (else held)")
    extend.set_defaults(handler=cmd_extend)

    redact = commands.add_parser("redact", help="review what a redacted export hides")
    steps = redact.add_subparsers(dest="redact_command", required=True, metavar="ACTION")
    status = steps.add_parser("review-status", help="what still needs a look")
    status.add_argument("media")
    status.set_defaults(handler=cmd_status)
    approve = steps.add_parser("approve", help="confirm you reviewed every flagged stretch")
    approve.add_argument("media")
    approve.set_defaults(handler=cmd_approve)
    mute = steps.add_parser("mute", help="silence, bleep or disguise the sound between two times")
    mute.add_argument("media")
    mute.add_argument("--start", "--from", dest="start", required=True, help="seconds or mm:ss.ms")
    mute.add_argument("--end", "--until", dest="end", required=True, help="seconds or mm:ss.ms")
    kind = mute.add_mutually_exclusive_group()
    kind.add_argument("--bleep", action="store_true", help="a 1 kHz tone instead of silence")
    kind.add_argument("--disguise", action="store_true", help="the voice pitch-shifted instead")
    mute.set_defaults(handler=cmd_mute)
    box = steps.add_parser(
        "box", help="hide a box you draw: --key T=X,Y,W,H at each keyframe (moving between), "
        "or --start/--end with --box (and --to, where it is at --end)",
    )  # fmt: skip
    box.add_argument("media")
    box.add_argument(
        "--key", action="append", default=[], metavar="T=X,Y,W,H",
        help="a keyframe: time (seconds or mm:ss.ms) = box in the film's pixels",
    )  # fmt: skip
    box.add_argument("--start", "--from", dest="start", help="seconds or mm:ss.ms")
    box.add_argument("--end", "--until", dest="end", help="seconds or mm:ss.ms")
    box.add_argument("--box", "--rect", dest="box", metavar="X,Y,W,H", help="in the film's pixels")
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
    mode = "disguise" if args.disguise else "bleep" if args.bleep else "mute"
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan = redaction.mute(case, args.media, start, end, mode=mode)
        case.save()
    done = {"mute": "muted", "bleep": "bleeped", "disguise": "disguised"}[mode]
    emit(
        args.json,
        {
            "media": args.media,
            "mutes": [[float(a), float(b)] for a, b in (m.seconds() for m in plan.mutes)],
            "modes": [m.mode for m in plan.mutes],
        },  # fmt: skip
        f"{args.media}: sound {done} {float(start):.2f}-{float(end):.2f} s in exports",
    )
    return 0


def cmd_split(args: argparse.Namespace) -> int:
    at = parse_time(args.at)
    with acting_user(args) as session:
        case = find_media(session, args.media)
        _, new = redaction.split_track(case, args.media, args.track, at)
        case.save()
    emit(
        args.json,
        {"media": args.media, "track": args.track, "new": new, "at": float(at)},
        f"{args.track} split at {float(at):.2f} s: from there it is {new}, not marked (hidden "
        f"until you mark it: 'people mark {args.media} {new} --as ...'); review again",
    )
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan, dropped = redaction.merge_tracks(case, args.media, args.track, args.other)
        case.save()
    note = (
        "; they were marked as different people, so it is not marked now (hidden)"
        if dropped
        else ""
    )
    emit(
        args.json,
        {
            "media": args.media,
            "track": args.track,
            "merged": args.other,
            "as": plan.mark_of(args.track),
            "mark_dropped": dropped,
        },  # fmt: skip
        f"{args.other} merged into {args.track}{note}; review again",
    )
    return 0


def cmd_extend(args: argparse.Namespace) -> int:
    to = parse_time(args.to)
    rect = _box(args.rect) if args.rect else None
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan = redaction.extend_track(case, args.media, args.track, to, rect)
        case.save()
    track = plan.track(args.track)
    fps = Fraction(plan.fps)
    emit(
        args.json,
        {
            "media": args.media,
            "track": args.track,
            "start": float(track.first / fps),
            "end": float(track.last / fps),
        },  # fmt: skip
        f"{args.track} now runs {float(track.first / fps):.2f}-{float(track.last / fps):.2f} s; "
        "review again",
    )
    return 0


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise CliExit(f"{text!r}: write a box as X,Y,W,H (pixels)") from None
    return x, y, w, h


def _key(text: str) -> tuple[Fraction, tuple[float, float, float, float]]:
    time, sep, box = text.partition("=")
    if not sep:
        raise CliExit(f"{text!r}: write a keyframe as SECONDS=X,Y,W,H (e.g. 1.5=10,20,80,90)")
    return parse_time(time.strip()), _box(box)


def _box_keys(args: argparse.Namespace) -> list[tuple[Fraction, tuple[float, float, float, float]]]:
    if args.key:
        if args.start or args.end or args.box or args.to:
            raise CliExit("give either --key (one for each keyframe) or --start/--end/--box")
        return [_key(k) for k in args.key]
    if not (args.start and args.end and args.box):
        raise CliExit("a box needs --key T=X,Y,W,H (twice or more), or --start, --end and --box")
    box = _box(args.box)
    to = _box(args.to) if args.to else box
    return [(parse_time(args.start), box), (parse_time(args.end), to)]


def cmd_box(args: argparse.Namespace) -> int:
    keys = _box_keys(args)
    with acting_user(args) as session:
        case = find_media(session, args.media)
        plan = redaction.add_keyed_box(case, args.media, keys)
        case.save()
    start, end = min(k[0] for k in keys), max(k[0] for k in keys)
    emit(
        args.json,
        {
            "media": args.media,
            "box": plan.manual[-1].id,
            "keyframes": len(plan.manual[-1].keyframes),
        },  # fmt: skip
        f"{plan.manual[-1].id}: hidden {float(start):.2f}-{float(end):.2f} s in exports",
    )
    return 0
