"""Chinese business data through the platform, on SQLite and PostgreSQL: region filters by
grouping, addresses grouped by division code in SQL, working days in list filters, and the
calendar an administrator edits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import rule_engine
from engine import Platform
from form_engine import json_text
from tests.engine.conftest import USER, sign_in

LABEL = {"zh": "标签", "en": "Label"}

APP: dict[str, Any] = {
    "name": "cn",
    "label": {"zh": "中国数据", "en": "China data"},
    "entities": [
        {
            "name": "company",
            "label": {"zh": "公司", "en": "Company"},
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "label": LABEL, "required": True},
                {"name": "uscc", "type": "cn_uscc", "label": LABEL, "unique": True},
                {"name": "region", "type": "region", "label": LABEL},
                {"name": "place", "type": "address", "label": LABEL, "level": "province"},
                {"name": "due", "type": "date", "label": LABEL},
                {"name": "mobile", "type": "cn_mobile", "label": LABEL},
                {"name": "card", "type": "bank_card", "label": LABEL},
                {
                    "name": "capital_words",
                    "type": "formula",
                    "label": LABEL,
                    "expression": "amount_in_words(capital)",
                    "result_type": "text",
                },
                {"name": "capital", "type": "number", "label": LABEL},
            ],
        }
    ],
}

COMPANIES = [
    {"name": "华为", "uscc": "914403001922038216", "region": "深圳", "place": "广东省深圳市龙岗区坂田"},
    {
        "name": "阿里",
        "uscc": "91330100716105852f",
        "region": "杭州余杭",
        "place": "浙江杭州余杭区文一西路969号",
    },
    {"name": "浦发", "region": "上海浦东", "place": "上海浦东新区世纪大道100号", "due": "2026-09-30"},
    {"name": "苏州", "region": "苏州", "place": {"province": "江苏", "city": "苏州", "district": "姑苏区"}},
    {"name": "北京", "region": "北京朝阳区", "place": "北京市朝阳区建国路88号", "due": "2026-10-09"},
]


@pytest.fixture
def cn(client: TestClient) -> Iterator[TestClient]:
    r = client.post("/api/apps", json=APP)
    assert r.status_code == 201, r.text
    for company in COMPANIES:
        r = client.post("/api/apps/cn/records/company", json=company)
        assert r.status_code == 201, r.text
    yield client
    rule_engine.use_calendar(None)  # the platform installed its calendar for this process


def names(client: TestClient, rule: str) -> list[str]:
    r = client.get("/api/apps/cn/records/company", params={"filter": rule, "sort": "name"})
    assert r.status_code == 200, r.text
    return sorted(item["name"] for item in r.json()["items"])


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("region in ['华东']", ["浦发", "苏州", "阿里"]),
        ("region in ['华南', '北京']", ["北京", "华为"]),
        ("region == '上海' or region == '江苏'", ["浦发", "苏州"]),
        ("region != '华东'", ["北京", "华为"]),
        ("region in ['杭州', '310115']", ["浦发", "阿里"]),
        ("region not in ['华东', '华南']", ["北京"]),
    ],
)
def test_list_filters_compare_regions_with_groupings_and_names(
    cn: TestClient, rule: str, expected: list[str]
) -> None:
    assert names(cn, rule) == sorted(expected)


def test_a_region_filter_naming_no_place_is_a_422_with_the_nearest_names(cn: TestClient) -> None:
    r = cn.get("/api/apps/cn/records/company", params={"filter": "region in ['华东地区']"})
    assert r.status_code == 422, r.text
    assert "华东" in r.text
    r = cn.get("/api/apps/cn/records/company", params={"filter": "region == '朝阳区'"})
    assert r.status_code == 422 and "北京市朝阳区" in r.text


def test_records_read_back_with_names_and_codes(cn: TestClient) -> None:
    r = cn.get("/api/apps/cn/records/company", params={"filter": "name == '浦发'"})
    item = r.json()["items"][0]
    assert item["region"] == {
        "code": "310115",
        "province": "上海市",
        "city": "上海市",
        "district": "浦东新区",
    }
    assert item["place"]["district_code"] == "310115" and item["place"]["detail"] == "世纪大道100号"


def test_addresses_group_by_division_code_in_sql(cn: TestClient, platform: Platform) -> None:
    table = platform.cached_runtime("cn").entities["company"].table
    province = json_text(table.c.place, "province_code")
    with platform.db.connect() as conn:
        counts: dict[str, int] = dict(
            conn.execute(sa.select(province, sa.func.count()).group_by(province)).all()
        )
    assert counts == {"440000": 1, "330000": 1, "310000": 1, "320000": 1, "110000": 1}
    city = json_text(table.c.place, "city_code")
    with platform.db.connect() as conn:
        rows = conn.execute(sa.select(city).where(json_text(table.c.place, "district_code") == "330110"))
        assert [r[0] for r in rows] == ["330100"]


def test_the_company_code_is_a_unique_key_however_it_is_typed(cn: TestClient) -> None:
    r = cn.post("/api/apps/cn/records/company", json={"name": "阿里2", "uscc": "9133 0100 7161 0585 2F"})
    assert r.status_code == 409, r.text


def test_bank_cards_are_masked_for_a_member_and_bad_values_are_422(
    cn: TestClient, platform: Platform
) -> None:
    r = cn.post("/api/apps/cn/records/company", json={"name": "卡", "card": "4111111111111112"})
    assert r.status_code == 422 and "Luhn" in r.text
    r = cn.post("/api/apps/cn/records/company", json={"name": "卡", "card": "6200 0000 0000 0005"})
    assert r.status_code == 201 and r.json()["card"] == "6200000000000005"  # an administrator
    roles = [{"name": "member", "label": LABEL, "permissions": {"company": {"read": {"scope": "all"}}}}]
    assert cn.put("/api/apps/cn/roles", json=roles).status_code in (200, 204)
    member = next(u for u in cn.get("/api/users").json() if u["username"] == USER[0])
    r = cn.put(f"/api/apps/cn/users/{member['id']}/roles", json={"roles": ["member"]})
    assert r.status_code in (200, 204), r.text
    other = TestClient(cn.app)
    other.headers.update(sign_in(other, *USER))
    items = other.get("/api/apps/cn/records/company", params={"filter": "name == '卡'"}).json()["items"]
    assert items[0]["card"] != "6200000000000005" and items[0]["card"].endswith("0005")


def test_a_formula_writes_the_amount_in_words(cn: TestClient) -> None:
    r = cn.post("/api/apps/cn/records/company", json={"name": "资本", "capital": "100010.05"})
    assert r.status_code == 201, r.text
    assert r.json()["capital_words"] == "壹拾万零壹拾元零伍分"


def test_working_days_in_list_filters(cn: TestClient) -> None:
    assert names(cn, "add_workdays(due, 1) == date('2026-10-08')") == ["浦发"]
    assert names(cn, "add_workdays(due, 1) == date('2026-10-10')") == ["北京"]
    assert names(cn, "workdays_between(due, date('2026-10-09')) == 2") == ["浦发"]


#: (day, n) -> the expected day, from the 2026 notice (see tests/rule_engine/test_cn_functions.py).
SQL_CASES = [
    (date(2026, 9, 30), 1, date(2026, 10, 8)),
    (date(2026, 10, 3), -1, date(2026, 9, 30)),
    (date(2026, 10, 3), 2, date(2026, 10, 9)),
    (date(2026, 2, 13), 1, date(2026, 2, 14)),
    (date(2026, 1, 3), 0, date(2026, 1, 3)),
    (date(2014, 12, 31), 1, None),
    (None, 1, None),
]


def test_sql_and_python_agree_on_working_days(platform: Platform) -> None:
    scratch = sa.Table("scratch_days", sa.MetaData(), sa.Column("d", sa.Date), sa.Column("n", sa.Integer))
    add = rule_engine.compile("add_workdays(d, n)", {"d": "date", "n": "integer"})
    between = rule_engine.compile("workdays_between(d, date('2026-12-31'))", {"d": "date"})
    with platform.db.begin() as conn:
        scratch.create(conn)
        conn.execute(scratch.insert(), [{"d": d, "n": n} for d, n, _ in SQL_CASES])
        rows = conn.execute(
            sa.select(scratch.c.d, scratch.c.n, add.to_sql(scratch.c), between.to_sql(scratch.c))
        ).all()
    for d, n, expected in SQL_CASES:
        found = next(r for r in rows if (r[0], r[1]) == (d, n))
        assert found[2] == expected == add.evaluate({"d": d, "n": n}), (d, n)
        assert found[3] == between.evaluate({"d": d}), d


def test_an_administrator_edits_the_calendar_and_both_sides_follow(cn: TestClient) -> None:
    r = cn.get("/api/calendar", params={"year": 2026})
    assert r.status_code == 200, r.text
    days = {d["date"]: d for d in r.json()["days"]}
    assert days["2026-10-10"] == {"date": "2026-10-10", "workday": True, "name": "国庆节"}
    assert days["2026-10-01"]["workday"] is False and "chinese-calendar" in r.json()["source"]["package"]

    r = cn.put("/api/calendar/2026-10-08", json={"workday": False, "name": "公司假日"})
    assert r.status_code == 200, r.text
    assert names(cn, "add_workdays(due, 1) == date('2026-10-09')") == ["浦发"]
    add = rule_engine.compile("add_workdays(d, 1)", {"d": "date"})
    assert add.evaluate({"d": date(2026, 9, 30)}) == date(2026, 10, 9)

    assert cn.delete("/api/calendar/2026-10-08").status_code == 200
    assert names(cn, "add_workdays(due, 1) == date('2026-10-08')") == ["浦发"]
    assert add.evaluate({"d": date(2026, 9, 30)}) == date(2026, 10, 8)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/calendar/2050-01-01", {"workday": False, "name": "x"}, 404),
        ("/api/calendar/2026-13-01", {"workday": False, "name": "x"}, 422),
        ("/api/calendar/2026-10-08", {"workday": False}, 422),
        ("/api/calendar/2026-10-08", {"workday": "maybe", "name": "x"}, 422),
    ],
)
def test_bad_calendar_edits_are_4xx(cn: TestClient, path: str, body: dict[str, Any], status: int) -> None:
    r = cn.put(path, json=body)
    assert r.status_code == status, r.text
    assert cn.get("/api/calendar", params={"year": 2099}).status_code == 422


def test_only_administrators_edit_the_calendar(cn: TestClient) -> None:
    other = TestClient(cn.app)
    other.headers.update(sign_in(other, *USER))
    assert other.get("/api/calendar", params={"year": 2026}).status_code == 200
    assert other.put("/api/calendar/2026-10-08", json={"workday": False, "name": "x"}).status_code == 403
    assert other.delete("/api/calendar/2026-10-10").status_code == 403
