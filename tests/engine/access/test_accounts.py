"""Accounts: API tokens, browser sessions with CSRF, sign-in throttling, password policy,
disabling users, the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform, Settings
from engine.http import create_app
from tests.conftest import TEST_HASH_COST

from .conftest import PASSWORD, URL, Org

ADMIN_PASSWORD = PASSWORD


def test_api_token_is_shown_once_listed_without_secret_and_revocable(org: Org, api: Any) -> None:
    rep = org.client(api, "rep_e")
    r = rep.post("/api/tokens", json={"name": "script", "expires_in_days": 30})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    listed = rep.get("/api/tokens").json()
    assert [t["name"] for t in listed] == ["test", "script"]
    assert all("token" not in t for t in listed)
    other = TestClient(api, headers={"Authorization": f"Bearer {token}"})
    assert other.get("/api/auth/me").json()["username"] == "rep_e"
    assert rep.delete(f"/api/tokens/{r.json()['id']}").status_code == 200
    assert other.get("/api/auth/me").status_code == 401
    assert rep.post("/api/tokens", json={"name": "x", "expires_in_days": 9999}).status_code == 422
    assert org.client(api, "rep_w").delete(f"/api/tokens/{listed[0]['id']}").status_code == 404


def test_cookie_session_needs_csrf_for_writes(org: Org, api: Any, records: dict[str, int]) -> None:
    browser = TestClient(api, base_url="https://testserver")
    r = browser.post("/api/auth/session", json={"username": "rep_e", "password": PASSWORD})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    csrf = r.json()["csrf_token"]
    assert browser.get(URL).json()["total"] == 2
    refused = browser.post(URL, json={"name": "n"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"
    assert browser.post(URL, json={"name": "n"}, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert browser.post(URL, json={"name": "n"}, headers={"X-CSRF-Token": csrf}).status_code == 201
    assert browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert browser.get(URL).status_code == 401


def test_plain_http_session_cookie_is_not_marked_secure(org: Org, api: Any) -> None:
    r = TestClient(api).post("/api/auth/session", json={"username": "rep_e", "password": PASSWORD})
    assert "Secure" not in r.headers["set-cookie"]


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Iterator[tuple[Platform, Settings]]:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "d",
        secret_key="k",
        login_max_failures=3,
        password_hash_cost=TEST_HASH_COST,
    )
    platform = Platform(settings, load_entry_points=False)
    platform.init_database()
    try:
        yield platform, settings
    finally:
        platform.close()


def test_sign_in_is_throttled_across_processes(strict: tuple[Platform, Settings]) -> None:
    platform, settings = strict
    from .conftest import build_org

    build_org(platform)
    wrong = {"username": "rep_e", "password": "wrong-password"}
    with TestClient(create_app(platform=platform)) as client:
        for _ in range(3):
            assert client.post("/api/auth/token", json=wrong).status_code == 401
        r = client.post("/api/auth/token", json={"username": "rep_e", "password": PASSWORD})
        assert r.status_code == 429, r.text
        assert int(r.headers["retry-after"]) > 0
        assert r.json()["error"]["code"] == "too_many_attempts"
        assert (
            client.post("/api/auth/token", json={"username": "rep_w", "password": PASSWORD}).status_code
            == 200
        )
    second = Platform(settings, load_entry_points=False)  # another server process, same database
    try:
        with TestClient(create_app(platform=second)) as client:
            r = client.post("/api/auth/session", json={"username": "REP_E", "password": PASSWORD})
            assert r.status_code == 429, r.text
    finally:
        second.close()


def test_password_policy(org: Org, api: Any) -> None:
    admin = org.client(api, "admin")
    for password, hint in [("short1", "8"), ("newuser1", "username")]:
        r = admin.post("/api/users", json={"username": "newuser1", "password": password})
        assert r.status_code == 422, r.text
        assert hint in r.json()["error"]["message"]
    rep = org.client(api, "rep_e")
    r = rep.post("/api/auth/password", json={"current_password": "nope", "new_password": "x" * 12})
    assert r.status_code == 422
    r = rep.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "a-new-pass-2"})
    assert r.status_code == 200, r.text
    assert rep.get("/api/auth/me").status_code == 401  # every token ends with a new password


def test_username_with_a_trailing_newline_or_space_is_refused(org: Org, api: Any) -> None:
    admin = org.client(api, "admin")
    for username in ("newuser\n", "new user", "new\tuser"):
        r = admin.post("/api/users", json={"username": username, "password": "long-enough-1"})
        assert r.status_code == 422, (username, r.text)
    r = admin.post("/api/users", json={"username": "new.user", "password": "long-enough-1"})
    assert r.status_code == 201, r.text


def test_disabling_a_user_ends_their_tokens_at_once_and_keeps_their_records(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    rep = org.client(api, "rep_e")
    assert rep.get(URL).status_code == 200
    admin = org.client(api, "admin")
    r = admin.patch(f"/api/users/{org.users['rep_e']}", json={"is_active": False})
    assert r.status_code == 200, r.text
    assert rep.get(URL).status_code == 401
    assert admin.patch(f"/api/users/{org.users['rep_e']}", json={"is_active": True}).status_code == 200
    assert rep.get(URL).status_code == 401  # old tokens stay revoked
    assert admin.get(URL).json()["total"] == 7
    assert admin.patch(f"/api/users/{org.users['admin']}", json={"is_active": False}).status_code == 422


def test_admin_manages_users_departments_and_roles(org: Org, api: Any) -> None:
    admin = org.client(api, "admin")
    dept = admin.post("/api/departments", json={"name": "华南 South", "parent_id": org.departments["hq"]})
    assert dept.status_code == 201, dept.text
    r = admin.post(
        "/api/users",
        json={"username": "rep_s", "password": "south-pass-1", "department_id": dept.json()["id"]},
    )
    assert r.status_code == 201, r.text
    user_id = r.json()["id"]
    loop = admin.patch(f"/api/departments/{org.departments['hq']}", json={"parent_id": dept.json()["id"]})
    assert loop.status_code == 422
    bad = admin.put(f"/api/apps/crm/users/{user_id}/roles", json={"roles": ["rpe"]})
    assert bad.status_code == 422 and "'rep'" in bad.json()["error"]["problems"][0]["message"]
    assert admin.put(f"/api/apps/crm/users/{user_id}/roles", json={"roles": ["rep"]}).status_code == 200
    assert admin.get(f"/api/users/{user_id}").json()["roles"] == {"crm": ["rep"]}
    listed = {u["username"]: u["roles"] for u in admin.get("/api/users").json()}
    assert listed["rep_s"] == {"crm": ["rep"]} and listed["admin"] == {}
    assert listed["rep_e"] == admin.get(f"/api/users/{org.users['rep_e']}").json()["roles"] != {}
    rep = org.client(api, "rep_e")
    assert rep.get("/api/users").status_code == 403
    assert rep.put(f"/api/apps/crm/users/{user_id}/roles", json={"roles": []}).status_code == 403
    audit = admin.get("/api/audit", params={"event": "role_changed", "limit": 1}).json()
    assert audit["total"] >= 1 and audit["items"][0]["details"]["after"] == ["rep"]


def test_audit_log_records_sign_ins_and_tokens_and_pages(org: Org, api: Any) -> None:
    anon = TestClient(api)
    anon.post("/api/auth/token", json={"username": "rep_e", "password": "bad-password"})
    anon.post("/api/auth/token", json={"username": "rep_e", "password": PASSWORD})
    org.client(api, "rep_e").post("/api/tokens", json={"name": "ci"})
    admin = org.client(api, "admin")
    events = [e["event"] for e in admin.get("/api/audit").json()["items"]]
    assert events[:3] == ["token_created", "login", "login_failed"]
    page = admin.get("/api/audit", params={"limit": 1, "offset": 1}).json()
    assert page["items"][0]["event"] == "login" and page["total"] >= 3
    assert admin.get("/api/audit", params={"event": "nonsense"}).status_code == 422
    assert org.client(api, "director").get("/api/audit").status_code == 403


def test_roles_can_be_replaced_and_take_effect(org: Org, api: Any, records: dict[str, int]) -> None:
    admin = org.client(api, "admin")
    roles = admin.get("/api/apps/crm/roles").json()
    rep = next(r for r in roles if r["name"] == "rep")
    rep["permissions"]["customer"]["read"] = {"scope": "all"}
    r = admin.put("/api/apps/crm/roles", json=roles)
    assert r.status_code == 200, r.text
    assert org.client(api, "rep_e").get(URL).json()["total"] == 7
    rep["permissions"]["customer"]["fields"]["nope"] = {"access": "hidden"}
    r = admin.put("/api/apps/crm/roles", json=roles)
    assert r.status_code == 422
    assert r.json()["error"]["problems"][0]["pointer"] == "/roles/0/permissions/customer/fields/nope"
