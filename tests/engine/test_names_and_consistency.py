"""Names instead of ids (titles on reads, the user directory, history by name) and the small
consistency items (ETag, PATCH {}, history's create entry, error wording, ``_ignored``), on
both databases."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from .conftest import USER, sales_app, sign_in

APP = "/api/apps/sales"
ACCOUNTS = f"{APP}/records/account"
DEALS = f"{APP}/records/deal"


def _with_deal_fields(client: TestClient, *fields: dict[str, Any], roles: list[Any] | None = None) -> None:
    package = sales_app()
    package["entities"][1]["fields"] += list(fields)
    if roles is not None:
        package["roles"] = roles
    r = client.put(APP, json=package)
    assert r.status_code == 200, r.text


def _user_id(client: TestClient, username: str) -> int:
    return int(next(u["id"] for u in client.get("/api/users").json() if u["username"] == username))


def test_expand_titles_names_lookups_users_and_departments(sales: TestClient) -> None:
    department = sales.post("/api/departments", json={"name": "销售部"}).json()["id"]
    _with_deal_fields(sales, {"name": "team", "type": "department", "label": {"zh": "部门", "en": "Team"}})
    assert sales.patch("/api/users/1", json={"display_name": "王伟"}).status_code == 200
    account = sales.post(ACCOUNTS, json={"name": "华为"}).json()["id"]
    deal = sales.post(DEALS, json={"title": "大单", "account": account, "team": department}).json()["id"]

    one = sales.get(f"{DEALS}/{deal}", params={"expand": "titles"}).json()
    assert one["account"] == account
    assert one["_titles"] == {
        "account": "华为",
        "team": "销售部",
        "owner": "王伟",
        "created_by": "王伟",
        "updated_by": "王伟",
    }
    page = sales.get(DEALS, params={"expand": "titles"}).json()
    assert page["items"][0]["_titles"]["account"] == "华为"
    assert "_titles" not in sales.get(DEALS).json()["items"][0]
    assert sales.get(DEALS, params={"expand": "everything"}).status_code == 422


def test_a_title_the_reader_may_not_read_is_null(sales: TestClient, anon: TestClient) -> None:
    rep_role = {
        "name": "rep",
        "label": {"zh": "代表", "en": "Rep"},
        "permissions": {"deal": {"read": True}, "account": {"read": {"scope": "own"}}},
    }
    _with_deal_fields(sales, roles=[rep_role])
    assert (
        sales.put(f"{APP}/users/{_user_id(sales, USER[0])}/roles", json={"roles": ["rep"]}).status_code == 200
    )
    account = sales.post(ACCOUNTS, json={"name": "别人的客户"}).json()["id"]
    deal = sales.post(DEALS, json={"title": "单", "account": account}).json()["id"]
    rep = sign_in(anon, *USER)
    shown = anon.get(f"{DEALS}/{deal}", params={"expand": "titles"}, headers=rep).json()
    assert shown["account"] == account and shown["_titles"]["account"] is None


def test_the_user_directory_is_open_to_signed_in_users_and_shows_no_more(
    sales: TestClient, anon: TestClient
) -> None:
    department = sales.post("/api/departments", json={"name": "华东区"}).json()["id"]
    rep_id = _user_id(sales, USER[0])
    sales.patch(f"/api/users/{rep_id}", json={"department_id": department, "display_name": "李雷"})
    rep = sign_in(anon, *USER)
    r = anon.get("/api/directory/users", headers=rep)
    assert r.status_code == 200, r.text
    me = next(p for p in r.json() if p["id"] == rep_id)
    assert me == {
        "id": rep_id,
        "name": "李雷",
        "department_id": department,
        "department": "华东区",
        "is_active": True,
    }
    assert anon.get("/api/users", headers=rep).status_code == 403
    assert TestClient(anon.app).get("/api/directory/users").status_code == 401
    sales.patch(f"/api/users/{rep_id}", json={"is_active": False})
    active = sales.get("/api/directory/users", params={"active": "true"}).json()
    assert rep_id not in [p["id"] for p in active]


def test_history_keeps_the_initial_values_and_names_who(sales: TestClient) -> None:
    sales.patch("/api/users/1", json={"display_name": "管理员"})
    rid = sales.post(ACCOUNTS, json={"name": "甲", "region": "华东"}).json()["id"]
    first = sales.get(f"{ACCOUNTS}/{rid}/history").json()
    assert first[0]["op"] == "create" and first[0]["changes"] == {
        "name": [None, "甲"],
        "region": [None, "华东"],
    }
    assert first[0]["actor_name"] == "管理员"
    sales.patch(f"{ACCOUNTS}/{rid}", json={"region": "华南", "grade": "A"})
    later = sales.get(f"{ACCOUNTS}/{rid}/history").json()
    assert [e["op"] for e in later] == ["create", "update"]
    assert later[0]["changes"] == {"name": [None, "甲"], "region": [None, "华东"]}
    assert later[1]["changes"] == {"region": ["华东", "华南"], "grade": [None, "A"]}
    assert later[1]["actor_name"] == "管理员"
    sales.delete(f"{ACCOUNTS}/{rid}")
    assert [e["op"] for e in sales.get(f"{ACCOUNTS}/{rid}/history").json()] == ["create", "update", "delete"]


def test_a_record_trashed_unchanged_keeps_its_creation_in_history(sales: TestClient) -> None:
    rid = sales.post(ACCOUNTS, json={"name": "乙"}).json()["id"]
    sales.delete(f"{ACCOUNTS}/{rid}")
    history = sales.get(f"{ACCOUNTS}/{rid}/history").json()
    assert [(e["op"], e["changes"]) for e in history] == [
        ("create", {"name": [None, "乙"]}),
        ("delete", None),
    ]


def test_etag_on_read_and_conditional_requests(sales: TestClient) -> None:
    rid = sales.post(ACCOUNTS, json={"name": "甲"}).json()["id"]
    r = sales.get(f"{ACCOUNTS}/{rid}")
    assert r.headers["etag"] == 'W/"1"'
    assert sales.get(f"{ACCOUNTS}/{rid}", headers={"If-None-Match": 'W/"1"'}).status_code == 304
    changed = sales.patch(f"{ACCOUNTS}/{rid}", json={"region": "x"}, headers={"If-Match": r.headers["etag"]})
    assert changed.status_code == 200 and changed.headers["etag"] == 'W/"2"'
    stale = sales.patch(f"{ACCOUNTS}/{rid}", json={"region": "y"}, headers={"If-Match": r.headers["etag"]})
    assert stale.status_code == 409
    assert sales.get(f"{ACCOUNTS}/{rid}", headers={"If-None-Match": 'W/"1"'}).status_code == 200


def test_an_empty_patch_changes_nothing_even_with_formulas(sales: TestClient) -> None:
    _with_deal_fields(
        sales,
        {
            "name": "total",
            "type": "formula",
            "label": {"zh": "合计", "en": "Total"},
            "expression": "amount * quantity",
            "result_type": "number",
        },
    )
    rid = sales.post(DEALS, json={"title": "单", "amount": "12.5", "quantity": 3}).json()["id"]
    r = sales.patch(f"{DEALS}/{rid}", json={})
    assert r.status_code == 200 and r.json()["version"] == 1, r.text
    assert [e["op"] for e in sales.get(f"{DEALS}/{rid}/history").json()] == ["create"]


def test_values_a_write_ignored_are_named(sales: TestClient) -> None:
    _with_deal_fields(sales)
    package = sales_app()
    notes = next(f for f in package["entities"][1]["fields"] if f["name"] == "notes")
    notes["visible_if"] = "won == true"
    assert sales.put(APP, json=package).status_code == 200
    r = sales.post(DEALS, json={"title": "单", "won": False, "notes": "备注"})
    assert r.status_code == 201 and r.json()["_ignored"] == ["notes"] and r.json()["notes"] is None
    kept = sales.post(DEALS, json={"title": "单", "won": True, "notes": "备注"}).json()
    assert "_ignored" not in kept and kept["notes"] == "备注"
    r = sales.patch(f"{DEALS}/{kept['id']}", json={"won": False, "notes": "改"})
    assert r.json()["_ignored"] == ["notes"]


def test_bad_bodies_are_named_for_what_they_are(sales: TestClient) -> None:
    empty = sales.post(ACCOUNTS, content=b"", headers={"content-type": "application/json"}).json()["error"]
    assert empty["problems"] == [
        {"code": "body_missing", "pointer": "/", "message": empty["problems"][0]["message"]}
    ]
    assert "empty" in empty["problems"][0]["message"]
    array = sales.post(ACCOUNTS, json=[{"name": "x"}]).json()["error"]["problems"][0]["message"]
    assert "JSON object" in array and "dictionary" not in array
    bulk = sales.post(f"{ACCOUNTS}/bulk", json=[{"name": "x"}]).json()["error"]["problems"][0]["message"]
    assert "JSON object" in bulk and "dictionary" not in bulk
    gbk = sales.post(
        ACCOUNTS, content='{"name": "华为"}'.encode("gbk"), headers={"content-type": "application/json"}
    )
    assert gbk.status_code == 400 and gbk.json()["error"]["code"] == "invalid_encoding"
    assert "UTF-8" in gbk.json()["error"]["message"]
    zh = sales.post(
        ACCOUNTS,
        content='{"name": "华为"}'.encode("gbk"),
        headers={"content-type": "application/json", "Accept-Language": "zh"},
    )
    assert "UTF-8" in zh.json()["error"]["message"] and "编码" in zh.json()["error"]["message"]


def test_definition_messages_stay_in_one_language(sales: TestClient) -> None:
    package = sales_app()
    package["entities"][0]["fields"].append(
        {
            "name": "deals",
            "type": "rollup",
            "label": {"zh": "商机数", "en": "Deals"},
            "entity": "deal",
            "link_field": "nope",
        }
    )
    en = sales.put(APP, json=package).json()["error"]["problems"][0]["message"]
    zh = sales.put(APP, json=package, headers={"Accept-Language": "zh"}).json()["error"]["problems"][0][
        "message"
    ]
    assert "nope" in en and "字段" not in en and "field" in en
    assert "nope" in zh and "field" not in zh and "字段" in zh
