"""BORIS's XLSX exports, read as the TSV BORIS writes for the same table.

BORIS writes its tabular and aggregated event exports to XLSX through openpyxl; we read the
first worksheet with openpyxl (read-only, values only: no formulas are evaluated) and hand
its rows to the TSV reader, so both layouts are parsed by one piece of code.
"""

from __future__ import annotations

import io
import zipfile

from ..errors import InterchangeError

MAX_CELLS = 5_000_000  # a crafted sheet cannot fill the memory
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")


def is_spreadsheet(name: str) -> bool:
    return name.lower().endswith(SPREADSHEET_SUFFIXES)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\t", " ").replace("\r", " ").replace("\n", " ")


def spreadsheet_as_tsv(data: bytes, name: str) -> tuple[bytes, str]:
    """The first sheet of an XLSX file as UTF-8 TSV, and a name ending in .tsv."""
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a dependency of the package
        raise InterchangeError(f"{name}: reading XLSX needs openpyxl; export as TSV") from None
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InterchangeError(f"{name} is not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        lines, cells = [], 0
        for row in sheet.iter_rows(values_only=True):
            cells += len(row)
            if cells > MAX_CELLS:
                raise InterchangeError(f"{name} has more than {MAX_CELLS:,} cells; not read")
            lines.append("\t".join(_cell(value) for value in row).rstrip("\t"))
    finally:
        book.close()
    return ("\n".join(lines) + "\n").encode(), name.rsplit(".", 1)[0] + ".tsv"
