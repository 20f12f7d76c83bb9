"""Bulk update, trash, restore and owner hand-over, by ids or a filter: the same rules, history
and roll-ups as single changes, all or nothing, with a dry run; on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import USER, sales_app, sign_in

APP = "/api/apps/sales"
ACCOUNTS = f"{APP}/records/account"
DEALS = f"{APP}/records/deal"

REP_ROLE = {
    "name": "rep",
    "label": {"zh": "销售代表", "en": "Rep"},
    "permissions": {
        "account": {
            "read": {"scope": "own"},
            "create": True,
            "update": {"scope": "own"},
            "delete": {"scope": "own"},
            "fields": {"grade": {"access": "readonly"}},
        }
    },
}


def _seed(client: TestClient, url: str, *rows: dict[str, Any]) -> list[int]:
    r = client.post(f"{url}/bulk", json={"items": list(rows)})
    assert r.status_code == 201, r.text
    return list(r.json()["ids"])


def _values(client: TestClient, url: str, field: str) -> dict[int, Any]:
    items = client.get(url, params={"limit": 1000, "sort": "id"}).json()["items"]
    return {r["id"]: r[field] for r in items}


@pytest.fixture
def rep(sales: TestClient, anon: TestClient) -> TestClient:
    """The sales app with a rep role held by USER; a second client signed in as USER."""
    package = sales_app()
    package["roles"] = [REP_ROLE]
    assert sales.put(APP, json=package).status_code == 200
    rep_id = next(u["id"] for u in sales.get("/api/users").json() if u["username"] == USER[0])
    assert sales.put(f"{APP}/users/{rep_id}/roles", json={"roles": ["rep"]}).status_code == 200
    client = TestClient(anon.app)
    client.headers.update(sign_in(client, *USER))
    return client


def test_bulk_update_by_filter_changes_only_the_rows_picked_with_history(sales: TestClient) -> None:
    east1, west, east2 = _seed(
        sales,
        ACCOUNTS,
        {"name": "甲", "region": "华东"},
        {"name": "乙", "region": "华南"},
        {"name": "丙", "region": "华东"},
    )
    r = sales.patch(ACCOUNTS, params={"filter": "region == '华东'"}, json={"values": {"grade": "A"}})
    assert r.status_code == 200, r.text
    assert r.json() == {"matched": 2, "count": 2, "ids": [east1, east2], "dry_run": False}
    assert _values(sales, ACCOUNTS, "grade") == {east1: "A", west: None, east2: "A"}
    history = sales.get(f"{ACCOUNTS}/{east1}/history").json()
    assert history[-1]["op"] == "update" and history[-1]["changes"] == {"grade": [None, "A"]}
    # the same values again change nothing, and the version stays
    again = sales.patch(ACCOUNTS, json={"ids": [east1], "values": {"grade": "A"}}).json()
    assert again["matched"] == 1 and again["count"] == 0
    assert sales.get(f"{ACCOUNTS}/{east1}").json()["version"] == 2


def test_bulk_update_picks_what_the_list_shows_for_a_filter_and_keywords(sales: TestClient) -> None:
    """``q`` narrows as the list's search does (Chinese substrings and pinyin of the title)."""
    hua_east, hua_south, other_east = _seed(
        sales,
        ACCOUNTS,
        {"name": "华为技术", "region": "华东"},
        {"name": "华为终端", "region": "华南"},
        {"name": "中兴通讯", "region": "华东"},
    )
    listed = sales.get(ACCOUNTS, params={"filter": "region == '华东'", "q": "华为"}).json()["items"]
    assert [r["id"] for r in listed] == [hua_east]
    r = sales.patch(ACCOUNTS, json={"filter": "region == '华东'", "q": "华为", "values": {"grade": "A"}})
    assert r.status_code == 200, r.text
    assert r.json()["ids"] == [hua_east]
    # keywords alone pick every record they find, pinyin too
    r = sales.patch(ACCOUNTS, json={"q": "huawei", "values": {"grade": "B"}})
    assert r.status_code == 200, r.text
    assert _values(sales, ACCOUNTS, "grade") == {hua_east: "B", hua_south: "B", other_east: None}
    # a blank search picks nothing by itself: not every record
    blank = sales.patch(ACCOUNTS, json={"q": "  ", "values": {"grade": "A"}})
    assert blank.status_code == 422, blank.text
    assert _values(sales, ACCOUNTS, "grade") == {hua_east: "B", hua_south: "B", other_east: None}
    # keywords narrow a filter, never a list of ids
    refused = sales.patch(ACCOUNTS, json={"ids": [other_east], "q": "华为", "values": {"grade": "A"}})
    assert refused.status_code == 422 and "q" in refused.json()["error"]["message"]
    assert _values(sales, ACCOUNTS, "grade")[other_east] is None


def test_bulk_update_dry_run_counts_and_changes_nothing(sales: TestClient) -> None:
    ids = _seed(sales, ACCOUNTS, {"name": "甲"}, {"name": "乙"})
    r = sales.patch(
        ACCOUNTS, params={"dry_run": "true"}, json={"filter": "grade is null", "values": {"grade": "B"}}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"matched": 2, "count": 2, "ids": ids, "dry_run": True}
    assert set(_values(sales, ACCOUNTS, "grade").values()) == {None}
    assert len(sales.get(f"{ACCOUNTS}/{ids[0]}/history").json()) == 1


def test_bulk_update_is_all_or_nothing(sales: TestClient) -> None:
    a, b = _seed(sales, ACCOUNTS, {"name": "甲"}, {"name": "乙"})
    r = sales.patch(ACCOUNTS, json={"ids": [a, b], "values": {"name": "同名"}})
    assert r.status_code == 409, r.text
    assert _values(sales, ACCOUNTS, "name") == {a: "甲", b: "乙"}
    deal = _seed(sales, DEALS, {"title": "单"})[0]
    bad = sales.patch(DEALS, json={"ids": [deal], "values": {"quantity": "many"}})
    assert bad.status_code == 422, bad.text
    assert bad.json()["error"]["problems"][0]["pointer"] == f"/records/{deal}/quantity"


def test_bulk_update_moves_roll_ups_like_single_updates(sales: TestClient) -> None:
    package = sales_app()
    package["entities"][0]["fields"].append(
        {
            "name": "pipeline",
            "type": "rollup",
            "label": {"zh": "金额合计", "en": "Pipeline"},
            "entity": "deal",
            "link_field": "account",
            "function": "sum",
            "field": "amount",
        }
    )
    assert sales.put(APP, json=package).status_code == 200
    [account] = _seed(sales, ACCOUNTS, {"name": "甲"})
    _seed(
        sales,
        DEALS,
        {"title": "一", "amount": 100, "account": account},
        {"title": "二", "amount": 50, "account": account},
    )
    r = sales.patch(DEALS, json={"filter": f"account.id == {account}", "values": {"amount": 1000}})
    assert r.status_code == 200 and r.json()["count"] == 2, r.text
    assert sales.get(f"{ACCOUNTS}/{account}").json()["pipeline"] == "2000.00"


def test_bulk_update_picks_only_rows_and_fields_the_caller_may_update(
    sales: TestClient, rep: TestClient
) -> None:
    [mine] = _seed(rep, ACCOUNTS, {"name": "我的"})
    [theirs] = _seed(sales, ACCOUNTS, {"name": "别人的"})
    r = rep.patch(ACCOUNTS, json={"filter": "", "values": {"region": "华北"}})
    assert r.status_code == 200 and r.json()["ids"] == [mine], r.text
    assert sales.get(f"{ACCOUNTS}/{theirs}").json()["region"] is None
    assert rep.patch(ACCOUNTS, json={"ids": [mine, theirs], "values": {"region": "x"}}).status_code == 404
    assert rep.patch(ACCOUNTS, json={"ids": [mine], "values": {"grade": "A"}}).status_code == 403
    assert sales.get(f"{ACCOUNTS}/{mine}").json()["region"] == "华北"


def test_bulk_delete_and_restore_by_filter_and_ids(sales: TestClient) -> None:
    a, b, c = _seed(
        sales, ACCOUNTS, {"name": "甲", "region": "x"}, {"name": "乙", "region": "x"}, {"name": "丙"}
    )
    dry = sales.post(
        f"{ACCOUNTS}/bulk-delete", params={"filter": "region == 'x'", "dry_run": "true"}, json={}
    )
    assert dry.json()["count"] == 2 and sales.get(ACCOUNTS).json()["total"] == 3
    r = sales.post(f"{ACCOUNTS}/bulk-delete", json={"filter": "region == 'x'"})
    assert r.status_code == 200 and r.json()["ids"] == [a, b], r.text
    assert [i["id"] for i in sales.get(ACCOUNTS).json()["items"]] == [c]
    assert sales.get(f"{ACCOUNTS}/{a}/history").json()[-1]["op"] == "delete"
    # restoring a live record among them is refused, and nothing is restored
    mixed = sales.post(f"{ACCOUNTS}/bulk-restore", json={"ids": [a, c]})
    assert mixed.status_code == 409 and mixed.json()["error"]["details"]["ids"] == [c]
    assert sales.get(ACCOUNTS).json()["total"] == 1
    r = sales.post(f"{ACCOUNTS}/bulk-restore", json={"filter": "name == '甲'"})
    assert r.status_code == 200 and r.json()["ids"] == [a]
    r = sales.post(f"{ACCOUNTS}/bulk-restore", json={"ids": [b]})
    assert r.status_code == 200 and r.json()["ids"] == [b]
    assert sales.get(ACCOUNTS).json()["total"] == 3


def test_restoring_a_live_record_is_a_conflict(sales: TestClient) -> None:
    [a] = _seed(sales, ACCOUNTS, {"name": "甲"})
    r = sales.post(f"{ACCOUNTS}/{a}/restore")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict", r.text
    assert sales.get(f"{ACCOUNTS}/{a}").json()["version"] == 1


def test_a_selection_is_ids_or_a_filter(sales: TestClient) -> None:
    [a] = _seed(sales, ACCOUNTS, {"name": "甲"})
    bodies: list[dict[str, Any]] = [{"values": {}}, {"ids": [a], "filter": "", "values": {}}]
    for body in bodies:
        r = sales.patch(ACCOUNTS, json=body)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input", r.text
    assert sales.patch(ACCOUNTS, json={"filter": "nmae == 'x'", "values": {}}).status_code == 422


def test_transfer_by_filter_and_reassign_every_record_of_a_user(sales: TestClient, rep: TestClient) -> None:
    rep_id = next(u["id"] for u in sales.get("/api/users").json() if u["username"] == USER[0])
    admin_accounts = _seed(sales, ACCOUNTS, {"name": "甲", "region": "x"}, {"name": "乙"})
    [deal] = _seed(sales, DEALS, {"title": "单"})
    r = sales.post(f"{ACCOUNTS}/transfer", json={"filter": "region == 'x'", "owner": rep_id})
    assert r.status_code == 200 and r.json()["transferred"] == [admin_accounts[0]], r.text
    assert rep.get(ACCOUNTS).json()["total"] == 1

    dry = sales.post(f"{APP}/reassign", params={"dry_run": "true"}, json={"from_user": 1, "to_user": rep_id})
    assert dry.json()["count"] == 2 and rep.get(ACCOUNTS).json()["total"] == 1
    r = sales.post(f"{APP}/reassign", json={"from_user": 1, "to_user": rep_id})
    assert r.status_code == 200, r.text
    assert r.json()["transferred"] == {"account": [admin_accounts[1]], "deal": [deal]}
    assert rep.get(ACCOUNTS).json()["total"] == 2
    assert sales.get(f"{DEALS}/{deal}/history").json()[-1]["op"] == "transfer"
    assert rep.post(f"{APP}/reassign", json={"from_user": rep_id, "to_user": 1}).status_code == 403


def test_the_apps_openapi_describes_the_bulk_routes(sales: TestClient) -> None:
    paths = sales.get(f"{APP}/openapi.json").json()["paths"]
    assert paths[ACCOUNTS]["patch"]["operationId"] == "bulk_update_account"
    assert paths[f"{ACCOUNTS}/bulk-delete"]["post"]["operationId"] == "bulk_delete_account"
    assert paths[f"{ACCOUNTS}/bulk-restore"]["post"]["operationId"] == "bulk_restore_account"
    assert "expand" in [p["name"] for p in paths[ACCOUNTS]["get"]["parameters"]]
