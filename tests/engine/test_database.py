"""The SQLite engine: which transactions take the write lock up front, and WAL settings."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.schema.database import create_database_engine


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> sa.Engine:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'tangram.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
    return engine


def _begins(engine: sa.Engine) -> list[str]:
    issued: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.startswith("BEGIN"):
            issued.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    return issued


def test_explicit_transactions_begin_immediate_and_statements_begin_deferred(
    sqlite_engine: sa.Engine,
) -> None:
    begins = _begins(sqlite_engine)
    with sqlite_engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    with sqlite_engine.connect() as conn, conn.begin():
        conn.execute(sa.text("INSERT INTO t VALUES (2)"))
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 2
    assert begins == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE", "BEGIN"]


def test_a_savepoint_opened_outside_a_transaction_begins_a_write(sqlite_engine: sa.Engine) -> None:
    begins = _begins(sqlite_engine)
    with sqlite_engine.connect() as conn:
        with conn.begin_nested():
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        conn.commit()
        assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 1
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


def test_a_read_does_not_wait_for_a_write_held_by_the_same_thread(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.begin() as writer:
        writer.execute(sa.text("INSERT INTO t VALUES (1)"))
        with sqlite_engine.connect() as reader:
            # WAL: the reader sees the last commit, not the open write, and does not block on it
            assert reader.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0


def test_a_second_writer_waits_for_the_first_instead_of_failing(sqlite_engine: sa.Engine) -> None:
    done: list[str] = []

    def second() -> None:
        with sqlite_engine.begin() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one()
            conn.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": count + 1})
        done.append("second")

    with sqlite_engine.begin() as first:
        first.execute(sa.text("SELECT count(*) FROM t")).scalar_one()
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.2)  # the second writer is now waiting at its BEGIN
        first.execute(sa.text("INSERT INTO t VALUES (1)"))
        done.append("first")
    thread.join(timeout=20)
    assert done == ["first", "second"]
    with sqlite_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT x FROM t ORDER BY x")).scalars().all() == [1, 2]


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 30_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
