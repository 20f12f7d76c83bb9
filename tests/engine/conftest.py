"""Fixtures for the kernel: a platform on the per-test database, an HTTP client, a sample app."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform, Settings
from engine.api import create_app
from engine.users import create_user

ADMIN = ("admin", "admin-password-1")
USER = ("rep", "rep-password-1")

SALES_APP: dict[str, Any] = {
    "name": "sales",
    "label": {"zh": "销售", "en": "Sales"},
    "entities": [
        {
            "name": "account",
            "label": {"zh": "客户", "en": "Account"},
            "title_field": "name",
            "fields": [
                {
                    "name": "name",
                    "type": "text",
                    "label": {"zh": "名称", "en": "Name"},
                    "required": True,
                    "unique": True,
                },
                {
                    "name": "grade",
                    "type": "select",
                    "label": {"zh": "等级", "en": "Grade"},
                    "options": [
                        {"value": "A", "label": {"zh": "A 级", "en": "Grade A"}},
                        {"value": "B", "label": {"zh": "B 级", "en": "Grade B"}},
                    ],
                },
                {"name": "region", "type": "text", "label": {"zh": "区域", "en": "Region"}},
            ],
        },
        {
            "name": "deal",
            "label": {"zh": "商机", "en": "Deal"},
            "fields": [
                {"name": "title", "type": "text", "label": {"zh": "标题", "en": "Title"}, "required": True},
                {
                    "name": "amount",
                    "type": "number",
                    "label": {"zh": "金额", "en": "Amount"},
                    "scale": 2,
                    "index": True,
                },
                {"name": "quantity", "type": "integer", "label": {"zh": "数量", "en": "Quantity"}},
                {"name": "won", "type": "boolean", "label": {"zh": "赢单", "en": "Won"}},
                {"name": "close_date", "type": "date", "label": {"zh": "成交日期", "en": "Close date"}},
                {"name": "next_call", "type": "datetime", "label": {"zh": "下次联系", "en": "Next call"}},
                {"name": "notes", "type": "long_text", "label": {"zh": "备注", "en": "Notes"}},
                {
                    "name": "account",
                    "type": "lookup",
                    "label": {"zh": "客户", "en": "Account"},
                    "entity": "account",
                },
            ],
        },
    ],
}


def sales_app() -> dict[str, Any]:
    """A fresh copy of the sample package (tests mutate it)."""
    return copy.deepcopy(SALES_APP)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data", secret_key="test-secret")


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    platform = Platform(settings, load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True)
        create_user(conn, *USER)
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
