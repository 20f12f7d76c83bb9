"""Sub-tables, roll-ups and many-to-many through the record API: saved with the parent, kept
correct under updates, re-parenting, trash and restore of the related records."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import Platform
from tests.engine.fields.conftest import LAB, create, problems

ORDERS = f"{LAB}/order"
LINES = f"{LAB}/line"


def order(client: TestClient, order_id: int) -> dict[str, Any]:
    r = client.get(f"{ORDERS}/{order_id}")
    assert r.status_code == 200, r.text
    return r.json()


def rollups(o: dict[str, Any]) -> tuple[Any, ...]:
    return o["line_count"], o["total"], o["big_total"], o["top"], o["low"], o["mean"], o["taxed"]


def test_sub_table_rows_are_saved_with_the_parent_and_shown_in_it(lab: TestClient) -> None:
    o = create(lab, "order", {"title": "o", "lines": [{"product": "a", "amount": "150"}, {"product": "b"}]})
    assert [line["product"] for line in o["lines"]] == ["a", "b"]
    assert all(line["order"] == o["id"] for line in o["lines"])
    assert [line["no"] for line in o["lines"]] == ["001", "002"]
    assert order(lab, o["id"])["lines"] == o["lines"]
    assert o["number"].startswith("SO-") and o["number"].endswith("-0001")


def test_bad_child_rows_are_pointed_at_and_nothing_is_saved(lab: TestClient) -> None:
    r = lab.post(ORDERS, json={"title": "o", "lines": [{"product": "a"}, {"amount": "x"}, 5]})
    assert r.status_code == 422, r.text
    assert problems(r)["/lines"]["code"] == "invalid_rows"
    r = lab.post(ORDERS, json={"title": "o", "lines": [{"product": "a"}, {"amount": "x"}]})
    assert r.status_code == 422, r.text
    assert set(problems(r)) == {"/lines/1/amount", "/lines/1/product"}
    assert lab.get(ORDERS).json()["total"] == 0 and lab.get(LINES).json()["total"] == 0


def test_update_replaces_rows_by_id_and_roll_ups_follow(lab: TestClient) -> None:
    o = create(
        lab,
        "order",
        {"title": "o", "lines": [{"product": "a", "amount": "150"}, {"product": "b", "amount": "10"}]},
    )
    assert rollups(o) == (2, "160.00", "150.00", "150.00", "10.00", "80.00", "320.00")
    a, _b = o["lines"]
    r = lab.patch(
        f"{ORDERS}/{o['id']}", json={"lines": [{**a, "amount": "200"}, {"product": "c", "amount": "1"}]}
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert [(line["product"], line["amount"]) for line in changed["lines"]] == [
        ("a", "200.00"),
        ("c", "1.00"),
    ]
    assert changed["lines"][0]["id"] == a["id"]
    assert rollups(changed) == (2, "201.00", "200.00", "200.00", "1.00", "100.50", "402.00")
    assert lab.get(LINES, params={"trash": True}).json()["total"] == 1  # b went to the trash
    r = lab.patch(f"{ORDERS}/{o['id']}", json={"lines": [{"id": 999, "product": "z"}]})
    assert r.status_code == 422 and "/lines/0/id" in problems(r)
    assert order(lab, o["id"])["lines"] == changed["lines"]


def test_roll_ups_follow_direct_child_writes_including_re_parenting(lab: TestClient) -> None:
    one = create(lab, "order", {"title": "one"})
    two = create(lab, "order", {"title": "two"})
    assert rollups(one) == (0, "0.00", "0.00", None, None, None, "0.00")
    line = create(lab, "line", {"order": one["id"], "product": "p", "amount": "500"})
    create(lab, "line", {"order": one["id"], "product": "q", "amount": "50"})
    assert rollups(order(lab, one["id"]))[:3] == (2, "550.00", "500.00")
    r = lab.patch(f"{LINES}/{line['id']}", json={"amount": "20"})
    assert r.status_code == 200, r.text
    assert rollups(order(lab, one["id"])) == (2, "70.00", "0.00", "50.00", "20.00", "35.00", "140.00")
    r = lab.patch(f"{LINES}/{line['id']}", json={"order": two["id"]})
    assert r.status_code == 200, r.text
    assert rollups(order(lab, one["id"]))[:2] == (1, "50.00")
    assert rollups(order(lab, two["id"]))[:2] == (1, "20.00")
    assert lab.delete(f"{LINES}/{line['id']}").status_code == 200
    assert rollups(order(lab, two["id"]))[:2] == (0, "0.00")
    assert lab.post(f"{LINES}/{line['id']}/restore").status_code == 200
    assert rollups(order(lab, two["id"]))[:2] == (1, "20.00")


def test_children_are_trashed_and_restored_with_the_parent(lab: TestClient) -> None:
    o = create(lab, "order", {"title": "o", "lines": [{"product": "a"}, {"product": "b"}, {"product": "c"}]})
    early = o["lines"][0]["id"]
    assert lab.delete(f"{LINES}/{early}").status_code == 200
    assert lab.delete(f"{ORDERS}/{o['id']}").status_code == 200
    assert lab.get(LINES).json()["total"] == 0
    assert lab.post(f"{ORDERS}/{o['id']}/restore").status_code == 200
    restored = order(lab, o["id"])
    assert [line["product"] for line in restored["lines"]] == ["b", "c"]  # a was trashed before
    assert restored["line_count"] == 2
    history = lab.get(f"{LINES}/{restored['lines'][0]['id']}/history").json()
    assert [e["op"] for e in history] == ["create", "delete", "restore"]


def test_many_to_many_ids_are_checked_replaced_and_listed(lab: TestClient) -> None:
    a, b = (create(lab, "contact", {"name": n})["id"] for n in ("a", "b"))
    note = create(lab, "note", {"text": "n", "contacts": [b, a]})
    assert note["contacts"] == [a, b]
    r = lab.patch(f"{LAB}/note/{note['id']}", json={"contacts": [b]})
    assert r.status_code == 200 and r.json()["contacts"] == [b]
    assert lab.patch(f"{LAB}/note/{note['id']}", json={"text": "m"}).json()["contacts"] == [b]
    r = lab.patch(f"{LAB}/note/{note['id']}", json={"contacts": [b, 404]})
    assert r.status_code == 422 and problems(r)["/contacts/1"]["code"] == "reference_not_found"
    assert lab.delete(f"{LAB}/contact/{b}").status_code == 200
    assert lab.get(f"{LAB}/note").json()["items"][0]["contacts"] == []
    assert lab.post(f"{LAB}/contact/{b}/restore").status_code == 200
    assert lab.get(f"{LAB}/note/{note['id']}").json()["contacts"] == [b]


def test_many_to_many_link_tables_follow_the_schema(lab: TestClient) -> None:
    app = lab.get("/api/apps/lab").json()
    note = next(e for e in app["entities"] if e["name"] == "note")
    a = create(lab, "contact", {"name": "a"})["id"]
    create(lab, "note", {"contacts": [a]})
    kept = {**note, "fields": [f for f in note["fields"] if f["name"] != "contacts"]}
    r = lab.put("/api/apps/lab/entities/note", json=kept)
    assert r.status_code == 200, r.text
    assert "contacts" not in lab.get(f"{LAB}/note").json()["items"][0]
    r = lab.put("/api/apps/lab/entities/note", json=note)  # re-added with the same id: links are back
    assert r.status_code == 200, r.text
    assert lab.get(f"{LAB}/note").json()["items"][0]["contacts"] == [a]
    added = {
        **note,
        "fields": [
            *note["fields"],
            {"name": "more", "type": "many_to_many", "entity": "team", "label": {"zh": "更多", "en": "More"}},
        ],
    }
    assert lab.put("/api/apps/lab/entities/note", json=added).status_code == 200
    t = create(lab, "team", {"name": "t"})["id"]
    assert create(lab, "note", {"more": [t]})["more"] == [t]


def test_purging_a_parent_purges_its_children_and_links(lab: TestClient, platform: Platform) -> None:
    o = create(lab, "order", {"title": "o", "lines": [{"product": "a"}, {"product": "b"}]})
    line_ids = [line["id"] for line in o["lines"]]
    assert lab.delete(f"{ORDERS}/{o['id']}").status_code == 200
    assert lab.get(LINES, params={"trash": "true"}).json()["total"] == 2
    assert lab.delete(f"{ORDERS}/{o['id']}", params={"purge": "true"}).status_code == 200
    assert lab.get(LINES, params={"trash": "true"}).json()["total"] == 0
    assert all(lab.get(f"{LINES}/{i}", params={"trash": "true"}).status_code == 404 for i in line_ids)

    contact = create(lab, "contact", {"name": "c"})["id"]
    note = create(lab, "note", {"text": "n", "contacts": [contact]})
    lab.delete(f"{LAB}/contact/{contact}")
    assert lab.delete(f"{LAB}/contact/{contact}", params={"purge": "true"}).status_code == 200
    table = platform.cached_runtime("lab").entity("note").link_tables["contacts"]
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(table).where(table.c.source_id == note["id"])).all() == []
