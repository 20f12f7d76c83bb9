"""Bodies are capped before they are read whole; callers without credentials are turned away
before their body is read; an echoed request id is short and printable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from engine import Platform, Settings
from engine.http import create_app
from engine.identity.users import create_user

from .conftest import ADMIN, sales_app, sign_in

LIMIT = 4096
ACCOUNTS = "/api/apps/sales/records/account"


@pytest.fixture
def small(settings: Settings) -> Iterator[TestClient]:
    capped = settings.model_copy(update={"max_body_bytes": LIMIT, "max_upload_bytes": 64 * 1024})
    platform = Platform(capped, load_entry_points=False)
    with TestClient(create_app(platform=platform)) as client:
        with platform.db.begin() as conn:
            create_user(conn, *ADMIN, is_admin=True, hash_cost=capped.password_hash_cost)
        client.headers.update(sign_in(client, *ADMIN))
        assert client.post("/api/apps", json=sales_app()).status_code == 201
        yield client


def test_a_body_over_the_limit_is_a_413_and_stores_nothing(small: TestClient) -> None:
    r = small.post(ACCOUNTS, json={"name": "x" * (LIMIT * 2)})
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == "body_too_large" and str(LIMIT) in error["message"]
    assert small.get(ACCOUNTS).json()["total"] == 0
    assert small.post(ACCOUNTS, json={"name": "fits"}).status_code == 201


def test_a_streamed_body_that_grows_past_the_limit_is_a_413(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(LIMIT // 512 + 2):
            yield b"y" * 512
        yield b'"}'

    r = small.post(ACCOUNTS, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert small.get(ACCOUNTS).json()["total"] == 0


def test_a_caller_without_credentials_is_refused_before_the_body_is_read(small: TestClient) -> None:
    anonymous = TestClient(small.app)
    r = anonymous.post(ACCOUNTS, content=b"{" * (LIMIT * 4), headers={"content-type": "application/json"})
    assert r.status_code == 401, r.text  # not 413, not a JSON error: nothing was read
    assert r.json()["error"]["code"] == "unauthenticated"
    # Public routes take a body without credentials (within the limit).
    r = anonymous.post("/api/auth/token", json={"username": "nobody", "password": "wrong-password"})
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] != "body_too_large"


def test_uploads_have_their_own_cap(small: TestClient) -> None:
    r = small.post(
        "/api/apps/sales/files",
        params={"entity": "account", "field": "name"},
        files={"file": ("a.txt", b"z" * (LIMIT * 2), "text/plain")},
    )
    # Larger than the JSON cap, within the upload cap: it reaches the route, which judges the field.
    assert r.status_code == 422, r.text
    assert [p["code"] for p in r.json()["error"]["problems"]] == ["not_a_file_field"]


@pytest.mark.parametrize("sent", ["x" * 101, "bad id with spaces"])
def test_an_unusable_request_id_is_replaced(client: TestClient, sent: str) -> None:
    r = client.get("/api/health", headers={"X-Request-ID": sent})
    echoed = r.headers["x-request-id"]
    assert echoed != sent and 0 < len(echoed) <= 100
    assert client.get("/api/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
