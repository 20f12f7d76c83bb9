"""Opening the database: one SQLAlchemy engine, tuned per backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

import rule_engine
from engine.schema import calendar_days, system_tables
from engine.schema.pinyin_order import install_sqlite_collation


def create_database_engine(url: str, *, echo: bool = False, busy_timeout: float = 30) -> sa.Engine:
    """An engine for ``url``; SQLite gets WAL, NORMAL sync and a busy timeout (how long a
    writer waits for the file's one write lock before giving up)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": busy_timeout}
        engine = sa.create_engine(parsed, **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs["pool_pre_ping"] = True
    return sa.create_engine(parsed, **kwargs)


def _tune_sqlite(engine: sa.Engine) -> None:
    """SQLAlchemy's recipe for SQLite transactions: pysqlite's own BEGIN handling off, ours
    issued from the ``begin`` event, so DDL joins the transaction and a failed migration rolls
    back whole.

    A transaction opened explicitly (``engine.begin()``, or ``begin()`` on a connection from
    ``engine.connect()``) takes the write lock up front with BEGIN IMMEDIATE: a second writer
    then waits for the busy timeout instead of failing when its read snapshot cannot be
    upgraded. A transaction SQLAlchemy opens by itself for a statement (autobegin) is a read
    and stays deferred, so WAL readers never wait, even on a thread that holds a write.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        _install_rule_functions(dbapi_connection)
        install_sqlite_collation(dbapi_connection)

    engine._connection_cls = _DeferredReadConnection

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN" if conn.info.get(_READ) else "BEGIN IMMEDIATE")


class _DeferredReadConnection(sa.Connection):
    """A connection whose implicit transactions are reads.

    SQLAlchemy begins a transaction by itself (autobegin) when a statement runs outside one;
    here that transaction is marked a read, so ``_on_begin`` sends a deferred BEGIN. Hooking
    autobegin itself, instead of a ``before_execute`` listener that began the transaction
    first, costs nothing per statement (that listener was a quarter of a short query's time).
    ``Engine._connection_cls`` is how SQLAlchemy's own engines choose their connection class;
    ``tests/engine`` check both kinds of transaction take the locks they should.
    """

    def _autobegin(self) -> None:
        if _READ in self.info:  # the BEGIN itself, sent while this read is being begun
            super()._autobegin()
            return
        self.info[_READ] = True
        try:
            super()._autobegin()
        finally:
            del self.info[_READ]

    def begin_nested(self) -> sa.NestedTransaction:
        # A savepoint opened outside a transaction is for writing: begin one that is.
        if not self.in_transaction():
            self.begin()
        return super().begin_nested()


_READ = "tangram_read_transaction"
"""Key in ``Connection.info`` while a statement's implicit (read) transaction is being begun."""


def _install_rule_functions(dbapi_connection: Any) -> None:
    """SQL functions the rule DSL needs on SQLite (Python regex, Unicode case folding)."""
    rule_engine.install_sqlite_functions(dbapi_connection)


def create_system_tables(engine: sa.Engine) -> None:
    system_tables.metadata.create_all(engine)
    calendar_days.create(engine)
