"""The keyword-search index of an entity table, kept in step with the table by the database.

The tokens live in the table's hidden ``_search`` column, written by the record write step that
computes them (``engine.records.steps.SearchKeys``); the index over them is the database's own:

- SQLite: an FTS5 *external-content* table ``<table>__fts`` over ``_search`` (``detail=none``:
  only which rows hold a token; ``columnsize=0``: no per-row token count, which only ranking
  reads and we do not rank; a write less per row, a sixth off an import's index upkeep),
  maintained by three triggers on the record table, so every insert, update and delete of a row
  (whatever issued it) updates the index in the same transaction.
- PostgreSQL: a GIN index on ``string_to_array(_search, ' ')``, answering ``@>`` (holds all
  these tokens).
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from engine.schema.search_text import PINYIN_COLUMN, SEARCH_COLUMN, search_values
from form_engine import EntityDef

#: Rows recomputed per round trip when a definition change refills the search columns.
_CHUNK = 2000


def search_columns() -> list[sa.Column[Any]]:
    """The hidden columns every record table has."""
    return [
        sa.Column(SEARCH_COLUMN, sa.Text, nullable=True),
        sa.Column(PINYIN_COLUMN, sa.Text, nullable=True),
    ]


def fts_table_name(table: str) -> str:
    return f"{table}__fts"


def gin_index_name(table: str) -> str:
    """Not ``ix_``/``ux_``: the definition's own index sync leaves it alone."""
    return f"sx_{hashlib.sha1(table.encode()).hexdigest()[:16]}"


def _sqlite_statements(table: str, quote: Any) -> list[str]:
    t, fts, col = quote(table), quote(fts_table_name(table)), SEARCH_COLUMN
    fts_name = fts_table_name(table).replace("'", "''")
    content = table.replace("'", "''")
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({col}, content='{content}', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0)",
        f"CREATE TRIGGER IF NOT EXISTS {quote(table + '__fts_ai')} AFTER INSERT ON {t} BEGIN "
        f"INSERT INTO {fts}(rowid, {col}) VALUES (new.id, new.{col}); END",
        f"CREATE TRIGGER IF NOT EXISTS {quote(table + '__fts_ad')} AFTER DELETE ON {t} BEGIN "
        f"INSERT INTO {fts}({quote(fts_name)}, rowid, {col}) VALUES ('delete', old.id, old.{col}); END",
        f"CREATE TRIGGER IF NOT EXISTS {quote(table + '__fts_au')} AFTER UPDATE OF {col} ON {t} BEGIN "
        f"INSERT INTO {fts}({quote(fts_name)}, rowid, {col}) VALUES ('delete', old.id, old.{col}); "
        f"INSERT INTO {fts}(rowid, {col}) VALUES (new.id, new.{col}); END",
    ]


def create_search_index(conn: sa.Connection, table: str) -> None:
    """Create the index (and on SQLite its triggers) for ``table``; an existing one is kept."""
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "sqlite":
        for statement in _sqlite_statements(table, quote):
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {quote(gin_index_name(table))} ON {quote(table)} "
            f"USING gin (string_to_array({SEARCH_COLUMN}, ' '))"
        )


def drop_search_index(conn: sa.Connection, table: str) -> None:
    """Remove what :func:`create_search_index` made; call before dropping a record table (the
    FTS5 table is not dropped with it on SQLite)."""
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "sqlite":
        for suffix in ("ai", "ad", "au"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {quote(f'{table}__fts_{suffix}')}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(fts_table_name(table))}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {quote(gin_index_name(table))}")


def attach_search_index(table: sa.Table) -> None:
    """Create the search index whenever ``table`` itself is created (a new entity)."""

    def after_create(target: sa.Table, connection: sa.Connection, **_: Any) -> None:
        create_search_index(connection, target.name)

    sa.event.listen(table, "after_create", after_create)


def has_search_columns(conn: sa.Connection, table: str) -> bool:
    return SEARCH_COLUMN in {c["name"] for c in sa.inspect(conn).get_columns(table)}


def add_search_columns(conn: sa.Connection, table: str) -> None:
    """Give a table made before keyword search its hidden columns and index (then refill them)."""
    quote = conn.dialect.identifier_preparer.quote
    text_type = sa.Text().compile(dialect=conn.dialect)
    for name in (SEARCH_COLUMN, PINYIN_COLUMN):
        conn.exec_driver_sql(f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} {text_type}")
    create_search_index(conn, table)


def refill_search_values(conn: sa.Connection, table: sa.Table, entity: EntityDef) -> int:
    """Recompute every row's search columns (the definition of what is searched changed).
    The index follows through its triggers (SQLite) or by itself (PostgreSQL)."""
    columns = [c for c in table.c if c.name not in (SEARCH_COLUMN, PINYIN_COLUMN)]
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("_id"))
        .values({SEARCH_COLUMN: sa.bindparam("_s"), PINYIN_COLUMN: sa.bindparam("_p")})
    )
    done, last = 0, 0
    while True:
        rows = (
            conn.execute(sa.select(*columns).where(table.c.id > last).order_by(table.c.id).limit(_CHUNK))
            .mappings()
            .all()
        )
        if not rows:
            return done
        updates = []
        for row in rows:
            values = search_values(entity, dict(row))
            updates.append({"_id": row["id"], "_s": values[SEARCH_COLUMN], "_p": values[PINYIN_COLUMN]})
        conn.execute(statement, updates)
        done, last = done + len(rows), rows[-1]["id"]
