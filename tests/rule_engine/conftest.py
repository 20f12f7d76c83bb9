"""One table holding every storage type the kernel uses, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import rule_engine

FIELDS: dict[str, Any] = {
    "t": "text",
    "t2": "text",
    "n": "number",
    "n2": "number",
    "i": "integer",
    "i2": "integer",
    "b": "boolean",
    "d": "date",
    "d2": "date",
    "ts": "datetime",
    "tags": "list",
}
NOW = datetime(2024, 6, 15, 12, 30, tzinfo=UTC)

metadata = sa.MetaData()
items = sa.Table(
    "rule_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("t", sa.String(255)),
    sa.Column("t2", sa.Text),
    sa.Column("n", sa.Numeric(18, 4)),
    sa.Column("n2", sa.Numeric(18, 4)),
    sa.Column("i", sa.BigInteger),
    sa.Column("i2", sa.BigInteger),
    sa.Column("b", sa.Boolean),
    sa.Column("d", sa.Date),
    sa.Column("d2", sa.Date),
    sa.Column("ts", sa.DateTime()),
    sa.Column("tags", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
)


def make_engine(url: str) -> sa.Engine:
    """An engine whose SQLite connections carry the rule engine's functions."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda conn, _record: rule_engine.install_sqlite_functions(conn))
    return engine


def storable(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as the kernel would store it: datetimes naive UTC, every column present."""
    row = {name: record.get(name) for name in FIELDS}
    ts = row["ts"]
    if ts is not None and ts.tzinfo is not None:
        row["ts"] = ts.astimezone(UTC).replace(tzinfo=None)
    return row


def select_ids(conn: sa.Connection, expression: rule_engine.Expression, now: datetime = NOW) -> set[int]:
    condition = expression.to_sql(items.c, now=now)
    return set(conn.execute(sa.select(items.c.id).where(condition)).scalars())


def load(conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> None:
    conn.execute(items.delete())
    if records:
        conn.execute(items.insert(), [{"id": i, **storable(r)} for i, r in enumerate(records)])


@pytest.fixture
def rule_db(database_url: str) -> Iterator[sa.Engine]:
    """A per-test database (both backends) holding the empty ``rule_items`` table."""
    engine = make_engine(database_url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One database per module and backend, for property tests that run many examples."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('rules') / 'rules.db'}"
        engine = make_engine(url)
        metadata.create_all(engine)
        yield engine
        engine.dispose()
        return
    base = request.getfixturevalue("postgres_database")
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    schema_url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(schema_url.render_as_string(hide_password=False))
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
