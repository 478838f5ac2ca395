"""moments add|list|export|import, agreement, codebook list|show|add."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from annotations import Codebook, Moment, load_codebook
from annotations.agreement import compare
from annotations.codebook import merged_codebook
from annotations.commands import AddMoment
from annotations.interchange import (
    ImportOptions,
    LabelMap,
    decode_text,
    export_text,
    is_spreadsheet,
    parse_label_map,
    plan_import,
    read_file,
    spreadsheet_as_tsv,
    unwrap_gzip,
)
from annotations.interchange.plan import Outside
from annotations.model import new_id
from annotations.timebase import format_clock, parse_time, snap
from videofeedback.exports import plaintext_export
from videofeedback.library import Action, Library
from videofeedback.library.annotating import (
    AnnotationSession,
    add_codebook,
    codebooks,
    for_export,
    open_annotations,
    require_no_orphans,
    set_case_codebook,
)
from videofeedback.library.media_records import find_media

from .library_commands import acting_user, library_folder
from .output import CliExit, emit


@contextlib.contextmanager
def annotating(args: argparse.Namespace) -> Iterator[AnnotationSession]:
    """The recording's annotations; the case is saved if the command succeeds."""
    with acting_user(args) as session:
        case = find_media(session, args.media)
        work = open_annotations(case, args.media)
        yield work
        case.save()


def moment_json(m: Moment) -> dict[str, Any]:
    return {
        **m.to_dict(),
        "start_seconds": float(m.start),
        "end_seconds": None if m.end is None else float(m.end),
    }


def register(commands: Any) -> None:
    moments = commands.add_parser("moments", help="moments on a recording")
    actions = moments.add_subparsers(dest="m_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a moment")
    add.add_argument("media")
    add.add_argument("--start", required=True, help="seconds (12.5) or mm:ss.ms")
    add.add_argument("--end", help="seconds; leave out for a point")
    add.add_argument("--code", action="append", default=[], help="a code id from the codebook")
    add.add_argument("--caption", default="", help="strength-based words for the parent")
    add.add_argument("--note", default="", help="a private practitioner note")
    add.set_defaults(handler=cmd_moments_add)
    listing = actions.add_parser("list", help="list the moments")
    listing.add_argument("media")
    listing.add_argument("--coder", help="only this coder's moments")
    listing.set_defaults(handler=cmd_moments_list)
    export = actions.add_parser("export", help="write the moments for another tool (plaintext)")
    export.add_argument("media")
    export.add_argument("--format", required=True, choices=["eaf", "csv", "vtt", "json"])
    export.add_argument("--out", required=True)
    export.add_argument(
        "--include-private-notes",
        action="store_true",
        help="also write the practitioners' private notes (practitioners only)",
    )
    export.set_defaults(handler=cmd_moments_export)
    imp = actions.add_parser("import", help="read moments from ELAN, BORIS, WebVTT, CSV or JSON")
    imp.add_argument("media")
    imp.add_argument("file")
    imp.add_argument("--coder", required=True, help="whose coding this is")
    _import_options(imp)
    imp.set_defaults(handler=cmd_moments_import)

    agreement = commands.add_parser("agreement", help="agreement between two coders (kappa)")
    agreement.add_argument("media")
    agreement.add_argument("--coder", action="append", required=True)
    agreement.add_argument("--unit", default="1", help="time unit in seconds (default 1)")
    agreement.set_defaults(handler=cmd_agreement)

    codebook = commands.add_parser("codebook", help="codebooks")
    book_actions = codebook.add_subparsers(dest="cb_command", required=True, metavar="ACTION")
    book_actions.add_parser("list", help="list codebooks").set_defaults(handler=cmd_codebook_list)
    show = book_actions.add_parser("show", help="show a codebook")
    show.add_argument("codebook")
    show.set_defaults(handler=cmd_codebook_show)
    add_book = book_actions.add_parser("add", help="add a codebook from a JSON or TOML file")
    add_book.add_argument("file")
    add_book.set_defaults(handler=cmd_codebook_add)


def _import_options(imp: argparse.ArgumentParser) -> None:
    labels = imp.add_mutually_exclusive_group()
    labels.add_argument("--map", metavar="FILE", help="CSV 'tier,label,code': labels to codes")
    labels.add_argument(
        "--new-codebook", metavar="NAME", help="bring the file's scheme in as a new codebook"
    )
    imp.add_argument(
        "--keep-labels", action="store_true", help="keep unmapped labels as text in the note"
    )
    imp.add_argument("--offset", default="0", help="seconds added to every time (may be < 0)")
    outside = imp.add_mutually_exclusive_group()
    outside.add_argument("--clip", action="store_true", help="keep the part inside the recording")
    outside.add_argument("--skip", action="store_true", help="leave out moments outside it")
    imp.add_argument("--encoding", help="the file's encoding when it has no BOM (e.g. cp1252)")
    imp.add_argument("--observation", help="which observation of a BORIS file")
    imp.add_argument(
        "--dry-run", action="store_true", help="report what would be imported; store nothing"
    )


def _time(text: str, fps: Fraction) -> Fraction:
    return snap(parse_time(text), fps)


def cmd_moments_add(args: argparse.Namespace) -> int:
    with annotating(args) as work:
        work.require_change()
        fps = work.annotations.fps
        end = None if args.end is None else _time(args.end, fps)
        moment = work.editor.add_moment(
            _time(args.start, fps), end, tuple(args.code), args.caption, args.note
        )
        work.case.audit("moment.add", moment.id, media=args.media)
        work.save()
    emit(args.json, moment_json(moment), moment.id)
    return 0


def cmd_moments_list(args: argparse.Namespace) -> int:
    with annotating(args) as work:
        moments = work.annotations.moments
        if args.coder:
            moments = [m for m in moments if m.coder == args.coder]
    lines = [f"{m.id}  {m.label():<22} {','.join(m.codes):<30} {m.caption}" for m in moments]
    emit(
        args.json,
        {"media": args.media, "moments": [moment_json(m) for m in moments]},
        "\n".join(lines) or "no moments",
    )
    return 0


def cmd_moments_export(args: argparse.Namespace) -> int:
    with annotating(args) as work:
        notes = args.include_private_notes
        text = export_text(for_export(work, notes), args.format)
        detail = {"format": args.format, "notes": "yes" if notes else "no"}
        with plaintext_export(
            work.case, Path(args.out), "annotations.export", args.media, **detail
        ) as out:
            out.write(text.encode("utf-8"))
    emit(
        args.json,
        {"media": args.media, "format": args.format, "out": args.out},
        f"wrote {len(work.annotations.moments)} moments to {args.out} (plaintext: keep it safe)",
    )
    return 0


def _options(args: argparse.Namespace) -> ImportOptions:
    label_map = LabelMap()
    if args.map:
        map_path = Path(args.map)
        label_map = parse_label_map(
            decode_text(map_path.read_bytes(), map_path.name), map_path.name
        )
    try:
        offset = Fraction(args.offset.strip())
    except (ValueError, ZeroDivisionError):
        raise CliExit(f"--offset {args.offset!r} is not seconds (e.g. 12.5 or -3)") from None
    outside: Outside = "clip" if args.clip else "skip" if args.skip else "refuse"
    return ImportOptions(
        args.coder, label_map, args.keep_labels, args.new_codebook, offset, outside
    )


def _report_lines(report: dict[str, Any]) -> list[str]:
    lines = [f"{report['moments']} moments from {report['entries']} entries ({report['format']})"]
    lines += [f"  mapped   {label} -> {code}" for label, code in report["mapped"].items()]
    lines += [f"  as text  {label} ({n})" for label, n in report["kept_as_text"].items()]
    lines += [f"  unmapped {label} ({n})" for label, n in report["unmapped"].items()]
    lines += [f"  not kept: {loss}" for loss in report["lost"]]
    if report["outside_recording"]:
        lines.append(
            f"  outside the recording: {report['outside_recording']} "
            f"({report['outside_action']}: {report['clipped']} clipped, "
            f"{report['skipped_outside']} skipped)"
        )
    lines += [f"  problem: {p}" for p in report["problems"]]
    return lines


def cmd_moments_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    data, name = unwrap_gzip(path.read_bytes(), path.name)
    if is_spreadsheet(name):  # BORIS's XLSX export: its first sheet, as BORIS's TSV
        data, name = spreadsheet_as_tsv(data, name)
    text = decode_text(data, name, args.encoding)
    options = _options(args)
    with annotating(args) as work:
        work.require_import(args.coder)
        found = read_file(text, name, work.annotations, options.label_map, args.observation)
        plan = plan_import(found, work.annotations, options)
        report = plan.report(options.outside)
        if args.dry_run:
            preview = [moment_json(m) for m in plan.moments]
            emit(
                args.json,
                {"media": args.media, "dry_run": True, **report, "would_import": preview},
                "\n".join(_report_lines(report)),
            )
            return 0
        plan.require_ready(options.outside)
        book = None if plan.new_codebook is None else _checked_codebook(work, plan.new_codebook)
        if report["lost"] and not args.json:  # said before anything is stored
            print("\n".join(f"not kept: {loss}" for loss in report["lost"]), file=sys.stderr)
        if book is not None:
            _adopt_codebook(work, book)
        added = _store(work, plan.moments, args.coder)
    emit(
        args.json,
        {"media": args.media, "imported": added, **report},
        f"imported {len(added)} moments",
    )
    return 0


def _checked_codebook(work: AnnotationSession, book: Codebook) -> Codebook:
    """The file's scheme as the case's next codebook (merged into a library codebook of that
    id): refused if the user may not annotate or the case's moments use codes it lacks."""
    work.case.require(Action.ANNOTATE)
    existing = codebooks(work.case.session.library).get(book.id)
    if existing is not None:
        book = merged_codebook(existing, book)
    require_no_orphans(work.case, book)
    return book


def _adopt_codebook(work: AnnotationSession, book: Codebook) -> None:
    add_codebook(work.case.session.library, work.case.session, book)
    set_case_codebook(work.case, book.id)
    work.annotations.codebook = book


def _store(work: AnnotationSession, moments: list[Moment], coder: str) -> list[str]:
    existing = {m.id for m in work.annotations.moments}
    added = []
    for moment in moments:
        if moment.id in existing:  # the same file imported again, or another coder's ids
            moment = replace(moment, id=new_id("mo"))
        work.editor.stack.push(AddMoment(moment))
        added.append(moment.id)
    work.case.audit(
        "annotations.import", work.annotations.media_id, coder=coder, count=str(len(added))
    )
    work.save()
    return added


def cmd_agreement(args: argparse.Namespace) -> int:
    if len(args.coder) != 2:
        raise CliExit("name exactly two coders: --coder A --coder B")
    with annotating(args) as work:
        model = work.annotations
        if model.duration is None:
            raise CliExit("the recording's duration is unknown, so agreement cannot be computed")
        a, b = (model.by_coder(c) for c in args.coder)
        for coder, moments in zip(args.coder, (a, b), strict=True):
            if not moments:
                raise CliExit(f"{coder} has coded nothing on {args.media}")
        report = compare(a, b, model.duration, parse_time(args.unit), *args.coder)
        work.case.audit("agreement", args.media)
    lines = [
        f"kappa {report.kappa:.3f}, agreement {report.agreement:.1%} over {report.units} units"
    ]
    lines += [
        f"  {c.code:<28} kappa {c.kappa:6.3f}  ({c.units_a} / {c.units_b} units)"
        for c in report.per_code
    ]
    lines += [f"  only {report.coder_a}: {m.id} {format_clock(m.start)}" for m in report.only_a]
    lines += [f"  only {report.coder_b}: {m.id} {format_clock(m.start)}" for m in report.only_b]
    emit(args.json, report.to_dict(), "\n".join(lines))
    return 0


def cmd_codebook_list(args: argparse.Namespace) -> int:
    books = codebooks(Library(library_folder(args)))
    rows = [{"id": b.id, "name": b.name, "codes": len(b.codes())} for b in books.values()]
    emit(args.json, {"codebooks": rows}, "\n".join(f"{r['id']:<12} {r['name']}" for r in rows))
    return 0


def cmd_codebook_show(args: argparse.Namespace) -> int:
    books = codebooks(Library(library_folder(args)))
    if args.codebook not in books:
        raise CliExit(f"no codebook {args.codebook!r}; see 'videofeedback codebook list'")
    book = books[args.codebook]
    lines = [book.name]
    for category in book.categories:
        lines.append(f"  {category.label} ({category.colour})")
        lines += [f"    {c.key or ' '}  {c.id:<28} {c.label}" for c in category.codes]
    emit(args.json, book.to_dict(), "\n".join(lines))
    return 0


def cmd_codebook_add(args: argparse.Namespace) -> int:
    book = load_codebook(args.file)
    with acting_user(args) as session:
        add_codebook(session.library, session, book)
    emit(args.json, {"id": book.id, "codes": len(book.codes())}, f"added codebook {book.id}")
    return 0
