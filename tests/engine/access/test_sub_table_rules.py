"""Sub-table rows shown inside their parent obey the child entity's own read rules."""

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
    ],
}


@pytest.fixture
def shop(platform: Platform) -> tuple[TestClient, dict[str, str], int]:
    with platform.db.begin() as conn:
        package = import_app(conn, PACKAGE, SYSTEM)
        tokens = {}
        for name in ("clerk", "viewer"):
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
