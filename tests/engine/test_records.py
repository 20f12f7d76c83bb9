"""Record API: create, read, update, trash, restore, purge, list, history; bad input."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

ACCOUNTS = "/api/apps/sales/records/account"
DEALS = "/api/apps/sales/records/deal"


def _create(client: TestClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_coerces_and_returns_the_stored_record(sales: TestClient) -> None:
    account = _create(sales, ACCOUNTS, {"name": "  华为技术有限公司 ", "grade": "A", "region": "华南"})
    deal = _create(
        sales,
        DEALS,
        {
            "title": "云服务",
            "amount": "1,234,567.89",
            "quantity": "12",
            "won": "是",
            "close_date": "2026/11/22",
            "next_call": "2026-11-22 09:30",
            "account": account["id"],
        },
    )
    assert account["name"] == "华为技术有限公司"
    assert deal["amount"] == "1234567.89"
    assert deal["quantity"] == 12 and deal["won"] is True
    assert deal["close_date"] == "2026-11-22"
    assert deal["next_call"] == "2026-11-22T01:30:00Z"  # 09:30 Beijing time
    assert deal["version"] == 1 and deal["deleted_at"] is None
    assert sales.get(f"{DEALS}/{deal['id']}").json() == deal


def test_money_keeps_every_cent(sales: TestClient) -> None:
    ids = [
        _create(sales, DEALS, {"title": f"d{i}", "amount": a})["id"] for i, a in enumerate(["0.10", "0.20"])
    ]
    got = [sales.get(f"{DEALS}/{i}").json()["amount"] for i in ids]
    assert got == ["0.10", "0.20"]


def test_bad_values_are_all_reported_on_their_fields(sales: TestClient) -> None:
    r = sales.post(
        DEALS,
        json={"amount": "abc", "quantity": 1.5, "close_date": "2026-02-30", "tittle": "x"},
        headers={"Accept-Language": "zh-CN"},
    )
    assert r.status_code == 422, r.text
    problems = {p["field"]: p for p in r.json()["error"]["problems"]}
    assert set(problems) == {"amount", "quantity", "close_date", "tittle", "title"}
    assert problems["title"]["code"] == "required"
    assert "标题" in problems["title"]["message"]
    assert "title" in problems["tittle"]["message"]


def test_too_many_decimals_is_refused_not_rounded(sales: TestClient) -> None:
    r = sales.post(DEALS, json={"title": "x", "amount": "1.005"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["problems"][0]["field"] == "amount"


def test_lookup_to_a_missing_record_is_refused(sales: TestClient) -> None:
    r = sales.post(DEALS, json={"title": "x", "account": 999})
    assert r.status_code == 422, r.text
    [problem] = r.json()["error"]["problems"]
    assert problem["field"] == "account" and problem["code"] == "reference_not_found"


def test_partial_update_changes_only_given_fields_and_bumps_version(sales: TestClient) -> None:
    deal = _create(sales, DEALS, {"title": "a", "amount": "10", "quantity": 1})
    r = sales.patch(f"{DEALS}/{deal['id']}", json={"amount": "20.5", "version": 1})
    assert r.status_code == 200, r.text
    updated = r.json()
    assert updated["amount"] == "20.50" and updated["quantity"] == 1 and updated["title"] == "a"
    assert updated["version"] == 2


def test_stale_update_is_refused_and_changes_nothing(sales: TestClient) -> None:
    deal = _create(sales, DEALS, {"title": "a"})
    assert sales.patch(f"{DEALS}/{deal['id']}", json={"title": "b", "version": 1}).status_code == 200
    r = sales.patch(f"{DEALS}/{deal['id']}", json={"title": "c", "version": 1})
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "stale_version"
    assert r.json()["error"]["details"]["current_version"] == 2
    assert sales.get(f"{DEALS}/{deal['id']}").json()["title"] == "b"


def test_if_match_header_carries_the_version(sales: TestClient) -> None:
    deal = _create(sales, DEALS, {"title": "a"})
    r = sales.patch(f"{DEALS}/{deal['id']}", json={"title": "b"}, headers={"If-Match": '"7"'})
    assert r.status_code == 409, r.text


def test_delete_moves_to_trash_and_restore_brings_back(sales: TestClient) -> None:
    deal = _create(sales, DEALS, {"title": "a"})
    url = f"{DEALS}/{deal['id']}"
    r = sales.delete(url)
    assert r.status_code == 200 and r.json()["deleted_at"] is not None
    assert sales.get(url).status_code == 404
    assert sales.get(DEALS).json()["total"] == 0
    trash = sales.get(DEALS, params={"trash": "true"}).json()
    assert [i["id"] for i in trash["items"]] == [deal["id"]]
    r = sales.post(f"{url}/restore")
    assert r.status_code == 200, r.text
    assert sales.get(url).json()["title"] == "a"


def test_purge_only_from_trash(sales: TestClient) -> None:
    deal = _create(sales, DEALS, {"title": "a"})
    url = f"{DEALS}/{deal['id']}"
    assert sales.delete(url, params={"purge": "true"}).status_code == 422
    sales.delete(url)
    assert sales.delete(url, params={"purge": "true"}).status_code == 200
    assert sales.get(url, params={"trash": "true"}).status_code == 404


def test_unique_field_duplicate_names_the_field_and_existing_record(sales: TestClient) -> None:
    first = _create(sales, ACCOUNTS, {"name": "阿里巴巴"})
    r = sales.post(ACCOUNTS, json={"name": "阿里巴巴"})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "duplicate_value"
    assert error["details"] == {"fields": ["name"], "existing_id": first["id"]}
    assert "阿里巴巴" in error["message"]


def test_trashed_record_does_not_block_a_unique_value(sales: TestClient) -> None:
    first = _create(sales, ACCOUNTS, {"name": "腾讯"})
    sales.delete(f"{ACCOUNTS}/{first['id']}")
    _create(sales, ACCOUNTS, {"name": "腾讯"})
    r = sales.post(f"{ACCOUNTS}/{first['id']}/restore")
    assert r.status_code == 409, r.text


def test_history_records_who_when_and_old_to_new(sales: TestClient) -> None:
    deal = _create(sales, DEALS, {"title": "a", "amount": "1"})
    url = f"{DEALS}/{deal['id']}"
    sales.patch(url, json={"title": "b", "amount": "2.5"})
    sales.delete(url)
    r = sales.get(f"{url}/history")
    assert r.status_code == 200, r.text
    entries = r.json()
    assert [e["op"] for e in entries] == ["create", "update", "delete"]
    assert entries[1]["changes"] == {"title": ["a", "b"], "amount": ["1.00", "2.50"]}
    assert all(e["actor"] == deal["created_by"] for e in entries)


def test_unknown_app_entity_and_record_are_404(sales: TestClient) -> None:
    assert sales.get("/api/apps/nope/records/deal").status_code == 404
    r = sales.get("/api/apps/sales/records/dael")
    assert r.status_code == 404 and "deal" in r.json()["error"]["message"]
    assert sales.get(f"{DEALS}/12345").status_code == 404


def test_bulk_create_is_all_or_nothing(sales: TestClient) -> None:
    r = sales.post(f"{DEALS}/bulk", json={"items": [{"title": "a"}, {"amount": "x"}, {"title": "c"}]})
    assert r.status_code == 422, r.text
    pointers = {p["pointer"] for p in r.json()["error"]["problems"]}
    assert pointers == {"/items/1/amount", "/items/1/title"}
    assert sales.get(DEALS).json()["total"] == 0
    r = sales.post(f"{DEALS}/bulk", json={"items": [{"title": "a"}, {"title": "b"}]})
    assert r.status_code == 201, r.text
    assert r.json()["count"] == 2


def test_list_sorts_pages_and_counts(sales: TestClient) -> None:
    amounts = ["5", "30", "10", "30", "20"]
    for i, amount in enumerate(amounts):
        _create(sales, DEALS, {"title": f"t{i}", "amount": amount})
    r = sales.get(DEALS, params={"sort": "-amount,title", "limit": 2, "offset": 1})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 5
    assert [(i["amount"], i["title"]) for i in page["items"]] == [("30.00", "t3"), ("20.00", "t4")]


def test_bad_sort_and_paging_are_422_with_hints(sales: TestClient) -> None:
    r = sales.get(DEALS, params={"sort": "-amout"})
    assert r.status_code == 422 and "amount" in r.json()["error"]["problems"][0]["message"]
    assert sales.get(DEALS, params={"limit": 0}).status_code == 422
    assert sales.get(DEALS, params={"offset": -1}).status_code == 422
    assert sales.get(DEALS, params={"limit": "many"}).status_code == 422


def test_list_filter_takes_the_rule_dsl(sales: TestClient) -> None:
    a = _create(sales, ACCOUNTS, {"name": "甲", "grade": "A"})
    b = _create(sales, ACCOUNTS, {"name": "乙", "grade": "B"})
    _create(sales, DEALS, {"title": "big A", "amount": "600000", "account": a["id"]})
    _create(sales, DEALS, {"title": "small A", "amount": "100", "account": a["id"]})
    _create(sales, DEALS, {"title": "big B", "amount": "900000", "account": b["id"]})
    _create(sales, DEALS, {"title": "no amount"})
    r = sales.get(DEALS, params={"filter": "amount > 500000 and account.grade == 'A'"})
    assert r.status_code == 200, r.text
    assert [i["title"] for i in r.json()["items"]] == ["big A"]
    r = sales.get(DEALS, params={"filter": "not (amount > 500000)", "sort": "title"})
    assert [i["title"] for i in r.json()["items"]] == ["small A"]


def test_bad_filter_names_line_column_and_nearest_field(sales: TestClient) -> None:
    r = sales.get(DEALS, params={"filter": "amout > 5"})
    assert r.status_code == 422, r.text
    message = r.json()["error"]["problems"][0]["message"]
    assert "amount" in message and "column 1" in message
    assert sales.get(DEALS, params={"filter": "amount >"}).status_code == 422


def test_filter_comparing_a_select_with_no_option_is_422_naming_the_options(sales: TestClient) -> None:
    _create(sales, ACCOUNTS, {"name": "甲", "grade": "A"})
    r = sales.get(ACCOUNTS, params={"filter": "grade == 'a'"})
    assert r.status_code == 422, r.text
    [found] = r.json()["error"]["problems"]
    assert (found["code"], found["pointer"]) == ("invalid_filter", "/filter")
    assert found["message"] == (
        "filter: line 1, column 10: found `'a'`, which is not an option of `grade`, "
        "expected one of `'A'`, `'B'` (did you mean `'A'`?)"
    )
    r = sales.get(ACCOUNTS, params={"filter": "grade == 'A 级'"}, headers={"Accept-Language": "zh"})
    assert (
        "第 1 行第 10 列：`grade` 没有选项 `'A 级'`，可选的值：`'A'`、`'B'`（是否想写 `'A'`？）"
        in (r.json()["error"]["problems"][0]["message"])
    )
    r = sales.get(DEALS, params={"filter": "account.grade in ['A', 'C']"})
    assert r.status_code == 422, r.text
    assert "column 24: found `'C'`, which is not an option of `account.grade`" in r.text
    r = sales.get(ACCOUNTS, params={"filter": "grade == 'A'"})
    assert r.status_code == 200 and [i["name"] for i in r.json()["items"]] == ["甲"]


def test_filter_that_is_not_a_condition_is_422(sales: TestClient) -> None:
    _create(sales, DEALS, {"title": "x", "amount": "1"})
    for text, found in (("title", "text"), ("1", "an integer"), ("amount + 1", "a number")):
        r = sales.get(DEALS, params={"filter": text})
        assert r.status_code == 422, (text, r.text)
        [problem] = r.json()["error"]["problems"]
        assert problem["code"] == "invalid_filter"
        assert problem["message"].startswith(
            f"filter: line 1, column 1: found {found}, expected a condition that is true or false"
        ), problem
        r = sales.get(DEALS, params={"filter": text}, headers={"Accept-Language": "zh"})
        assert "此处应为条件（真或假）" in r.json()["error"]["problems"][0]["message"]
    assert sales.get(DEALS, params={"filter": "account.grade"}).status_code == 422
    assert sales.get(DEALS, params={"filter": "won"}).status_code == 200


def test_ids_beyond_bigint_and_bad_paging_are_422_not_errors(sales: TestClient) -> None:
    huge = 2**70
    assert sales.get(f"{DEALS}/{huge}").status_code == 422
    assert sales.delete(f"{DEALS}/{huge}").status_code == 422
    assert sales.get(DEALS, params={"offset": huge}).status_code == 422


def test_owner_must_be_an_active_user(sales: TestClient) -> None:
    owner: object
    for owner in ({}, "me", 0, 999_999, True):
        r = sales.post(DEALS, json={"title": "x", "owner": owner})
        assert r.status_code == 422, (owner, r.text)
        assert r.json()["error"]["problems"][0]["pointer"] == "/owner"
    admin_id = sales.get("/api/auth/me").json()["id"]
    assert sales.post(DEALS, json={"title": "x", "owner": admin_id}).json()["owner"] == admin_id
