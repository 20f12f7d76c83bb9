"""Every field type through the record API: good values stored and read back, bad values refused
with a problem on the field, filters on every type with a DSL type, sort where meaningful."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform
from engine.identity.departments import create_department
from tests.engine.fields.conftest import LAB, create, problems

ITEMS = f"{LAB}/item"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


def upload(
    client: TestClient, field: str, name: str = "a.png", data: bytes = PNG, ctype: str = "image/png"
) -> Any:
    return client.post(
        "/api/apps/lab/files", params={"entity": "item", "field": field}, files={"file": (name, data, ctype)}
    )


@pytest.fixture
def dept(platform: Platform) -> int:
    with platform.db.begin() as conn:
        return create_department(conn, "Sales")


def good_values(client: TestClient, dept: int) -> dict[str, Any]:
    team = create(client, "team", {"name": "Blue"})["id"]
    other = create(client, "team", {"name": "Red"})["id"]
    files = [upload(client, name).json() for name in ("files", "photos", "sign")]
    return {
        "title": "  Acme  ",
        "notes": "line 1\nline 2",
        "body": "<p>hi<script>alert(1)</script></p>",
        "count": "1,200",
        "price": "1,234.50",
        "cost": "¥99.9",
        "share": "12.5%",
        "active": "是",
        "due": "2026/11/22",
        "meet_at": "2026-11-22 09:30",
        "opens": "9:30",
        "grade": "b",
        "colours": ["blue", "red", "blue"],
        "email": " Li@Example.COM ",
        "phone": "13812345678",
        "site": "www.example.com/a",
        "resident_id": "11010519491231002x",
        "stars": 4,
        "labels": ["VIP", " vip ", "key  account"],
        "assignee": 2,
        "dept": dept,
        "team": team,
        "teams": [other, team, other],
        "files": [files[0]],
        "photos": [files[1]],
        "sign": files[2],
        "place": {"province": "北京", "district": "朝阳", "detail": "建国路 88 号"},
        "spot": "39.9042, 116.4074",
        "extra": {"a": [1, 2]},
        "hue": "#abc",
    }


def check_stored(item: dict[str, Any], values: dict[str, Any]) -> None:
    assert item["title"] == "Acme"
    assert item["notes"] == "line 1\nline 2"
    assert "script" not in item["body"] and "hi" in item["body"]
    assert item["count"] == 1200
    assert item["price"] == "1234.50"
    assert Decimal(item["cost"]) == Decimal("99.9")
    assert Decimal(item["share"]) == Decimal("0.125")
    assert item["active"] is True
    assert item["due"] == "2026-11-22"
    assert item["meet_at"] == "2026-11-22T01:30:00Z"
    assert item["opens"].startswith("09:30")
    assert item["grade"] == "b"
    assert item["colours"] == ["red", "blue"]
    assert item["email"] == "Li@example.com"
    assert item["phone"] == "+8613812345678"
    assert item["site"] == "https://www.example.com/a"
    assert item["resident_id"].endswith("X")
    assert item["stars"] == 4
    assert item["labels"] == ["VIP", "key account"]
    assert re.fullmatch(r"IT-\d{4}-0001", item["code"])
    assert item["assignee"] == 2 and item["dept"] == values["dept"] and item["team"] == values["team"]
    assert item["teams"] == sorted({*values["teams"]})
    assert [f["id"] for f in item["files"]] == [values["files"][0]["id"]]
    assert item["photos"][0]["content_type"] == "image/png"
    assert item["sign"]["id"] == values["sign"]["id"]
    assert item["place"]["province"] == "北京市" and item["place"]["district"] == "朝阳区"
    assert item["spot"] == {"lat": 39.9042, "lng": 116.4074}
    assert item["extra"] == {"a": [1, 2]}
    assert item["hue"] == "#AABBCC"
    assert item["gross"] == "1481400.00"
    assert item["made_by"] == item["changed_by"] == 1
    assert item["made_at"] == item["created_at"] and item["changed_at"] == item["updated_at"]


def test_every_type_stores_good_values_and_reads_them_back(lab: TestClient, dept: int) -> None:
    values = good_values(lab, dept)
    item = create(lab, "item", values)
    check_stored(item, values)
    again = lab.get(f"{ITEMS}/{item['id']}").json()
    check_stored(again, values)
    listed = lab.get(ITEMS).json()["items"][0]
    assert listed["teams"] == item["teams"] and listed["made_by"] == 1


BAD: dict[str, tuple[Any, str]] = {
    "title": ("x" * 21, "too_long"),
    "body": (["<p>"], "invalid_text"),
    "count": ("12.5", "invalid_integer"),
    "price": ("1.234", "too_many_digits"),
    "cost": ({"amount": "1", "currency": "USD"}, "wrong_currency"),
    "share": ("ten%", "invalid_number"),
    "active": ("maybe", "invalid_boolean"),
    "due": ("2026-02-30", "invalid_date"),
    "meet_at": ("tomorrow", "invalid_datetime"),
    "opens": ("25:00", "invalid_time"),
    "grade": ("z", "invalid_option"),
    "colours": (["red", "pink"], "invalid_option"),
    "email": ("someone@", "invalid_email"),
    "phone": ("12345", "invalid_phone"),
    "site": ("javascript:alert(1)", "invalid_url"),
    "resident_id": ("110105194912310021", "resident_id_checksum"),
    "stars": (6, "invalid_rating"),
    "labels": ({"a": 1}, ""),
    "code": ("IT-1", "not_writable"),
    "assignee": ("bob", "invalid_user"),
    "dept": (1.5, "invalid_department"),
    "team": (-3, "invalid_reference"),
    "teams": ("1", "invalid_list"),
    "files": ("a.pdf", "invalid_list"),
    "photos": ([{"id": "x", "name": "a.exe", "size": 1, "content_type": "application/x-msdownload"}], ""),
    "sign": ({"id": "x"}, "invalid_file"),
    "spot": ({"lat": 91, "lng": 0}, "invalid_geolocation"),
    "hue": ("blue", "invalid_colour"),
    "gross": ("1", "not_writable"),
    "made_by": (1, "not_writable"),
    "made_at": ("2026-01-01", "not_writable"),
}


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_type_refuses_bad_values_on_its_field(lab: TestClient, locale: str) -> None:
    r = lab.post(ITEMS, json={k: v for k, (v, _c) in BAD.items()}, headers={"Accept-Language": locale})
    assert r.status_code == 422, r.text
    found = problems(r)
    for name, (_value, code) in BAD.items():
        assert f"/{name}" in found, f"{name}: no problem reported"
        if code:
            assert found[f"/{name}"]["code"] == code, found[f"/{name}"]
        assert found[f"/{name}"]["message"]
    assert lab.get(ITEMS).json()["total"] == 0


def test_references_must_exist(lab: TestClient, dept: int) -> None:
    r = lab.post(ITEMS, json={"assignee": 99, "dept": dept + 5, "team": 42})
    assert r.status_code == 422, r.text
    found = problems(r)
    assert {k: p["code"] for k, p in found.items()} == {
        "/assignee": "reference_not_found",
        "/dept": "reference_not_found",
        "/team": "reference_not_found",
    }
    r = lab.post(ITEMS, json={"teams": [77]})
    assert r.status_code == 422 and "/teams/0" in problems(r)


def test_an_inactive_user_cannot_be_assigned(lab: TestClient, platform: Platform) -> None:
    from engine.schema import system_tables as st

    with platform.db.begin() as conn:
        conn.execute(st.users.update().where(st.users.c.id == 2).values(is_active=False))
    r = lab.post(ITEMS, json={"assignee": 2})
    assert r.status_code == 422 and problems(r)["/assignee"]["code"] == "reference_not_found"


def test_update_changes_each_type_and_recomputes_the_formula(lab: TestClient, dept: int) -> None:
    item = create(lab, "item", good_values(lab, dept))
    r = lab.patch(f"{ITEMS}/{item['id']}", json={"count": 2, "grade": "c", "teams": [], "labels": None})
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["gross"] == "2469.00"  # price 1234.50 (unchanged) * count 2
    assert changed["teams"] == [] and changed["labels"] is None and changed["grade"] == "c"
    assert changed["code"] == item["code"]
    r = lab.patch(f"{ITEMS}/{item['id']}", json={"phone": "12"})
    assert r.status_code == 422 and problems(r)["/phone"]["code"] == "invalid_phone"
    assert lab.get(f"{ITEMS}/{item['id']}").json()["phone"] == "+8613812345678"


FILTERS = [
    "title == 'Acme'",
    "starts_with(notes, 'line')",
    "contains(body, 'hi')",
    "count > 1000",
    "price >= 1234.5",
    "cost < 100",
    "share == 0.125",
    "active == true",
    "due == date('2026-11-22')",
    "meet_at < datetime('2026-11-23T00:00:00')",
    "grade in ['a', 'b']",
    "contains(colours, 'red')",
    "email == 'Li@example.com'",
    "phone == '+8613812345678'",
    "starts_with(site, 'https://')",
    "resident_id is not null",
    "stars >= 4",
    "contains(labels, 'VIP')",
    "ends_with(code, '-0001')",
    "assignee == 2",
    "dept is not null",
    "team is not null",
    "team.name == 'Blue'",
    "hue == '#AABBCC'",
    "gross > 1000",
    "made_by == 1 and count > 0",
    "changed_by == 1 and changed_at <= now() and made_at <= now() and count > 0",
]


def test_every_type_with_a_dsl_type_filters_lists(lab: TestClient, dept: int) -> None:
    create(lab, "item", good_values(lab, dept))
    create(lab, "item", {"title": "other", "labels": [], "colours": None})
    for text in FILTERS:
        r = lab.get(ITEMS, params={"filter": text})
        assert r.status_code == 200, (text, r.text)
        assert [i["title"] for i in r.json()["items"]] == ["Acme"], text
    r = lab.get(ITEMS, params={"filter": "is_blank(labels)"})
    assert [i["title"] for i in r.json()["items"]] == ["other"]


SORTABLE = [
    "title",
    "count",
    "price",
    "cost",
    "share",
    "active",
    "due",
    "meet_at",
    "opens",
    "grade",
    "email",
    "phone",
    "site",
    "stars",
    "code",
    "hue",
    "gross",
    "made_at",
    "changed_by",
]
UNSORTABLE = [
    "colours",
    "labels",
    "files",
    "photos",
    "sign",
    "place",
    "spot",
    "extra",
    "team",
    "teams",
    "assignee",
    "dept",
    "body",
    "resident_id",
]


def test_sort_where_meaningful_and_a_clear_refusal_elsewhere(lab: TestClient) -> None:
    create(lab, "item", {"title": "b", "count": 1, "due": "2026-01-02"})
    create(lab, "item", {"title": "a", "count": 2, "due": "2026-01-01"})
    for name in SORTABLE:
        r = lab.get(ITEMS, params={"sort": f"-{name}"})
        assert r.status_code == 200, (name, r.text)
    assert [i["title"] for i in lab.get(ITEMS, params={"sort": "due"}).json()["items"]] == ["a", "b"]
    assert [i["title"] for i in lab.get(ITEMS, params={"sort": "-count"}).json()["items"]] == ["a", "b"]
    for name in UNSORTABLE:
        r = lab.get(ITEMS, params={"sort": name}, headers={"Accept-Language": "zh"})
        assert r.status_code == 422, (name, r.text)
        [problem] = r.json()["error"]["problems"]
        assert problem["pointer"] == "/sort" and "不能排序" in problem["message"], problem


def test_auto_numbers_count_up_without_gaps_and_failed_creates_give_theirs_back(lab: TestClient) -> None:
    first = create(lab, "item", {"title": "a"})["code"]
    assert lab.post(ITEMS, json={"title": "x" * 30}).status_code == 422
    r = lab.post(f"{ITEMS}/bulk", json={"items": [{"title": "b"}, {"title": "c"}]})
    assert r.status_code == 201, r.text
    codes = [i["code"] for i in lab.get(ITEMS, params={"sort": "id"}).json()["items"]]
    assert codes[0] == first and [c[-4:] for c in codes] == ["0001", "0002", "0003"]
