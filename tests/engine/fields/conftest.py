"""An app with every field type ("lab"), imported through the HTTP API on each database."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

LAB = "/api/apps/lab/records"


def label(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh": zh, "en": en or zh}


def field(name: str, type_: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": label(name), **settings}


def options(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": label(v)} for v in values]


ITEM_FIELDS = [
    field("title", "text", max_length=20),
    field("notes", "long_text"),
    field("body", "rich_text"),
    field("count", "integer", min=0),
    field("price", "number", scale=2),
    field("cost", "currency"),
    field("share", "percent"),
    field("active", "boolean"),
    field("due", "date"),
    field("meet_at", "datetime"),
    field("opens", "time"),
    field("grade", "select", options=options("a", "b", "c")),
    field("colours", "multi_select", options=options("red", "green", "blue")),
    field("email", "email"),
    field("phone", "phone"),
    field("site", "url"),
    field("resident_id", "cn_resident_id"),
    field("stars", "rating"),
    field("labels", "tags"),
    field("code", "auto_number", pattern="IT-{YYYY}-{seq:4}"),
    field("assignee", "user"),
    field("dept", "department"),
    field("team", "lookup", entity="team"),
    field("teams", "many_to_many", entity="team"),
    field("files", "attachment"),
    field("photos", "image"),
    field("sign", "signature"),
    field("place", "address"),
    field("spot", "geolocation"),
    field("extra", "json"),
    field("hue", "colour"),
    field("gross", "formula", expression="price * count", result_type="number", scale=2),
    field("made_by", "created_by"),
    field("changed_by", "updated_by"),
    field("made_at", "created_at"),
    field("changed_at", "updated_at"),
]

LAB_APP: dict[str, Any] = {
    "name": "lab",
    "label": label("实验", "Lab"),
    "entities": [
        {"name": "team", "label": label("团队", "Team"), "fields": [field("name", "text", required=True)]},
        {
            "name": "item",
            "label": label("条目", "Item"),
            "fields": ITEM_FIELDS,
            "forms": [
                {
                    "name": "quick",
                    "label": label("快速", "Quick"),
                    "layout": [
                        {"field": "title"},
                        {"field": "grade"},
                        {"field": "price", "visible_if": "grade == 'a'", "required_if": "grade == 'a'"},
                    ],
                }
            ],
        },
        {
            "name": "order",
            "label": label("订单", "Order"),
            "fields": [
                field("title", "text", required=True),
                field("number", "auto_number", pattern="SO-{YYYYMMDD}-{seq:4}"),
                field("lines", "sub_table", entity="line", link_field="order"),
                field("line_count", "rollup", entity="line", link_field="order", function="count"),
                field("total", "rollup", entity="line", link_field="order", function="sum", field="amount"),
                field(
                    "big_total",
                    "rollup",
                    entity="line",
                    link_field="order",
                    function="sum",
                    field="amount",
                    filter="amount > 100",
                ),
                field("top", "rollup", entity="line", link_field="order", function="max", field="amount"),
                field("low", "rollup", entity="line", link_field="order", function="min", field="amount"),
                field("mean", "rollup", entity="line", link_field="order", function="avg", field="amount"),
                field("taxed", "formula", expression="total * 2", result_type="number", scale=2),
            ],
        },
        {
            "name": "line",
            "label": label("明细", "Line"),
            "fields": [
                field("order", "lookup", entity="order"),
                field("product", "text", required=True),
                field("amount", "number", scale=2),
                field("no", "auto_number", pattern="{seq:3}"),
            ],
        },
        {
            "name": "contact",
            "label": label("联系人", "Contact"),
            "fields": [
                field("name", "text"),
                field("phone", "phone"),
                field("email", "email"),
                field("team", "lookup", entity="team"),
            ],
            "duplicate_rules": [
                {"name": "by_phone", "fields": ["phone"], "policy": "block"},
                {"name": "by_email", "fields": ["email"], "policy": "warn"},
                {"name": "by_name", "fields": ["name"], "policy": "allow"},
            ],
        },
        {
            "name": "note",
            "label": label("备注", "Note"),
            "fields": [
                field("text", "text"),
                field("contact", "lookup", entity="contact"),
                field("contacts", "many_to_many", entity="contact"),
            ],
        },
    ],
}


@pytest.fixture
def lab(client: TestClient) -> TestClient:
    """The admin client with the lab app imported."""
    r = client.post("/api/apps", json=LAB_APP)
    assert r.status_code == 201, r.text
    return client


def create(client: TestClient, entity: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
    r = client.post(f"{LAB}/{entity}", json=body, params=params)
    assert r.status_code == 201, r.text
    return r.json()


def problems(r: Any) -> dict[str, dict[str, Any]]:
    """Problems of an error response by JSON pointer."""
    return {p["pointer"]: p for p in r.json()["error"]["problems"]}
