"""Changing an entity migrates its table in place and never loses data silently."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import Platform

from .conftest import sales_app

ACCOUNT_URL = "/api/apps/sales/entities/account"
ACCOUNTS = "/api/apps/sales/records/account"


def _account_def() -> dict[str, Any]:
    return sales_app()["entities"][0]


def _put(client: TestClient, definition: dict[str, Any], status: int = 200) -> dict[str, Any]:
    r = client.put(ACCOUNT_URL, json=definition)
    assert r.status_code == status, r.text
    return r.json()


def _seed(client: TestClient, *rows: dict[str, Any]) -> list[int]:
    ids = []
    for row in rows:
        r = client.post(ACCOUNTS, json=row)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return ids


def test_add_field_keeps_existing_rows(sales: TestClient) -> None:
    [rid] = _seed(sales, {"name": "甲", "region": "华东"})
    definition = _account_def()
    definition["fields"].append(
        {"name": "employees", "type": "integer", "label": {"zh": "员工数", "en": "Employees"}}
    )
    _put(sales, definition)
    record = sales.get(f"{ACCOUNTS}/{rid}").json()
    assert record["region"] == "华东" and record["employees"] is None
    assert sales.patch(f"{ACCOUNTS}/{rid}", json={"employees": 120}).json()["employees"] == 120


def test_rename_field_keeps_data(sales: TestClient) -> None:
    [rid] = _seed(sales, {"name": "甲", "region": "华东"})
    definition = _account_def()
    definition["fields"][2] = {
        "id": "region",
        "name": "sales_region",
        "type": "text",
        "label": {"zh": "销售区域", "en": "Sales region"},
    }
    _put(sales, definition)
    record = sales.get(f"{ACCOUNTS}/{rid}").json()
    assert record["sales_region"] == "华东" and "region" not in record


def test_retype_converts_values(sales: TestClient) -> None:
    ids = _seed(sales, {"name": "甲", "region": "1,200"}, {"name": "乙", "region": "35"}, {"name": "丙"})
    definition = _account_def()
    definition["fields"][2] = {
        "id": "region",
        "name": "region",
        "type": "integer",
        "label": {"zh": "区", "en": "R"},
    }
    _put(sales, definition)
    got = [sales.get(f"{ACCOUNTS}/{i}").json()["region"] for i in ids]
    assert got == [1200, 35, None]


def test_retype_that_cannot_convert_is_refused_listing_rows_and_changes_nothing(
    sales: TestClient, platform: Platform
) -> None:
    ids = _seed(
        sales, {"name": "甲", "region": "12"}, {"name": "乙", "region": "华东"}, {"name": "丙", "region": "x"}
    )
    definition = _account_def()
    definition["fields"][2] = {
        "id": "region",
        "name": "region",
        "type": "integer",
        "label": {"zh": "区", "en": "R"},
    }
    r = sales.put(ACCOUNT_URL, json=definition)
    assert r.status_code == 409, r.text
    details = r.json()["error"]["details"]
    assert details["total"] == 2
    assert [(row["id"], row["value"]) for row in details["rows"]] == [(ids[1], "华东"), (ids[2], "x")]
    assert sales.get(f"{ACCOUNTS}/{ids[0]}").json()["region"] == "12"
    assert sales.get("/api/apps/sales").json()["entities"][0]["fields"][2]["type"] == "text"
    column = {c["name"]: c for c in sa.inspect(platform.db).get_columns("sales__account")}["region"]
    assert isinstance(column["type"], sa.String)


def test_removed_field_data_is_recoverable_until_purged(sales: TestClient, platform: Platform) -> None:
    [rid] = _seed(sales, {"name": "甲", "region": "华东"})
    definition = _account_def()
    region = definition["fields"].pop(2)
    _put(sales, definition)
    assert "region" not in sales.get(f"{ACCOUNTS}/{rid}").json()
    definition["fields"].append(region)
    _put(sales, definition)
    assert sales.get(f"{ACCOUNTS}/{rid}").json()["region"] == "华东"
    definition["fields"].pop(2)
    _put(sales, definition)
    r = sales.post(f"{ACCOUNT_URL}/purge")
    assert r.status_code == 200 and r.json() == {"purged": ["region"]}
    columns = {c["name"] for c in sa.inspect(platform.db).get_columns("sales__account")}
    assert not any("region" in c for c in columns)
    definition["fields"].append(region)
    _put(sales, definition)
    assert sales.get(f"{ACCOUNTS}/{rid}").json()["region"] is None


def test_adding_unique_over_duplicates_is_refused_with_the_rows(sales: TestClient) -> None:
    ids = _seed(
        sales,
        {"name": "甲", "region": "华东"},
        {"name": "乙", "region": "华东"},
        {"name": "丙", "region": "华北"},
    )
    definition = _account_def()
    definition["fields"][2]["unique"] = True
    r = sales.put(ACCOUNT_URL, json=definition)
    assert r.status_code == 409, r.text
    [group] = r.json()["error"]["details"]["rows"]
    assert group["ids"] == ids[:2] and group["value"] == {"region": "华东"}
    sales.patch(f"{ACCOUNTS}/{ids[1]}", json={"region": "华南"})
    _put(sales, definition)
    r = sales.post(ACCOUNTS, json={"name": "丁", "region": "华北"})
    assert r.status_code == 409 and r.json()["error"]["details"]["existing_id"] == ids[2]


def test_composite_unique_index(sales: TestClient, platform: Platform) -> None:
    definition = _account_def()
    definition["indexes"] = [{"fields": ["region", "grade"], "unique": True}]
    _put(sales, definition)
    _seed(
        sales, {"name": "甲", "region": "华东", "grade": "A"}, {"name": "乙", "region": "华东", "grade": "B"}
    )
    r = sales.post(ACCOUNTS, json={"name": "丙", "region": "华东", "grade": "A"})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["fields"] == ["region", "grade"]
    indexes = sa.inspect(platform.db).get_indexes("sales__account")
    assert any(ix["unique"] and ix["column_names"] == ["region", "grade"] for ix in indexes)


def test_new_entity_via_put_creates_its_table(sales: TestClient, platform: Platform) -> None:
    r = sales.put(
        "/api/apps/sales/entities/contact",
        json={
            "name": "contact",
            "label": {"zh": "联系人", "en": "Contact"},
            "fields": [{"name": "full_name", "type": "text", "label": {"zh": "姓名", "en": "Name"}}],
        },
    )
    assert r.status_code == 201, r.text
    assert sa.inspect(platform.db).has_table("sales__contact")
    assert sales.get("/api/apps").json()[0]["version"] == 2


def test_bad_entity_definition_lists_problems(sales: TestClient) -> None:
    definition = _account_def()
    definition["fields"].append({"name": "id", "type": "integer", "label": {"zh": "x", "en": "x"}})
    definition["fields"].append(
        {"name": "bad", "type": "integer", "label": {"zh": "x", "en": "x"}, "max": "many"}
    )
    r = sales.put(ACCOUNT_URL, json=definition)
    assert r.status_code == 422, r.text
    pointers = [p["pointer"] for p in r.json()["error"]["problems"]]
    assert any(p.startswith("/fields/4") for p in pointers)


def test_restoring_a_removed_field_under_another_type_converts_its_data(sales: TestClient) -> None:
    ids = _seed(sales, {"name": "甲", "region": "1,200"}, {"name": "乙", "region": "35"})
    definition = _account_def()
    region = definition["fields"].pop(2)
    _put(sales, definition)
    definition["fields"].append({**region, "type": "integer"})
    _put(sales, definition)
    assert [sales.get(f"{ACCOUNTS}/{i}").json()["region"] for i in ids] == [1200, 35]


def test_restoring_under_a_type_the_data_cannot_take_is_refused(sales: TestClient) -> None:
    [rid] = _seed(sales, {"name": "甲", "region": "华东"})
    definition = _account_def()
    region = definition["fields"].pop(2)
    _put(sales, definition)
    definition["fields"].append({**region, "type": "integer"})
    r = sales.put(ACCOUNT_URL, json=definition)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["details"]["rows"][0]["id"] == rid
    definition["fields"][-1] = region
    _put(sales, definition)
    assert sales.get(f"{ACCOUNTS}/{rid}").json()["region"] == "华东"


def test_two_fields_may_swap_names(sales: TestClient) -> None:
    [rid] = _seed(sales, {"name": "甲", "region": "华东"})
    definition = _account_def()
    name, grade, region = definition["fields"]
    definition["fields"] = [
        {**name, "id": "name", "name": "region"},
        grade,
        {**region, "id": "region", "name": "name"},
    ]
    definition["title_field"] = "region"
    _put(sales, definition)
    record = sales.get(f"{ACCOUNTS}/{rid}").json()
    assert (record["region"], record["name"]) == ("甲", "华东")
