"""record, import, media info|recover|export, still."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AbstractContextManager, nullcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

from annotations.reel import ReelPlan
from annotations.timebase import parse_time
from clips.camera import CameraSource
from clips.record import Source
from clips.synthetic import SyntheticSource
from videofeedback import media, redacted
from videofeedback.library.cases import Purpose, parse_choice
from videofeedback.library.media_records import find_media, find_session

from .library_commands import acting_user
from .output import CliExit, emit


def register(commands: Any) -> None:
    rec = commands.add_parser("record", help="record a session (encrypted as it is captured)")
    rec.add_argument("session")
    rec.add_argument("--source", default="synthetic", help="synthetic or camera[:N]")
    rec.add_argument("--duration", required=True, help="seconds")
    rec.add_argument("--size", default="1280x720", help="1280x720 or 1920x1080")
    rec.add_argument("--fps", default="30")
    rec.set_defaults(handler=cmd_record)

    imp = commands.add_parser("import", help="import phone or camera files into a session")
    imp.add_argument("session")
    imp.add_argument("files", nargs="+")
    imp.set_defaults(handler=cmd_import)

    media_parser = commands.add_parser("media", help="recordings, stills and reels")
    actions = media_parser.add_subparsers(dest="media_command", required=True, metavar="ACTION")
    for name, handler, text in (
        ("info", cmd_media_info, "duration, fps, size, codecs, markers"),
        ("recover", cmd_media_recover, "seal an interrupted recording"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("media")
        sub.set_defaults(handler=handler)
    export = actions.add_parser("export", help="a plaintext copy, redacted for its purpose")
    export.add_argument("media")
    export.add_argument("--out", required=True)
    export.add_argument(
        "--purpose",
        help="what the copy is for (required): family-copy, shared-review, supervision or "
        "training hide everyone without consent to it; own-review is the unredacted original "
        "for your own review only (audited as such)",
    )
    export.set_defaults(handler=cmd_media_export)

    reel = commands.add_parser("reel", help="highlight reels")
    reel_actions = reel.add_subparsers(dest="reel_command", required=True, metavar="ACTION")
    render = reel_actions.add_parser("render", help="render a reel plan (docs/REEL_PLAN.md)")
    render.add_argument("session")
    render.add_argument("--plan", required=True, help="the plan, a JSON file")
    render.add_argument("--draft", action="store_true", help="fast: clips only, smart-cut")
    render.add_argument(
        "--purpose",
        help="render for this purpose (e.g. family-copy): every clip and still redacted as "
        "its consents require; without it the reel is for your own review",
    )
    render.set_defaults(handler=cmd_reel_render)

    still = commands.add_parser("still", help="the exact frame at a time, as an encrypted PNG")
    still.add_argument("media")
    still.add_argument("--at", required=True, help="seconds or mm:ss.ms")
    still.add_argument("--caption", default="", help="words drawn on the still (any script)")
    still.set_defaults(handler=cmd_still)


def _source(args: argparse.Namespace) -> AbstractContextManager[Source]:
    """The synthetic source, or camera[:N] (a camera index, device path or URL) with the
    default microphone."""
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise CliExit(f"--size {args.size!r}: write it as 1280x720") from None
    fps = Fraction(args.fps)
    if args.source == "synthetic":
        return nullcontext(SyntheticSource(width, height, fps))
    kind, _, which = args.source.partition(":")
    if kind != "camera":
        raise CliExit(f"--source {args.source!r}: use synthetic or camera[:N]")
    camera: int | str = int(which) if which.isdigit() else (which or 0)
    return CameraSource(camera, width, height, fps)


def cmd_record(args: argparse.Namespace) -> int:
    duration = parse_time(args.duration)
    with acting_user(args) as session:
        case = find_session(session, args.session)
        with _source(args) as source:
            media_id, result = media.record(case, args.session, source, duration)
            problem = source.microphone_error() if isinstance(source, CameraSource) else ""
    if problem:
        print(f"warning: {problem}", file=sys.stderr)
    info = {"id": media_id, "session": args.session, **result.info()}
    emit(args.json, info, f"{media_id}: {float(result.duration):.1f} s recorded and sealed")
    return 0


def _progress(name: str) -> Any:
    if not sys.stderr.isatty():
        return None
    return lambda share: print(f"\r{name}: {share:5.1%}", end="", file=sys.stderr, flush=True)


def cmd_import(args: argparse.Namespace) -> int:
    imported = []
    with acting_user(args) as session:
        case = find_session(session, args.session)
        for name in args.files:
            media_id = media.import_file(case, args.session, Path(name), _progress(name))
            case.save()
            imported.append({"id": media_id, "file": name, **case.media.get(media_id).info})
    emit(
        args.json,
        {"imported": imported},
        "\n".join(
            f"{m['id']}  {m['file']}  {float(Fraction(m['duration'])):.1f} s" for m in imported
        ),
    )
    return 0


def cmd_media_info(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        record = case.media.get(args.media)
        case.save()
    info = {
        "id": record.id,
        "session": record.session,
        "kind": record.kind,
        **record.info,
    }
    emit(args.json, info, "\n".join(f"{k}: {v}" for k, v in info.items()))
    return 0


def cmd_media_recover(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        result = media.recover_media(case, args.media)
        case.save()
    emit(
        args.json,
        result,
        f"{args.media}: kept {result['duration']:.1f} s ({result['kept_bytes']} bytes), sealed",
    )
    return 0


def cmd_media_export(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        purpose = redacted.parse_export_purpose(args.purpose)
        result = redacted.export_copy(case, args.media, Path(args.out), purpose)
        case.save()
    whom = "for your own review only, NOTHING hidden" if purpose is None else purpose.value
    emit(
        args.json,
        result,
        f"wrote {args.out}: a PLAINTEXT copy ({whom}); hand it over "
        "and delete it from this computer",
    )
    return 0


def cmd_still(args: argparse.Namespace) -> int:
    with acting_user(args) as session:
        case = find_media(session, args.media)
        still_id = media.still(case, args.media, parse_time(args.at), args.caption)
        record = case.media.get(still_id)
        case.save()
    emit(args.json, {"id": still_id, **record.info}, still_id)
    return 0


def cmd_reel_render(args: argparse.Namespace) -> int:
    try:
        plan = ReelPlan.from_dict(json.loads(Path(args.plan).read_text(encoding="utf-8")))
    except json.JSONDecodeError as exc:
        raise CliExit(f"{args.plan} is not JSON ({exc})") from None
    with acting_user(args) as session:
        case = find_session(session, args.session)
        if args.draft and args.purpose:
            raise CliExit("a draft reel is for your own review; leave out --draft to render "
                          f"for {args.purpose}")  # fmt: skip
        if args.draft:
            reel_id = media.draft_reel(case, args.session, plan, _progress("reel"))
        else:
            purpose = parse_choice(Purpose, args.purpose, "purpose") if args.purpose else None
            reel_id = media.render_reel(case, args.session, plan, _progress("reel"),
                                        purpose=purpose)  # fmt: skip
        record = case.media.get(reel_id)
        case.save()
    emit(
        args.json,
        {"id": reel_id, **record.info},
        f"{reel_id}: {'draft ' if args.draft else ''}reel, {float(record.duration or 0):.1f} s",
    )
    return 0
