"""Annotation files other tools read and write: ELAN .eaf, CSV, WebVTT, JSON; BORIS import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..errors import InterchangeError
from ..model import Annotations, Moment
from .boris import from_boris_text
from .elan import from_eaf_text, to_eaf_text
from .formats import (
    from_csv_text,
    from_json_text,
    from_vtt_text,
    moment_fields,
    to_csv_text,
    to_json_text,
    to_vtt_text,
)

EXPORTERS: dict[str, Callable[[Annotations], str]] = {
    "eaf": to_eaf_text,
    "csv": to_csv_text,
    "vtt": to_vtt_text,
    "json": to_json_text,
}
IMPORTERS: dict[str, Callable[[str, Annotations], list[Moment]]] = {
    "eaf": from_eaf_text,
    "csv": from_csv_text,
    "vtt": from_vtt_text,
    "json": from_json_text,
}


def export_text(annotations: Annotations, fmt: str) -> str:
    try:
        return EXPORTERS[fmt](annotations)
    except KeyError:
        raise InterchangeError(
            f"unknown format {fmt!r}; use one of {', '.join(EXPORTERS)}"
        ) from None


def format_of(filename: str) -> str:
    """'eaf', 'csv', 'vtt' or 'json' by the file's ending; 'boris' for .tsv."""
    suffix = filename.rsplit(".", 1)[-1].lower()
    if suffix == "tsv":
        return "boris"
    if suffix in IMPORTERS:
        return suffix
    raise InterchangeError(f"{filename}: unknown file type; use .eaf, .csv, .tsv, .vtt or .json")


def import_text(text: str, filename: str, into: Annotations, coder: str) -> list[Moment]:
    """Moments read from a file, checked against ``into`` (times, codes), with ``coder`` set."""
    fmt = format_of(filename)
    if fmt == "csv" and not text.startswith("id,start") and "Behavior" in text[:4000]:
        fmt = "boris"  # BORIS's tabular export saved as .csv
    if fmt == "boris":
        if into.codebook is None:
            raise InterchangeError("a BORIS import needs the recording's codebook")
        moments = from_boris_text(text, into.fps, into.codebook, coder)
    else:
        moments = [replace(m, coder=coder) for m in IMPORTERS[fmt](text, into)]
    for moment in moments:
        into.check(moment)
    return moments


__all__ = [
    "EXPORTERS",
    "IMPORTERS",
    "export_text",
    "format_of",
    "from_boris_text",
    "from_csv_text",
    "from_eaf_text",
    "from_json_text",
    "from_vtt_text",
    "import_text",
    "moment_fields",
    "to_csv_text",
    "to_eaf_text",
    "to_json_text",
    "to_vtt_text",
]
