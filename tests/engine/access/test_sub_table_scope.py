"""Sub-table rows written through their parent obey the child entity's row scope, and a child
cannot be moved under a parent the caller cannot see."""

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

ORDERS = "/api/apps/shop/records/order"
LINES = "/api/apps/shop/records/line"


def _label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


OWN = {"scope": "own"}

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
                {
                    "name": "line_count",
                    "type": "rollup",
                    "label": _label("Line count"),
                    "entity": "line",
                    "link_field": "order",
                    "function": "count",
                },
            ],
        },
        {
            "name": "line",
            "label": _label("Line"),
            "fields": [
                {"name": "order", "type": "lookup", "label": _label("Order"), "entity": "order"},
                {"name": "product", "type": "text", "label": _label("Product")},
            ],
        },
    ],
    "roles": [
        {
            "name": "clerk",
            "label": _label("Clerk"),
            "permissions": {
                entity: {"create": True, "read": OWN, "update": OWN, "delete": OWN}
                for entity in ("order", "line")
            },
        }
    ],
}


class Shop:
    """Two clerks (``ann``, ``bob``) and an administrator (``boss``), each with a token."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.http = TestClient(create_app(platform=platform))
        self.users: dict[str, int] = {}
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}
        with platform.db.begin() as conn:
            package = import_app(conn, PACKAGE, SYSTEM)
            for name in ("ann", "bob", "boss"):
                self.users[name] = create_user(conn, name, "shop-password-1", is_admin=name == "boss")
                if name != "boss":
                    set_roles(conn, SYSTEM, package, self.users[name], ["clerk"])
                token = issue_token(conn, self.users[name], name="t", kind="api", ttl=timedelta(hours=1))
                self.tokens[name] = token.token

    def client(self, who: str) -> TestClient:
        self.http.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return self.http

    def create(self, entity: str, values: dict[str, Any], owner: str) -> int:
        record = self.platform.records.create(SYSTEM, "shop", entity, {**values, "owner": self.users[owner]})
        return int(record["id"])

    def stored(self, entity: str, record_id: int) -> dict[str, Any]:
        r = self.client("boss").get(f"/api/apps/shop/records/{entity}/{record_id}", params={"trash": True})
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
def shop(platform: Platform) -> Shop:
    """Ann's order holds her line and a line of Bob's; Bob has an order of his own."""
    shop = Shop(platform)
    ids = shop.ids
    ids["ann_order"] = shop.create("order", {"title": "ann"}, "ann")
    ids["ann_line"] = shop.create("line", {"order": ids["ann_order"], "product": "ann"}, "ann")
    ids["bob_line"] = shop.create("line", {"order": ids["ann_order"], "product": "bob"}, "bob")
    ids["bob_order"] = shop.create("order", {"title": "bob"}, "bob")
    ids["bob_own_line"] = shop.create("line", {"order": ids["bob_order"], "product": "bob"}, "bob")
    return shop


def test_a_child_row_outside_scope_cannot_be_changed_through_the_parent(shop: Shop) -> None:
    ids = shop.ids
    shown = shop.client("ann").get(f"{ORDERS}/{ids['ann_order']}").json()["lines"]
    assert [line["id"] for line in shown] == [ids["ann_line"]]
    assert shop.client("ann").get(f"{LINES}/{ids['bob_line']}").status_code == 404
    before = shop.stored("line", ids["bob_line"])
    r = shop.client("ann").patch(
        f"{ORDERS}/{ids['ann_order']}",
        json={"lines": [{"id": ids["ann_line"]}, {"id": ids["bob_line"], "product": "changed by ann"}]},
    )
    assert r.status_code in (404, 422), r.text
    if r.status_code == 422:
        assert [(p["code"], p["pointer"]) for p in r.json()["error"]["problems"]] == [
            ("unknown_row", "/lines/1/id")
        ]
    assert shop.stored("line", ids["bob_line"]) == before


def test_a_child_row_outside_scope_is_not_trashed_by_leaving_it_out(shop: Shop) -> None:
    """Ann sends back the rows she can see; the row she cannot see is not hers to remove."""
    ids = shop.ids
    before = shop.stored("line", ids["bob_line"])
    url = f"{ORDERS}/{ids['ann_order']}"
    shown = shop.client("ann").get(url).json()["lines"]
    r = shop.client("ann").patch(url, json={"lines": [{**shown[0], "product": "ann 2"}]})
    assert r.status_code == 200, r.text
    assert shop.stored("line", ids["ann_line"])["product"] == "ann 2"
    assert shop.stored("line", ids["bob_line"]) == before
    assert shop.stored("order", ids["ann_order"])["line_count"] == 2


def test_a_child_cannot_be_moved_under_a_parent_outside_scope(shop: Shop) -> None:
    ids = shop.ids
    assert shop.client("ann").get(f"{ORDERS}/{ids['bob_order']}").status_code == 404
    before = {name: shop.stored(e, ids[name]) for name, e in (("ann_line", "line"), ("bob_order", "order"))}
    r = shop.client("ann").patch(f"{LINES}/{ids['ann_line']}", json={"order": ids["bob_order"]})
    assert r.status_code == 422, r.text
    assert [(p["code"], p["pointer"]) for p in r.json()["error"]["problems"]] == [
        ("reference_not_found", "/order")
    ]
    after = {name: shop.stored(e, ids[name]) for name, e in (("ann_line", "line"), ("bob_order", "order"))}
    assert after == before
    assert before["bob_order"]["line_count"] == 1


def test_a_child_cannot_be_created_under_a_parent_outside_scope(shop: Shop) -> None:
    ids = shop.ids
    r = shop.client("ann").post(LINES, json={"order": ids["bob_order"], "product": "injected"})
    assert r.status_code == 422, r.text
    assert [(p["code"], p["pointer"]) for p in r.json()["error"]["problems"]] == [
        ("reference_not_found", "/order")
    ]
    assert shop.stored("order", ids["bob_order"])["line_count"] == 1
    assert shop.client("boss").get(LINES).json()["total"] == 3
