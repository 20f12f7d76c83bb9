"""Writes that must never lose or duplicate data: ragged bulk items, retried creates, unique
values with stray spaces, a null owner, purging a record others still point at."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import USER, sign_in
from .fields.conftest import field, label

PACKAGE: dict[str, Any] = {
    "name": "inv",
    "label": label("库存", "Inventory"),
    "entities": [
        {
            "name": "item",
            "label": label("物品", "Item"),
            "fields": [
                field("code", "text", unique=True),
                field("colour", "text", default="灰"),
                field("size", "integer"),
                field("note", "text"),
            ],
        },
        {
            "name": "move",
            "label": label("出入库", "Move"),
            "fields": [field("item", "lookup", entity="item"), field("qty", "integer")],
        },
    ],
}
ITEMS = "/api/apps/inv/records/item"
MOVES = "/api/apps/inv/records/move"


@pytest.fixture
def inv(client: TestClient) -> TestClient:
    r = client.post("/api/apps", json=PACKAGE)
    assert r.status_code == 201, r.text
    return client


def _stored(client: TestClient) -> list[dict[str, Any]]:
    r = client.get(ITEMS, params={"sort": "id", "limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_bulk_items_keep_exactly_their_own_values(inv: TestClient) -> None:
    items = [{"code": "a"}, {"code": "b", "size": 3, "note": "extra"}, {"code": "c", "colour": "红"}]
    r = inv.post(f"{ITEMS}/bulk", json={"items": items})
    assert r.status_code == 201, r.text
    got = [(i["code"], i["colour"], i["size"], i["note"]) for i in _stored(inv)]
    # An omitted field takes its default (colour) or stays empty, as in a single create.
    assert got == [("a", "灰", None, None), ("b", "灰", 3, "extra"), ("c", "红", None, None)]


def test_a_retried_bulk_create_with_the_same_key_creates_nothing_more(inv: TestClient) -> None:
    body = {"items": [{"code": "x1"}, {"code": "x2"}]}
    first = inv.post(f"{ITEMS}/bulk", json=body, headers={"Idempotency-Key": "batch-7"})
    again = inv.post(f"{ITEMS}/bulk", json=body, headers={"Idempotency-Key": "batch-7"})
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert [i["code"] for i in _stored(inv)] == ["x1", "x2"]
    other = inv.post(
        f"{ITEMS}/bulk", json={"items": [{"code": "x3"}]}, headers={"Idempotency-Key": "batch-7"}
    )
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "conflict"
    assert [i["code"] for i in _stored(inv)] == ["x1", "x2"]


def test_a_retried_single_create_answers_the_same_record(inv: TestClient) -> None:
    headers = {"Idempotency-Key": "f0e1d2c3"}
    first = inv.post(ITEMS, json={"code": "s1"}, headers=headers)
    again = inv.post(ITEMS, json={"code": "s1"}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["id"] == first.json()["id"]
    assert len(_stored(inv)) == 1


def test_a_failed_create_does_not_use_up_its_key(inv: TestClient) -> None:
    headers = {"Idempotency-Key": "try-again"}
    assert inv.post(ITEMS, json={"code": "d", "size": "many"}, headers=headers).status_code == 422
    r = inv.post(ITEMS, json={"code": "d", "size": 2}, headers=headers)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("spaced", [" k1", "k1 ", "  k1  "])
def test_a_unique_value_with_stray_spaces_is_a_409_not_a_500(inv: TestClient, spaced: str) -> None:
    assert inv.post(ITEMS, json={"code": "k1"}).status_code == 201
    r = inv.post(ITEMS, json={"code": spaced})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "duplicate_value"
    other = inv.post(ITEMS, json={"code": "k2"}).json()
    r = inv.patch(f"{ITEMS}/{other['id']}", json={"code": spaced})
    assert r.status_code == 409, r.text
    assert [i["code"] for i in _stored(inv)] == ["k1", "k2"]


def test_a_null_owner_on_create_means_the_creator(inv: TestClient) -> None:
    r = inv.post(ITEMS, json={"code": "o", "owner": None})
    assert r.status_code == 201, r.text
    me = inv.get("/api/auth/me").json()["id"]
    assert r.json()["owner"] == me


def test_purging_a_record_others_point_at_is_refused_and_lists_them(inv: TestClient) -> None:
    item = inv.post(ITEMS, json={"code": "p"}).json()
    move = inv.post(MOVES, json={"item": item["id"], "qty": 1}).json()
    assert inv.delete(f"{ITEMS}/{item['id']}").status_code == 200
    r = inv.delete(f"{ITEMS}/{item['id']}", params={"purge": "true"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "conflict"
    assert error["details"]["referrers"] == [
        {"entity": "move", "id": move["id"], "field": "item", "target": item["id"]}
    ]
    # A trashed referrer still counts: it could be restored.
    assert inv.delete(f"{MOVES}/{move['id']}").status_code == 200
    assert inv.delete(f"{ITEMS}/{item['id']}", params={"purge": "true"}).status_code == 409
    assert inv.delete(f"{MOVES}/{move['id']}", params={"purge": "true"}).status_code == 200
    r = inv.delete(f"{ITEMS}/{item['id']}", params={"purge": "true"})
    assert r.status_code == 200, r.text


def test_a_purged_record_keeps_its_history_for_admins_and_its_id(inv: TestClient) -> None:
    first = inv.post(ITEMS, json={"code": "h1"}).json()
    last = inv.post(ITEMS, json={"code": "h2"}).json()
    inv.patch(f"{ITEMS}/{last['id']}", json={"note": "changed"})
    inv.delete(f"{ITEMS}/{last['id']}")
    assert inv.delete(f"{ITEMS}/{last['id']}", params={"purge": "true"}).status_code == 200
    history = inv.get(f"{ITEMS}/{last['id']}/history")
    assert history.status_code == 200, history.text
    assert [e["op"] for e in history.json()] == ["create", "update", "delete", "purge"]
    assert history.json()[0]["changes"]["code"] == [None, "h2"]  # the initial values stay too
    assert history.json()[1]["changes"] == {"note": [None, "changed"]}
    rep = TestClient(inv.app)
    rep.headers.update(sign_in(rep, *USER))
    assert rep.get(f"{ITEMS}/{last['id']}/history").status_code in (403, 404)
    # The purged record was the newest: its id is not handed out again.
    new = inv.post(ITEMS, json={"code": "h3"}).json()
    assert new["id"] > last["id"] > first["id"]
