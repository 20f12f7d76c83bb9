"""Fixtures for the kernel: a platform on the per-test database, an HTTP client, a sample app.

The platform's system tables are built once per session and backend and copied into each
test's own database: a prepared SQLite file, or the DDL replayed in one round trip on PostgreSQL.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import Platform, Settings
from engine.http import create_app
from engine.identity.users import create_user
from engine.schema.database import create_database_engine, create_system_tables
from tests.conftest import TEST_HASH_COST

ADMIN = ("admin", "admin-password-1")
USER = ("rep", "rep-password-1")

SALES_APP: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "docs/examples/sales.json").read_text("utf-8")
)


def sales_app() -> dict[str, Any]:
    """A fresh copy of the sample package (tests mutate it)."""
    return copy.deepcopy(SALES_APP)


@pytest.fixture(scope="session")
def sqlite_system_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the empty system tables, built once per session."""
    path = tmp_path_factory.mktemp("template") / "system.db"
    engine = create_database_engine(f"sqlite:///{path}")
    create_system_tables(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def postgres_system_ddl() -> str:
    """The DDL ``create_system_tables`` issues on PostgreSQL, captured once per session.

    PostgreSQL cannot copy a schema; replaying this script takes one round trip, where
    ``CREATE DATABASE ... TEMPLATE`` and its ``DROP DATABASE`` cost several times as much per test.
    """
    statements: list[Any] = []
    mock = sa.create_mock_engine(
        sa.make_url("postgresql+psycopg://"), lambda sql, *_, **__: statements.append(sql)
    )
    # A write other than DDL would fail here, not silently go missing. The mock engine has
    # create_all's half of the Engine interface, which is all create_system_tables uses.
    create_system_tables(mock)  # type: ignore[arg-type]
    return ";\n".join(str(s.compile(dialect=mock.dialect)).strip() for s in statements)


@pytest.fixture
def system_database_url(database_url: str, request: pytest.FixtureRequest) -> str:
    """The per-test database (both backends) with the platform's empty system tables in it."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        shutil.copyfile(request.getfixturevalue("sqlite_system_template"), url.database)
        return database_url
    admin: sa.Engine = request.getfixturevalue("postgres_admin")
    schema = request.getfixturevalue("postgres_schema")
    ddl = request.getfixturevalue("postgres_system_ddl")
    with admin.begin() as conn:
        conn.exec_driver_sql(f'SET LOCAL search_path TO "{schema}";\n{ddl}')
    return database_url


@pytest.fixture
def settings(system_database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=system_database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        password_hash_cost=TEST_HASH_COST,
    )


@contextmanager
def running_platform(settings: Settings, plugins: Sequence[object] = ()) -> Iterator[Platform]:
    """A platform with ``plugins`` (no installed ones) and the admin and the user signed up."""
    platform = Platform(settings, load_entry_points=False, plugins=plugins)
    platform.init_database()  # finds the copied tables; runs the startup hooks as ``serve`` does
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True, hash_cost=settings.password_hash_cost)
        create_user(conn, *USER, hash_cost=settings.password_hash_cost)
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    with running_platform(settings) as platform:
        yield platform


@pytest.fixture
def anon(platform: Platform) -> Iterator[TestClient]:
    """A client that has not signed in."""
    with TestClient(create_app(platform=platform)) as client:
        yield client


def sign_in(client: TestClient, username: str, password: str) -> dict[str, str]:
    r = client.post("/api/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def client(anon: TestClient) -> TestClient:
    """A client signed in as a platform administrator."""
    anon.headers.update(sign_in(anon, *ADMIN))
    return anon


@pytest.fixture
def sales(client: TestClient) -> TestClient:
    """The admin client with the sample sales app imported."""
    r = client.post("/api/apps", json=sales_app())
    assert r.status_code == 201, r.text
    return client
