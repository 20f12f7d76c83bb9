"""Spreadsheet files as a header and rows of text: CSV in the encodings Chinese offices save
(UTF-8 with or without a byte-order mark, GB18030, UTF-16 from Excel's "Unicode text") and XLSX.

Cells come out as the text a person sees, so the field types' spreadsheet parsing
(``FieldType.parse_text``) judges them the same way whichever format they came in: an XLSX date
is ``2026-11-27``, a whole number ``12`` rather than ``12.0``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from engine.errors import InvalidInput

#: Tried in this order; a strict decode that fails moves on to the next.
ENCODINGS = ("utf-8-sig", "gb18030")
#: Whole files are read into memory: past this, split the file.
MAX_ROWS = 1_000_000


@dataclasses.dataclass(frozen=True)
class Table:
    """The first non-empty row as the header, then every row padded to the header's width."""

    header: list[str]
    rows: list[list[str]]
    encoding: str | None = None


def read_table(data: bytes, filename: str) -> Table:
    """Read a CSV or XLSX upload; the name's extension decides, the bytes confirm."""
    if filename.lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04":
        return _shaped(_xlsx_rows(data), None)
    text, encoding = decode(data)
    return _shaped(_csv_rows(text), encoding)


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in; 422 naming the encodings tried."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16"), "utf-16"
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InvalidInput("import_encoding", tried=", ".join(ENCODINGS))


def _csv_rows(text: str) -> Iterable[list[str]]:
    sample = text[: 64 * 1024]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(io.StringIO(text, newline=""), dialect)


def _xlsx_rows(data: bytes) -> Iterable[list[str]]:
    import openpyxl  # the import costs 100 ms: only for those who upload a workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InvalidInput("import_not_a_workbook", reason=str(exc)[:200]) from None
    sheet = book.worksheets[0]
    return ([cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True))


def cell_text(value: Any) -> str:
    """A workbook cell as the text a person sees in it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _shaped(rows: Iterable[list[str]], encoding: str | None) -> Table:
    header: list[str] | None = None
    body: list[list[str]] = []
    for row in rows:
        # blank: no cell with anything but whitespace (lines spreadsheets leave, not data)
        if header is None:
            if "".join(row).strip():
                header = [cell.strip() for cell in row]
            continue
        if not "".join(row).strip():
            continue
        if len(body) >= MAX_ROWS:
            raise InvalidInput("import_too_many_rows", limit=MAX_ROWS)
        width = len(header)
        body.append(row if len(row) == width else [*row[:width], *([""] * (width - len(row)))])
    if header is None:
        raise InvalidInput("import_empty_file")
    return Table(header, body, encoding)


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark: what Excel needs to open Chinese text correctly."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "Sheet1") -> bytes:
    """A workbook with typed cells: numbers stay numbers and dates dates in the spreadsheet."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Sheet1")
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value.as_tuple().exponent in range(-6, 1) else str(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # spreadsheets hold wall-clock times
    return value
