"""Fixtures for the kernel: a platform on the per-test database, an HTTP client, a sample app."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform, Settings
from engine.http import create_app
from engine.identity.users import create_user
from tests.conftest import TEST_HASH_COST

ADMIN = ("admin", "admin-password-1")
USER = ("rep", "rep-password-1")

SALES_APP: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "docs/examples/sales.json").read_text("utf-8")
)


def sales_app() -> dict[str, Any]:
    """A fresh copy of the sample package (tests mutate it)."""
    return copy.deepcopy(SALES_APP)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret",
        password_hash_cost=TEST_HASH_COST,
    )


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    platform = Platform(settings, load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True, hash_cost=settings.password_hash_cost)
        create_user(conn, *USER, hash_cost=settings.password_hash_cost)
    try:
        yield platform
    finally:
        platform.close()


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
