"""Opening the database: one SQLAlchemy engine, tuned per backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

import rule_engine
from engine import system_tables


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
        conn.exec_driver_sql("BEGIN")


def _install_rule_functions(dbapi_connection: Any) -> None:
    """SQL functions the rule DSL needs on SQLite (Python regex, Unicode case folding)."""
    rule_engine.install_sqlite_functions(dbapi_connection)


def create_system_tables(engine: sa.Engine) -> None:
    system_tables.metadata.create_all(engine)
