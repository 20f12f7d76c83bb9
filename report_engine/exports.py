"""Results and record lists as files: CSV in UTF-8 with a byte-order mark (so Excel opens
Chinese text as Chinese), and XLSX through openpyxl with number, currency, percent and date
formats and the totals row, so the figures stay figures in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from report_engine.presentation import lang

TOTAL = {"zh": "合计", "en": "Total"}
SUBTOTAL = {"zh": "小计", "en": "Subtotal"}
CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "JPY": "¥", "GBP": "£", "HKD": "HK$"}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class Sheet:
    """A result flattened to a header, typed columns and rows of values."""

    def __init__(
        self, header: list[str], types: list[dict[str, Any]], rows: list[list[Any]], total_rows: int = 0
    ):
        self.header = header
        self.types = types
        self.rows = rows
        #: how many rows at the end are totals (shown bold)
        self.total_rows = total_rows


def _measure_cells(columns: Sequence[dict[str, Any]], values: dict[str, Any]) -> list[Any]:
    return [values.get(c["name"]) for c in columns]


def flatten(result: dict[str, Any], locale: str) -> Sheet:
    """The result of any shape as one sheet."""
    language = lang(locale)
    columns = result.get("columns") or []
    shape = result.get("shape")
    dims = [c for c in columns if c["role"] == "dimension"]
    measures = [c for c in columns if c["role"] != "dimension"]
    rows: list[list[Any]] = []
    if shape == "matrix":
        header = [c["label"] for c in dims]
        types = [dict(c) for c in dims]
        for key in result["column_keys"]:
            for m in measures:
                header.append(f"{key['label']} {m['label']}")
                types.append(m)
        for m in measures:
            header.append(f"{TOTAL[language]} {m['label']}")
            types.append(m)
        for row in result["rows"]:
            line = [row.get(d["name"] + "@label") for d in dims]
            for key in result["column_keys"]:
                line += _measure_cells(measures, row["cells"].get(key["key"], {}))
            line += _measure_cells(measures, row["total"])
            rows.append(line)
        total_row: list[Any] = [TOTAL[language]] + [None] * (len(dims) - 1)
        for key in result["column_keys"]:
            total_row += _measure_cells(measures, key["total"])
        total_row += _measure_cells(measures, result["totals"])
        rows.append(total_row)
        return Sheet(header, types, rows, 1)
    if shape == "cohort":
        periods = int(result.get("periods", 0))
        header = [c["label"] for c in columns] + [f"+{a}" for a in range(periods)]
        types = list(columns) + [{"type": "percent"}] * periods
        for row in result["rows"]:
            rows.append([row["cohort@label"], row["size"], *(cell["retention"] for cell in row["cells"])])
        return Sheet(header, types, rows)
    header = [c["label"] for c in columns]
    types = list(columns)
    for row in result.get("rows", []):
        line = [row.get(d["name"] + "@label", row.get(d["name"])) for d in dims] + _measure_cells(
            measures, row
        )
        if row.get("_type") == "subtotal":
            line[max(int(row.get("_level", 1)) - 1, 0)] = (
                f"{line[max(int(row.get('_level', 1)) - 1, 0)]} {SUBTOTAL[language]}"
            )
        rows.append(line)
    totals = result.get("totals")
    if totals and shape != "kpi":
        total_line: list[Any] = [TOTAL[language]] + [None] * max(len(dims) - 1, 0)
        total_line = (total_line if dims else []) + _measure_cells(measures, totals)
        rows.append(total_line)
        return Sheet(header, types, rows, 1)
    return Sheet(header, types, rows)


def to_csv(sheet: Sheet) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(sheet.header)
    for row in sheet.rows:
        writer.writerow(["" if v is None else v for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _number_format(kind: dict[str, Any]) -> str | None:
    fmt = kind.get("type")
    scale = kind.get("scale")
    digits = "." + "0" * scale if scale else ""
    if fmt == "currency":
        symbol = CURRENCY_SYMBOLS.get(kind.get("currency") or "CNY", "")
        return f'"{symbol}"#,##0{digits}' if symbol else f"#,##0{digits}"
    if fmt == "percent":
        return "0.00%"
    if fmt == "integer":
        return "#,##0"
    if fmt == "number":
        return f"#,##0{digits}"
    if fmt == "date":
        return "yyyy-mm-dd"
    if fmt == "datetime":
        return "yyyy-mm-dd hh:mm:ss"
    return None


def _cell_value(value: Any, kind: dict[str, Any]) -> Any:
    fmt = kind.get("type")
    if value is None:
        return None
    if fmt in ("currency", "percent", "number", "integer") and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value
    if fmt == "date" and isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if fmt == "datetime" and isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
        except ValueError:
            return value
    return value


def to_xlsx(sheet: Sheet, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.worksheet import Worksheet

    book = Workbook()
    ws = book.active
    assert isinstance(ws, Worksheet)
    ws.title = (title or "report")[:31]
    ws.append(sheet.header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    formats = [_number_format(t) for t in sheet.types]
    first_total = len(sheet.rows) - sheet.total_rows
    for i, row in enumerate(sheet.rows):
        ws.append([_cell_value(v, sheet.types[j]) if j < len(sheet.types) else v for j, v in enumerate(row)])
        for j, cell in enumerate(ws[ws.max_row]):
            number_format = formats[j] if j < len(formats) else None
            if number_format and not isinstance(cell.value, str):
                cell.number_format = number_format
            if i >= first_total:
                cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(sheet: Sheet, fmt: str, title: str) -> bytes:
    return to_csv(sheet) if fmt == "csv" else to_xlsx(sheet, title)
