"""Annotation files other tools read and write: ELAN .eaf, BORIS, CSV, WebVTT, JSON.

Reading is in two steps: ``read_file`` turns a file into entries with labels (what the file
says, in its own scheme), and ``plan.plan_import`` maps the labels to codes, applies an
offset and the recording's bounds, and reports what is kept, mapped, skipped or lost.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InterchangeError
from ..model import Annotations, Moment
from .boris import is_boris_export, parse_boris_export, parse_boris_project
from .elan import to_eaf_text
from .elan_read import parse_eaf
from .formats import (
    from_csv_text,
    from_json_text,
    from_vtt_text,
    moment_fields,
    to_csv_text,
    to_json_text,
    to_vtt_text,
    vtt_entries,
)
from .imported import Entry, ImportedFile, Label
from .plan import ImportOptions, ImportPlan, LabelMap, parse_label_map, plan_import
from .spreadsheet import is_spreadsheet, spreadsheet_as_tsv
from .srt import parse_srt
from .textcodec import decode_text, unwrap_gzip

EXPORTERS: dict[str, Callable[[Annotations], str]] = {
    "eaf": to_eaf_text,
    "csv": to_csv_text,
    "vtt": to_vtt_text,
    "json": to_json_text,
}
READABLE = (".eaf", ".boris", ".csv", ".tsv", ".txt", ".vtt", ".srt", ".json")


def export_text(annotations: Annotations, fmt: str) -> str:
    try:
        return EXPORTERS[fmt](annotations)
    except KeyError:
        raise InterchangeError(
            f"unknown format {fmt!r}; use one of {', '.join(EXPORTERS)}"
        ) from None


def format_of(filename: str, text: str = "") -> str:
    """'eaf', 'boris', 'boris-export', 'csv', 'vtt', 'srt' or 'json', by ending and content."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in (".xls", ".ods"):
        raise InterchangeError(
            f"{filename}: only XLSX spreadsheets are read; save it as XLSX, TSV or CSV"
        )
    if suffix in (".xlsx", ".xlsm"):
        raise InterchangeError(f"{filename}: read it with spreadsheet_as_tsv first")
    if suffix not in READABLE:
        raise InterchangeError(f"{filename}: unknown file type; use {', '.join(READABLE)}")
    if suffix in (".csv", ".tsv", ".txt"):
        return "boris-export" if is_boris_export(text) else "csv"
    return suffix[1:]


def _from_moments(fmt: str, moments: list[Moment]) -> ImportedFile:
    return ImportedFile(
        fmt,
        [
            Entry(
                m.start,
                m.end,
                caption=m.caption,
                note=m.note,
                translations=m.translations,
                source_id=m.id,
                codes=m.codes,
                coder=m.coder,
            )
            for m in moments
        ],
    )


def read_file(
    text: str,
    filename: str,
    into: Annotations,
    label_map: LabelMap | None = None,
    observation: str | None = None,
) -> ImportedFile:
    """What the file holds, in its own terms (nothing mapped, nothing checked yet)."""
    fmt = format_of(filename, text)
    if fmt == "eaf":
        book, mapping = into.codebook, label_map or LabelMap()

        def is_code(value: str) -> bool:
            mapped = mapping.by_label.get(value.casefold())
            return (book is not None and book.find(value) is not None) or (
                mapped is not None and not mapped.startswith("@")
            )

        return parse_eaf(text, label_map, is_code)
    if fmt == "boris":
        return parse_boris_project(text, observation)
    if fmt == "boris-export":
        return parse_boris_export(text, observation)
    if fmt == "vtt":
        return vtt_entries(text)
    if fmt == "srt":
        return parse_srt(text)
    reader = from_json_text if fmt == "json" else from_csv_text
    return _from_moments(fmt, reader(text, into))


def import_text(
    text: str, filename: str, into: Annotations, coder: str, options: ImportOptions | None = None
) -> list[Moment]:
    """Moments read from a file, mapped and checked against ``into``, with ``coder`` set."""
    options = options or ImportOptions(coder)
    found = read_file(text, filename, into, options.label_map)
    plan = plan_import(found, into, options)
    plan.require_ready(options.outside)
    for moment in plan.moments:
        into.check(moment)
    return plan.moments


__all__ = [
    "EXPORTERS",
    "Entry",
    "ImportOptions",
    "ImportPlan",
    "ImportedFile",
    "Label",
    "LabelMap",
    "decode_text",
    "is_spreadsheet",
    "spreadsheet_as_tsv",
    "unwrap_gzip",
    "export_text",
    "format_of",
    "from_csv_text",
    "from_json_text",
    "from_vtt_text",
    "import_text",
    "moment_fields",
    "parse_label_map",
    "plan_import",
    "read_file",
    "to_csv_text",
    "to_eaf_text",
    "to_json_text",
    "to_vtt_text",
]
