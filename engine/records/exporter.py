"""A list of records (its filter and sort) as a CSV or XLSX file a person opens in a spreadsheet.

Rows are read through the record service page by page, so the caller's scope and field rules
apply exactly as in the list: hidden fields are not columns, masked values stay masked. Cells
show what a person reads — option labels in the caller's language, the title of a linked
record, 是/否 — and, in a workbook, numbers and dates as numbers and dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import sqlalchemy as sa

from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.context import Context
from engine.errors import InvalidInput
from engine.messages import PHRASES, language
from engine.records.loader import readable_scope
from engine.records.service import RecordService
from engine.records.tabular import write_csv, write_xlsx
from form_engine import FieldDef, LookupConfig

Format = Literal["csv", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_PAGE = 1000
_NUMBERS = frozenset({"integer", "number", "currency", "percent", "rating", "formula", "rollup"})
_SKIPPED = frozenset({"sub_table", "many_to_many", "attachment", "image", "signature", "json"})


def export_records(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    fmt: str,
    *,
    filter: str | None = None,
    sort: str | None = None,
    q: str | None = None,
    columns: Sequence[str] | None = None,
) -> tuple[bytes, str]:
    """The file's bytes and its name (``entity-YYYYMMDD.csv``): the list as the caller sees it,
    with its keyword search ``q`` and, when ``columns`` names them, just those columns in that
    order (the columns a person chose in the list)."""
    if fmt not in MEDIA_TYPES:
        raise InvalidInput("export_format", format=fmt)
    with records.db.connect() as conn:
        runtime = records.runtime(conn, app)
    er = runtime.entity(entity)
    records.access.require(ctx, er, "export")
    lang = language(ctx.locale)
    first = records.list_records(ctx, app, entity, filter=filter, sort=sort, q=q, limit=_PAGE, offset=0)
    shown = records.to_json(ctx, app, entity, first.items)
    visible = set(shown[0]) if shown else _visible_fields(records, ctx, er)
    fields = [f for f in er.entity.fields if f.name in visible and f.type not in _SKIPPED]
    if columns:
        fields = _chosen(fields, columns)
    header = ["id", *[(f.label.zh if lang == "zh" else f.label.en) for f in fields]]

    def pages() -> Iterator[list[dict[str, Any]]]:
        yield shown
        offset = _PAGE
        while offset < first.total:
            page = records.list_records(
                ctx, app, entity, filter=filter, sort=sort, q=q, limit=_PAGE, offset=offset
            )
            yield records.to_json(ctx, app, entity, page.items)
            offset += _PAGE

    typed = fmt == "xlsx"

    def rows() -> Iterator[list[Any]]:
        for page in pages():
            titles = _titles(records, ctx, runtime, fields, page)
            for record in page:
                yield [record["id"], *[_cell(f, record.get(f.name), lang, titles, typed) for f in fields]]

    stamp = dt.date.today().strftime("%Y%m%d")
    if fmt == "csv":
        return write_csv(header, rows()), f"{entity}-{stamp}.csv"
    return write_xlsx(header, rows(), title=entity), f"{entity}-{stamp}.xlsx"


def _chosen(fields: list[FieldDef], columns: Sequence[str]) -> list[FieldDef]:
    """``columns`` in their order, each one of ``fields`` (the columns the caller may export);
    a name that is not one of them is refused, naming those that are, whether it does not exist
    or is hidden from the caller (which it must not learn)."""
    by_name = {f.name: f for f in fields}
    for name in columns:
        if name not in by_name:
            raise InvalidInput("export_column", name=name, columns=", ".join(by_name))
    return [by_name[name] for name in dict.fromkeys(columns)]


def _visible_fields(records: RecordService, ctx: Context, er: EntityRuntime) -> set[str]:
    """With no row to look at, the fields the caller's field plan shows."""
    empty = {f.name: None for f in er.entity.fields}
    return set(records.access.present(ctx, er, {"id": 0, **empty}))


def _titles(
    records: RecordService,
    ctx: Context,
    runtime: AppRuntime,
    fields: list[FieldDef],
    page: list[dict[str, Any]],
) -> dict[tuple[str, int], str]:
    """``(field, id) -> title`` of the records the page's lookups name, those the caller may read."""
    out: dict[tuple[str, int], str] = {}
    with records.db.connect() as conn:
        for f in fields:
            if f.type != "lookup":
                continue
            ids = {r[f.name] for r in page if isinstance(r.get(f.name), int)}
            target = runtime.entity(f.config_as(LookupConfig).entity)
            title = target.entity.title_field
            if not ids or title is None:
                continue
            query = sa.select(target.table.c.id, target.table.c[title]).where(target.table.c.id.in_(ids))
            scope = readable_scope(records.access, ctx, conn, target)
            if scope is not None:
                query = query.where(scope)
            for record_id, value in conn.execute(query):
                out[(f.name, record_id)] = "" if value is None else str(value)
    return out


def _cell(field: FieldDef, value: Any, lang: str, titles: dict[tuple[str, int], str], typed: bool) -> Any:
    if value is None:
        return None
    kind = field.type
    options = getattr(field.config, "options", None)
    if kind == "select" and options:
        return next(
            ((o.label.zh if lang == "zh" else o.label.en) for o in options if o.value == value), value
        )
    if kind == "multi_select" and options and isinstance(value, list):
        labels = {o.value: (o.label.zh if lang == "zh" else o.label.en) for o in options}
        return "、".join(str(labels.get(v, v)) for v in value)
    if kind == "lookup" and isinstance(value, int):
        return titles.get((field.name, value), value)
    if isinstance(value, bool):
        return PHRASES["yes" if value else "no"][lang]
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values() if v not in (None, ""))
    if typed and isinstance(value, str):
        return _typed(kind, value)
    return value


def _typed(kind: str, value: str) -> Any:
    """A workbook cell of the value's own type; masked or odd text stays text."""
    try:
        if kind in _NUMBERS:
            return Decimal(value)
        if kind == "date":
            return dt.date.fromisoformat(value)
        if kind in ("datetime", "created_at", "updated_at"):
            return dt.datetime.fromisoformat(value)
    except (InvalidOperation, ValueError):
        return value
    return value
