"""Saved list views over HTTP, on both databases: who sees and edits which view, the kernel's
check of a view's filter and columns, and each user's default view."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

import builder_ui.plugin
from engine import Platform, Settings
from engine.http import create_app
from engine.identity.users import create_user
from tests.conftest import TEST_HASH_COST

PACKAGE: dict[str, Any] = json.loads(Path(__file__).with_name("app_package.json").read_text("utf-8"))
USERS = {"admin": True, "rep": False, "rep2": False}
VIEWS = "/ui/views/biz/deal"
Call = Callable[..., Response]


@pytest.fixture
def call(database_url: str, tmp_path: Path) -> Iterator[Call]:
    """``call(user, method, path, **kw)``: the app as one of an admin and two reps (role ``rep``,
    which may not read a deal's ``notes``)."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="views-test-secret",
        password_hash_cost=TEST_HASH_COST,
    )
    platform = Platform(settings, plugins=[builder_ui.plugin], load_entry_points=False)
    platform.init_database()
    ids = {}
    with platform.db.begin() as conn:
        for name, admin in USERS.items():
            ids[name] = create_user(
                conn, name, f"{name}-password-1", is_admin=admin, hash_cost=TEST_HASH_COST
            )
    package = copy.deepcopy(PACKAGE)
    package["roles"][0]["permissions"]["deal"]["fields"] = {"notes": {"access": "hidden"}}
    try:
        with TestClient(create_app(platform=platform)) as client:
            tokens = {}
            for name in USERS:
                r = client.post("/api/auth/token", json={"username": name, "password": f"{name}-password-1"})
                tokens[name] = {"Authorization": "Bearer " + r.json()["access_token"]}

            def do(user: str | None, method: str, path: str, **kw: Any) -> Response:
                """As ``user`` with a bearer token, or (``None``) with the client's cookies only."""
                headers = {**(tokens[user] if user else {}), **kw.pop("headers", {})}
                return client.request(method, path, headers=headers, **kw)

            assert do("admin", "POST", "/api/apps", json=package).status_code == 201
            for name in ("rep", "rep2"):
                r = do("admin", "PUT", f"/api/apps/biz/users/{ids[name]}/roles", json={"roles": ["rep"]})
                assert r.status_code == 200, r.text
            yield do
    finally:
        platform.close()


def _view(**values: Any) -> dict[str, Any]:
    return {
        "name": "赢单",
        "filter": "stage == 'won'",
        "sort": "-amount",
        "columns": ["title", "amount"],
        **values,
    }


def test_personal_view_round_trip_is_seen_and_changed_only_by_its_owner(call: Call) -> None:
    r = call("rep", "POST", VIEWS, json=_view(q="华为"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert {
        k: created[k] for k in ("name", "filter", "sort", "q", "columns", "shared", "mine", "editable")
    } == {
        "name": "赢单",
        "filter": "stage == 'won'",
        "sort": "-amount",
        "q": "华为",
        "columns": ["title", "amount"],
        "shared": False,
        "mine": True,
        "editable": True,
    }
    path = f"{VIEWS}/{created['id']}"
    r = call("rep", "PUT", path, json=_view(name="大单", filter="amount > 1000", columns=["amount", "title"]))
    assert r.status_code == 200, r.text
    listed = call("rep", "GET", VIEWS).json()
    assert [(v["name"], v["filter"], v["columns"]) for v in listed["views"]] == [
        ("大单", "amount > 1000", ["amount", "title"])
    ]
    assert call("rep2", "GET", VIEWS).json()["views"] == []
    assert call("rep2", "PUT", path, json=_view()).status_code == 404
    assert call("rep2", "DELETE", path).status_code == 404
    assert call("admin", "DELETE", path).status_code == 404  # a personal view is its owner's alone
    assert call("rep", "DELETE", path).status_code == 204
    assert call("rep", "GET", VIEWS).json()["views"] == []


def test_only_an_administrator_shares_a_view_and_everyone_sees_it(call: Call) -> None:
    r = call("rep", "POST", VIEWS, json=_view(shared=True))
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"
    r = call("admin", "POST", VIEWS, json=_view(name="全员", shared=True))
    assert r.status_code == 201, r.text
    shared = r.json()
    for rep in ("rep", "rep2"):
        seen = call(rep, "GET", VIEWS).json()["views"]
        assert [(v["name"], v["shared"], v["editable"]) for v in seen] == [("全员", True, False)]
    assert call("rep", "PUT", f"{VIEWS}/{shared['id']}", json=_view(shared=True)).status_code == 403
    assert call("rep", "DELETE", f"{VIEWS}/{shared['id']}").status_code == 403
    mine = call("rep", "POST", VIEWS, json=_view(name="我的")).json()
    assert call("rep", "PUT", f"{VIEWS}/{mine['id']}", json=_view(shared=True)).status_code == 403
    assert [v["name"] for v in call("rep2", "GET", VIEWS).json()["views"]] == ["全员"]


def test_a_filter_error_answers_its_line_and_column_and_stores_nothing(call: Call) -> None:
    r = call("rep", "POST", VIEWS, json=_view(filter="stage == 'won'\nand amount >> 5"))
    assert r.status_code == 422, r.text
    problem = r.json()["error"]["problems"][0]
    assert (problem["pointer"], problem["line"], problem["column"]) == ("/filter", 2, 13)
    r = call("rep", "POST", VIEWS, json=_view(sort="-nope"))
    assert r.status_code == 422, r.text
    r = call("rep", "POST", VIEWS, json=_view(name="  "))
    assert r.status_code == 422, r.text
    assert call("rep", "GET", VIEWS).json()["views"] == []


def test_columns_are_fields_the_caller_may_read(call: Call) -> None:
    r = call("rep", "POST", VIEWS, json=_view(columns=["title", "notes"]))
    assert r.status_code == 422, r.text
    assert "notes" in r.json()["error"]["message"]
    assert call("rep", "POST", VIEWS, json=_view(columns=["title", "nope"])).status_code == 422
    assert call("rep", "POST", VIEWS, json=_view(columns=["title", "title"])).status_code == 422
    assert call("admin", "POST", VIEWS, json=_view(columns=["title", "notes"])).status_code == 201
    assert call("rep", "GET", VIEWS).json()["views"] == []


def test_default_view_per_user_and_cleared_with_its_view(call: Call) -> None:
    shared = call("admin", "POST", VIEWS, json=_view(name="全员", shared=True)).json()
    mine = call("rep", "POST", VIEWS, json=_view(name="我的")).json()
    assert call("rep", "GET", VIEWS).json()["default"] is None
    assert call("rep", "PUT", VIEWS + "/default", json={"view_id": mine["id"]}).status_code == 200
    assert call("rep2", "PUT", VIEWS + "/default", json={"view_id": shared["id"]}).status_code == 200
    assert call("rep2", "PUT", VIEWS + "/default", json={"view_id": mine["id"]}).status_code == 404
    assert call("rep", "GET", VIEWS).json()["default"] == mine["id"]
    assert call("rep2", "GET", VIEWS).json()["default"] == shared["id"]
    assert call("rep", "DELETE", f"{VIEWS}/{mine['id']}").status_code == 204
    assert call("rep", "GET", VIEWS).json()["default"] is None
    assert call("rep", "PUT", VIEWS + "/default", json={"view_id": None}).json() == {"default": None}
    assert call("rep", "PUT", VIEWS + "/default", json={"view_id": 2**70}).status_code == 422


def test_unknown_entity_or_app_answers_404(call: Call) -> None:
    assert call("rep", "GET", "/ui/views/biz/nope").status_code == 404
    assert call("rep", "POST", "/ui/views/nope/deal", json=_view()).status_code == 404


def test_a_browser_session_must_send_the_csrf_token_to_save_a_view(call: Call) -> None:
    credentials = {"username": "rep", "password": "rep-password-1"}
    signed_in = call(None, "POST", "/api/auth/session", json=credentials)  # sets the cookies
    assert signed_in.status_code == 200, signed_in.text
    refused = call(None, "POST", VIEWS, json=_view())
    assert refused.status_code == 403, refused.text
    token = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
    assert call(None, "POST", VIEWS, json=_view(), headers=token).status_code == 201
    assert [v["name"] for v in call("rep", "GET", VIEWS).json()["views"]] == ["赢单"]
