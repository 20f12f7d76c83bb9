"""Failures on the server's side: arithmetic the database cannot hold is the caller's 422, and
a real 500 answers in the error shape on a connection that stays usable."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from engine import Platform, Settings, hookimpl
from engine.http import create_app
from engine.identity.users import create_user, issue_token

DEALS = "/api/apps/sales/records/deal"
I64 = 2**63 - 1

#: Filters whose arithmetic leaves BIGINT or the calendar on the stored deal (quantity 7).
OVERFLOWING = [
    f"quantity * {I64} > 1",
    f"quantity + {I64} > 1",
    f"quantity * {2**62} * {2**62} > 1",
    f"quantity - {I64} - {I64} < 1",
    f"abs(-{I64} - 1) > 1",
    "add_days(created_at, 999999999) > now()",
    "add_days(next_call, -999999999) < now()",
    f"add_days(close_date, {I64}) > today()",
]


@pytest.fixture
def deal(sales: TestClient) -> TestClient:
    account = sales.post("/api/apps/sales/records/account", json={"name": "a"}).json()
    body = {
        "title": "t",
        "quantity": 7,
        "close_date": "2024-01-01",
        "next_call": "2024-01-01T10:00:00+08:00",
        "account": account["id"],
    }
    r = sales.post(DEALS, json=body)
    assert r.status_code == 201, r.text
    return sales


@pytest.mark.parametrize("text", OVERFLOWING)
def test_filter_arithmetic_out_of_range_is_never_a_500(
    deal: TestClient, text: str, database_url: str
) -> None:
    r = deal.get(DEALS, params={"filter": text}, headers={"Accept-Language": "en"})
    if sa.make_url(database_url).get_backend_name() == "postgresql":
        # PostgreSQL refuses to compute past BIGINT and the calendar: the caller's 422.
        assert r.status_code == 422, r.text
    if r.status_code != 200:  # SQLite goes on in floating point, or ends the calendar as null
        assert r.status_code == 422, r.text
        error = r.json()["error"]
        assert error["code"] == "invalid_input" and "out of the range" in error["message"]
    assert deal.get(DEALS, params={"filter": "quantity * 2 == 14"}).json()["total"] == 1


class Exploding:
    """A plugin with a route that fails as a bug would."""

    @hookimpl
    def tangram_routes(self, platform: Platform) -> APIRouter:
        router = APIRouter()

        @router.get("/api/test/explode")
        def explode() -> dict[str, Any]:
            raise RuntimeError("a bug")

        @router.get("/api/test/database-explode")
        def database_explode() -> dict[str, Any]:
            with platform.db.connect() as conn:
                conn.exec_driver_sql("SELECT no_such_column FROM tg_apps")
            return {}

        @router.get("/api/test/busy")
        def busy() -> dict[str, Any]:
            """Waits for a lock another transaction holds, giving up at once."""
            url = platform.db.url
            sqlite = url.get_backend_name() == "sqlite"
            impatient = sa.create_engine(url, connect_args={"timeout": 0} if sqlite else {})
            try:
                with platform.db.begin() as holder, impatient.connect() as waiter:
                    if sqlite:  # the platform's transactions take the write lock up front
                        waiter.exec_driver_sql("BEGIN IMMEDIATE")
                    else:
                        holder.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")
                        waiter.exec_driver_sql("SET lock_timeout = '20ms'")
                        waiter.exec_driver_sql("SELECT pg_advisory_xact_lock(4242)")
            finally:
                impatient.dispose()
            return {}

        return router


@pytest.fixture
def exploding(settings: Settings) -> Iterator[tuple[FastAPI, str]]:
    platform = Platform(settings, plugins=[Exploding()], load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        user = create_user(conn, "admin", "admin-password-1", is_admin=True, hash_cost=1)
        token = issue_token(conn, user, name="t", kind="api", ttl=None).token
    try:
        yield create_app(platform=platform), token
    finally:
        platform.close()


def test_a_500_answers_in_the_error_shape(exploding: tuple[FastAPI, str]) -> None:
    app, token = exploding
    client = TestClient(app, headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"})
    for path in ("/api/test/explode", "/api/test/database-explode"):
        r = client.get(path)
        assert r.status_code == 500, r.text
        assert r.headers["x-request-id"] == "req-1"
        assert r.json()["error"]["code"] == "internal_error" and "req-1" in r.json()["error"]["message"]
        assert "a bug" not in r.text and "no_such_column" not in r.text


def test_a_database_too_busy_to_answer_is_a_503_to_retry(exploding: tuple[FastAPI, str]) -> None:
    app, token = exploding
    client = TestClient(app, headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    r = client.get("/api/test/busy")
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "5"
    assert (
        r.json()["error"]["code"] == "database_busy" and "nothing was changed" in r.json()["error"]["message"]
    )
    assert client.get("/api/health").status_code == 200


@pytest.fixture
def server(exploding: tuple[FastAPI, str]) -> Iterator[tuple[int, str]]:
    """The app behind a real uvicorn server on a free port (keep-alive is the server's doing)."""
    app, token = exploding
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield port, token
    finally:
        running.should_exit = True
        thread.join(10)


def _exchange(conn: socket.socket, path: str, token: str) -> tuple[int, bytes]:
    """One HTTP/1.1 request on an open connection; the status and body of its answer."""
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(v) for n, _, v in (line.partition(": ") for line in lines[1:]) if n.lower() == "content-length"
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "the server closed the connection"
        body += chunk
    assert "connection: close" not in head.decode("latin-1").lower()
    return int(lines[0].split()[1]), body


def test_a_500_keeps_the_keep_alive_connection(server: tuple[int, str]) -> None:
    port, token = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        status, body = _exchange(conn, "/api/test/explode", token)
        assert status == 500 and b'"internal_error"' in body
        status, body = _exchange(conn, "/api/test/database-explode", token)
        assert status == 500
        status, body = _exchange(conn, "/api/health", token)
        assert status == 200, body
