"""Sub-table rows shown inside their parent obey the child entity's own read rules, and rows
written through their parent obey the child entity's own field write rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import SYSTEM, Platform
from engine.apps.metadata_store import import_app
from engine.http import create_app
from engine.identity.roles import set_roles
from engine.identity.users import create_user, issue_token


def _label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


PACKAGE: dict[str, Any] = {
    "name": "shop",
    "label": _label("Shop"),
    "entities": [
        {
            "name": "order",
            "label": _label("Order"),
            "fields": [
                {"name": "title", "type": "text", "label": _label("Title")},
                {
                    "name": "lines",
                    "type": "sub_table",
                    "label": _label("Lines"),
                    "entity": "line",
                    "link_field": "order",
                },
            ],
        },
        {
            "name": "line",
            "label": _label("Line"),
            "fields": [
                {"name": "order", "type": "lookup", "label": _label("Order"), "entity": "order"},
                {"name": "product", "type": "text", "label": _label("Product")},
                {"name": "cost", "type": "number", "label": _label("Cost"), "scale": 2},
            ],
        },
    ],
    "roles": [
        {
            "name": "clerk",
            "label": _label("Clerk"),
            "permissions": {
                "order": {"read": {"scope": "all"}},
                "line": {"read": {"scope": "all"}, "fields": {"cost": {"access": "hidden"}}},
            },
        },
        {"name": "viewer", "label": _label("Viewer"), "permissions": {"order": {"read": {"scope": "all"}}}},
        {
            "name": "editor",
            "label": _label("Editor"),
            "permissions": {
                "order": {"create": True, "read": True, "update": True},
                "line": {
                    "create": True,
                    "read": True,
                    "update": True,
                    "delete": True,
                    "fields": {"cost": {"access": "readonly"}},
                },
            },
        },
    ],
}


@pytest.fixture
def shop(platform: Platform) -> tuple[TestClient, dict[str, str], int]:
    with platform.db.begin() as conn:
        package = import_app(conn, PACKAGE, SYSTEM)
        tokens = {}
        for name in ("clerk", "viewer", "editor"):
            user_id = create_user(
                conn, name, "shop-password-1", hash_cost=platform.settings.password_hash_cost
            )
            set_roles(conn, SYSTEM, package, user_id, [name])
            tokens[name] = issue_token(conn, user_id, name="t", kind="api", ttl=timedelta(hours=1)).token
    order = platform.records.create(
        SYSTEM, "shop", "order", {"title": "o", "lines": [{"product": "茶", "cost": "12.50"}]}
    )
    return TestClient(create_app(platform=platform)), tokens, order["id"]


def test_hidden_child_fields_stay_hidden_inside_the_parent(
    shop: tuple[TestClient, dict[str, str], int],
) -> None:
    client, tokens, order_id = shop
    r = client.get(
        f"/api/apps/shop/records/order/{order_id}", headers={"Authorization": f"Bearer {tokens['clerk']}"}
    )
    assert r.status_code == 200, r.text
    [line] = r.json()["lines"]
    assert line["product"] == "茶" and "cost" not in line


def test_children_of_an_unreadable_entity_are_not_shown(shop: tuple[TestClient, dict[str, str], int]) -> None:
    client, tokens, order_id = shop
    r = client.get(
        f"/api/apps/shop/records/order/{order_id}", headers={"Authorization": f"Bearer {tokens['viewer']}"}
    )
    assert r.status_code == 200, r.text
    assert "lines" not in r.json()


def _as(tokens: dict[str, str], who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def test_a_read_only_child_field_is_refused_when_creating_rows_through_the_parent(
    shop: tuple[TestClient, dict[str, str], int],
) -> None:
    client, tokens, _order_id = shop
    editor = _as(tokens, "editor")
    direct = client.post("/api/apps/shop/records/line", json={"product": "x", "cost": "99"}, headers=editor)
    assert direct.status_code == 403, direct.text
    before = client.get("/api/apps/shop/records/line", headers=editor).json()["total"]
    r = client.post(
        "/api/apps/shop/records/order",
        json={"title": "new", "lines": [{"product": "x", "cost": "99"}]},
        headers=editor,
    )
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "forbidden"
    assert [(p["code"], p["field"], p["pointer"]) for p in error["problems"]] == [
        ("field_read_only", "cost", "/lines/0/cost")
    ]
    assert client.get("/api/apps/shop/records/order", headers=editor).json()["total"] == 1
    assert client.get("/api/apps/shop/records/line", headers=editor).json()["total"] == before


def test_a_read_only_child_field_is_refused_when_changing_rows_through_the_parent(
    shop: tuple[TestClient, dict[str, str], int],
) -> None:
    client, tokens, order_id = shop
    editor = _as(tokens, "editor")
    url = f"/api/apps/shop/records/order/{order_id}"
    [line] = client.get(url, headers=editor).json()["lines"]
    direct = client.patch(f"/api/apps/shop/records/line/{line['id']}", json={"cost": "99"}, headers=editor)
    assert direct.status_code == 403, direct.text
    r = client.patch(url, json={"lines": [{"id": line["id"], "cost": "99"}]}, headers=editor)
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "forbidden"
    assert [(p["code"], p["field"], p["pointer"]) for p in error["problems"]] == [
        ("field_read_only", "cost", "/lines/0/cost")
    ]
    assert client.get(url, headers=editor).json()["lines"] == [line]
