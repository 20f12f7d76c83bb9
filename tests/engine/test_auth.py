"""Sign-in and tokens: every app endpoint needs one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import Platform
from engine.clock import utcnow
from engine.errors import Unauthenticated
from engine.identity import users
from engine.schema import system_tables as st

from .conftest import ADMIN, USER


def test_app_endpoints_require_a_token(anon: TestClient) -> None:
    for method, url in [("get", "/api/apps"), ("post", "/api/apps"), ("get", "/api/apps/x/records/y")]:
        r = anon.request(method, url, json={})
        assert r.status_code == 401, (url, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["error"]["code"] == "unauthenticated"


def test_token_for_good_credentials_only(anon: TestClient) -> None:
    assert (
        anon.post("/api/auth/token", json={"username": ADMIN[0], "password": "wrong-password"}).status_code
        == 401
    )
    assert (
        anon.post("/api/auth/token", json={"username": "ghost", "password": "whatever1"}).status_code == 401
    )
    r = anon.post("/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert anon.get("/api/apps", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert anon.get("/api/apps", headers={"Authorization": "Bearer tg_forged"}).status_code == 401


def test_passwords_and_tokens_are_stored_hashed(client: TestClient, platform: Platform) -> None:
    with platform.db.connect() as conn:
        stored = conn.execute(
            sa.select(st.users.c.password_hash).where(st.users.c.username == ADMIN[0])
        ).scalar_one()
        token_hashes = conn.execute(sa.select(st.tokens.c.token_hash)).scalars().all()
    assert stored.startswith("scrypt$") and ADMIN[1] not in stored
    bearer = client.headers["authorization"].split()[1]
    assert bearer not in token_hashes and len(token_hashes) == 1


def test_disabled_user_token_stops_working_at_once(client: TestClient, platform: Platform) -> None:
    assert client.get("/api/apps").status_code == 200
    with platform.db.begin() as conn:
        conn.execute(st.users.update().where(st.users.c.username == ADMIN[0]).values(is_active=False))
    assert client.get("/api/apps").status_code == 401


def test_token_use_is_noted_at_most_every_few_minutes(client: TestClient, platform: Platform) -> None:
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(st.tokens.c.last_used_at)).scalar() is None
    assert client.get("/api/apps").status_code == 200
    with platform.db.connect() as conn:
        first = conn.execute(sa.select(st.tokens.c.last_used_at)).scalar()
    assert first is not None
    assert client.get("/api/apps").status_code == 200
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(st.tokens.c.last_used_at)).scalar() == first


def test_a_request_reads_token_user_and_roles_in_one_query(sales: TestClient, platform: Platform) -> None:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    assert sales.get("/api/apps").status_code == 200  # notes the token's first use
    sa.event.listen(platform.db, "before_cursor_execute", note)
    try:
        assert sales.get("/api/apps").status_code == 200
    finally:
        sa.event.remove(platform.db, "before_cursor_execute", note)
    auth = [s for s in statements if "tg_tokens" in s or "tg_role_assignments" in s]
    assert len(auth) == 1 and "tg_users" in auth[0] and "tg_role_assignments" in auth[0], statements
    writes = [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert not writes, writes


def test_the_principal_carries_every_role_the_user_holds(platform: Platform) -> None:
    with platform.db.begin() as conn:
        rep = users.find_user(conn, USER[0]).id
        admin = users.find_user(conn, ADMIN[0]).id
        conn.execute(
            st.role_assignments.insert(),
            [
                {"app": app, "user_id": rep, "role": role, "assigned_at": utcnow()}
                for app, role in [("sales", "rep"), ("sales", "viewer"), ("support", "agent")]
            ],
        )
        rep_token = users.issue_token(conn, rep, name="t", kind="api", ttl=None).token
        admin_token = users.issue_token(conn, admin, name="t", kind="api", ttl=timedelta(hours=1)).token
        revoked = users.issue_token(conn, rep, name="old", kind="api", ttl=None)
        users.revoke_token(conn, revoked.id)
    with platform.db.connect() as conn:
        principal = users.authenticate_token(conn, rep_token)
        assert principal.username == USER[0] and not principal.is_admin
        assert principal.roles == {("sales", "rep"), ("sales", "viewer"), ("support", "agent")}
        assert principal.roles_in("sales") == {"rep", "viewer"}
        principal = users.authenticate_token(conn, admin_token)
        assert principal.is_admin and principal.roles == frozenset()
        with pytest.raises(Unauthenticated):
            users.authenticate_token(conn, revoked.token)
