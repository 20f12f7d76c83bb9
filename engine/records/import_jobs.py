"""Stored imports: the file, its options and its progress in ``tg_imports``, so an import runs
in the background, reports how far it got, and resumes after a crash without writing a row twice.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from engine.clock import iso, utcnow
from engine.context import Context
from engine.errors import Conflict, NotFound, TangramError
from engine.messages import PHRASES, language
from engine.records.import_mapping import check_mapping, guess_mapping
from engine.records.importer import Importer, ImportOptions, ImportTally, RowError
from engine.records.service import RecordService
from engine.records.tabular import Table, read_table, write_csv
from engine.records.writer import WriteUnit
from engine.schema import system_tables as st

Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class Preview:
    """What an admin checks before importing: the columns, the guessed mapping, a few rows."""

    table: Table
    mapping: dict[str, str]

    def to_json(self, sample: int = 5) -> dict[str, Any]:
        return {
            "columns": self.table.header,
            "mapping": self.mapping,
            "rows": len(self.table.rows),
            "sample": self.table.rows[:sample],
            "encoding": self.table.encoding,
        }


def saved_mapping(conn: sa.Connection, app: str, entity: str) -> dict[str, str]:
    row = conn.execute(
        sa.select(st.import_mappings.c.mapping).where(
            st.import_mappings.c.app == app, st.import_mappings.c.entity == entity
        )
    ).first()
    return dict(row.mapping) if row is not None else {}


def save_mapping(
    conn: sa.Connection, ctx: Context, app: str, entity: str, mapping: Mapping[str, str]
) -> None:
    table = st.import_mappings
    conn.execute(table.delete().where(table.c.app == app, table.c.entity == entity))
    conn.execute(
        table.insert().values(
            app=app, entity=entity, mapping=dict(mapping), updated_at=utcnow(), updated_by=ctx.user_id
        )
    )


def preview(records: RecordService, app: str, entity: str, content: bytes, filename: str) -> Preview:
    table = read_table(content, filename)
    with records.db.connect() as conn:
        er = records.runtime(conn, app).entity(entity)
        mapping = guess_mapping(er.entity, table.header, saved_mapping(conn, app, entity))
    return Preview(table, mapping)


def create_import(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    content: bytes,
    filename: str,
    *,
    mapping: Mapping[str, str] | None = None,
    on_duplicate: str = "skip",
    batch_size: int | None = None,
) -> int:
    """Check the file and the mapping, then store the import (nothing written yet)."""
    found = preview(records, app, entity, content, filename)
    chosen = dict(mapping) if mapping is not None else found.mapping
    with records.db.begin() as conn:
        er = records.runtime(conn, app).entity(entity)
        records.access.require(ctx, er, "import")
        check_mapping(er.entity, found.table.header, chosen)
        Importer(found.table, _options(chosen, on_duplicate, batch_size))  # refuses a bad policy
        save_mapping(conn, ctx, app, entity, chosen)
        now = utcnow()
        options = {"mapping": chosen, "on_duplicate": on_duplicate, "batch_size": batch_size}
        return int(
            conn.execute(
                st.imports.insert()
                .values(
                    app=app,
                    entity=entity,
                    created_by=ctx.user_id,
                    created_at=now,
                    updated_at=now,
                    status="pending",
                    filename=filename[:255],
                    content=content,
                    options=options,
                    total_rows=len(found.table.rows),
                    next_row=0,
                    tally=dataclasses.asdict(ImportTally()),
                )
                .returning(st.imports.c.id)
            ).scalar_one()
        )


def _options(
    mapping: Mapping[str, str], on_duplicate: str, batch_size: int | None, dry_run: bool = False
) -> ImportOptions:
    return ImportOptions(
        mapping=dict(mapping),
        on_duplicate=on_duplicate,  # type: ignore[arg-type]  # Importer refuses other values
        batch_size=batch_size or ImportOptions.batch_size,
        dry_run=dry_run,
    )


def dry_run(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    content: bytes,
    filename: str,
    *,
    mapping: Mapping[str, str] | None = None,
    on_duplicate: str = "skip",
    progress: Progress | None = None,
) -> tuple[ImportTally, list[RowError]]:
    """Every batch checked as it would be written, then rolled back: what would be created,
    updated and skipped, and every row that would fail."""
    found = preview(records, app, entity, content, filename)
    chosen = dict(mapping) if mapping is not None else found.mapping
    with records.db.connect() as conn:
        check_mapping(records.runtime(conn, app).entity(entity).entity, found.table.header, chosen)
    importer = Importer(found.table, _options(chosen, on_duplicate, None, dry_run=True))
    total = ImportTally()
    errors: list[RowError] = []
    start = 0
    while start < len(found.table.rows):
        tally, failed = importer.run_batch(_writer(records, ctx, app), entity, start)
        total.add(tally)
        errors += failed
        start += importer.options.batch_size
        if progress is not None:
            progress(min(start, len(found.table.rows)), len(found.table.rows))
    return total, errors


def _writer(records: RecordService, ctx: Context, app: str) -> Any:
    return lambda work, options: records.write(ctx, app, work, options=options)


def run_import(
    records: RecordService, ctx: Context, import_id: int, progress: Progress | None = None
) -> dict[str, Any]:
    """Run (or resume) a stored import from its progress mark to the end."""
    with records.db.begin() as conn:
        row = _load(conn, import_id)
        if row.status == "done":
            raise Conflict("import_finished", import_id=import_id)
        conn.execute(_set(import_id, status="running"))
    options = row.options
    table = read_table(row.content, row.filename)
    importer = Importer(
        table, _options(options["mapping"], options["on_duplicate"], options.get("batch_size"))
    )
    tally = ImportTally(**row.tally)
    start = row.next_row

    def mark(unit: WriteUnit, next_row: int, batch: ImportTally) -> None:
        moved = dataclasses.replace(tally)
        moved.add(batch)
        unit.conn.execute(_set(import_id, next_row=next_row, tally=dataclasses.asdict(moved)))

    written = 0
    try:
        while start < len(table.rows):
            batch, failed = importer.run_batch(_writer(records, ctx, row.app), row.entity, start, mark)
            tally.add(batch)
            written += 1
            if written & (written - 1) == 0:  # after batch 1, 2, 4, 8, ...
                refresh_statistics(records, row.app, row.entity)
            if failed:
                with records.db.begin() as conn:
                    _store_errors(conn, import_id, failed, ctx.locale)
            start = min(start + importer.options.batch_size, len(table.rows))
            if progress is not None:
                progress(start, len(table.rows))
    except TangramError as exc:
        with records.db.begin() as conn:
            error = {"code": exc.code, "message": exc.message(ctx.locale), "row": start + 2}
            conn.execute(_set(import_id, status="failed", error=error))
        raise
    with records.db.begin() as conn:
        conn.execute(
            _set(import_id, status="done", next_row=len(table.rows), tally=dataclasses.asdict(tally))
        )
        return import_json(_load(conn, import_id))


def refresh_statistics(records: RecordService, app: str, entity: str) -> None:
    """Let PostgreSQL's planner see the rows an import has added so far. A table that grows from
    nothing in one import has no statistics until autovacuum comes round (a minute or more),
    and without them the planner reads the whole table for each batch's duplicate-key lookup;
    analysing as the import doubles the rows it wrote keeps those lookups on their index.
    Its own short transaction: ANALYZE's lock must not be held across a batch."""
    with records.db.begin() as conn:
        if conn.dialect.name != "postgresql":
            return
        table = records.runtime(conn, app).entity(entity).table.name
        conn.exec_driver_sql(f"ANALYZE {conn.dialect.identifier_preparer.quote(table)}")


def _store_errors(conn: sa.Connection, import_id: int, failed: list[RowError], locale: str) -> None:
    lang = language(locale)
    conn.execute(
        st.import_errors.delete().where(
            st.import_errors.c.import_id == import_id, st.import_errors.c.row.in_([e.row for e in failed])
        )
    )
    conn.execute(
        st.import_errors.insert(),
        [
            {
                "import_id": import_id,
                "row": e.row,
                "cells": e.cells,
                "problems": [p.to_dict(lang) for p in e.problems],
            }
            for e in failed
        ],
    )


def _set(import_id: int, **values: Any) -> sa.Update:
    return st.imports.update().where(st.imports.c.id == import_id).values(updated_at=utcnow(), **values)


def _load(conn: sa.Connection, import_id: int) -> Any:
    row = conn.execute(sa.select(st.imports).where(st.imports.c.id == import_id)).first()
    if row is None:
        raise NotFound("import_not_found", import_id=import_id)
    return row


def load_import(conn: sa.Connection, ctx: Context, import_id: int) -> dict[str, Any]:
    """The import as its creator or an admin sees it (others: 404, as if it did not exist)."""
    row = _load(conn, import_id)
    if not _may_see(ctx, row):
        raise NotFound("import_not_found", import_id=import_id)
    return import_json(row)


def _may_see(ctx: Context, row: Any) -> bool:
    return ctx.is_system or (ctx.user is not None and ctx.user.is_admin) or row.created_by == ctx.user_id


def import_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "app": row.app,
        "entity": row.entity,
        "status": row.status,
        "filename": row.filename,
        "total_rows": row.total_rows,
        "processed_rows": row.next_row,
        "tally": row.tally,
        "error": row.error,
        "options": row.options,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
    }


def row_errors(conn: sa.Connection, import_id: int) -> list[RowError]:
    """The refused rows of an import with their problems (as stored: JSON with messages)."""
    found = conn.execute(
        sa.select(st.import_errors)
        .where(st.import_errors.c.import_id == import_id)
        .order_by(st.import_errors.c.row)
    ).all()
    return [RowError(f.row, f.cells, f.problems) for f in found]


def error_file(conn: sa.Connection, ctx: Context, import_id: int) -> bytes:
    """The refused rows as they were in the file, with an errors column: fix and import again."""
    row = _load(conn, import_id)
    if not _may_see(ctx, row):
        raise NotFound("import_not_found", import_id=import_id)
    table = read_table(row.content, row.filename)
    failed = conn.execute(
        sa.select(st.import_errors)
        .where(st.import_errors.c.import_id == import_id)
        .order_by(st.import_errors.c.row)
    ).all()
    column = PHRASES["import.errors_column"][language(ctx.locale)]
    lines = [[*f.cells, "; ".join(_where(p) for p in f.problems)] for f in failed]
    return write_csv([*table.header, column], lines)


def _where(found: Mapping[str, Any]) -> str:
    pointer = str(found.get("pointer") or "").strip("/")
    return f"{pointer}: {found['message']}" if pointer else str(found["message"])
