"""The per-session template the ``platform`` fixture copies is what ``create_system_tables``
builds: same tables, columns, keys and indexes, no rows but the calendar's days, on both
backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import rule_engine
from engine.schema.database import create_database_engine, create_system_tables


def describe(engine: sa.Engine) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    tables: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in sorted(inspector.get_table_names()):
            tables[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(name)
                ],
                "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
                "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
                "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)),
                "rows": conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar(),
            }
    return tables


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty database on the same backend, where the tables are built the slow way."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin: sa.Engine = request.getfixturevalue("postgres_admin")
    schema = f"f_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_the_copied_template_equals_freshly_built_system_tables(
    system_database_url: str, fresh_url: str
) -> None:
    copied = create_database_engine(system_database_url)
    fresh = create_database_engine(fresh_url)
    try:
        create_system_tables(fresh)
        expected = describe(fresh)
        # The working-day calendar is part of the schema: its days come with the table.
        days = rule_engine.CALENDAR_LAST.toordinal() - rule_engine.CALENDAR_FIRST.toordinal() + 1
        assert expected["tg_calendar_days"]["rows"] == days
        assert expected and all(t["rows"] == 0 for n, t in expected.items() if n != "tg_calendar_days")
        assert describe(copied) == expected
    finally:
        copied.dispose()
        fresh.dispose()
