"""Opening the database: one SQLAlchemy engine, tuned per backend."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

import rule_engine
from engine.schema import system_tables


def create_database_engine(url: str, *, echo: bool = False) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, NORMAL sync and a busy timeout."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        engine = sa.create_engine(parsed, **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs["pool_pre_ping"] = True
    return sa.create_engine(parsed, **kwargs)


def _tune_sqlite(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN; we issue it ourselves so that
        # DDL joins the transaction and a failed migration rolls back whole.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        _install_rule_functions(dbapi_connection)

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    # ``engine.begin()`` is how the kernel opens every write transaction. On SQLite it takes
    # the write lock up front (BEGIN IMMEDIATE): a second writer then waits for the busy
    # timeout instead of failing when its read snapshot cannot be upgraded. Reads
    # (``engine.connect()``) stay deferred, so WAL readers never wait.
    engine.begin = functools.partial(_begin_for_write, engine)  # type: ignore[method-assign]


_WRITE_OPTION = "tangram_write"


@contextmanager
def _begin_for_write(engine: sa.Engine) -> Iterator[sa.Connection]:
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE_OPTION: True})
        with conn.begin():
            yield conn


def _install_rule_functions(dbapi_connection: Any) -> None:
    """SQL functions the rule DSL needs on SQLite (Python regex, Unicode case folding)."""
    rule_engine.install_sqlite_functions(dbapi_connection)


def create_system_tables(engine: sa.Engine) -> None:
    system_tables.metadata.create_all(engine)
