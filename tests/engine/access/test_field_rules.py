"""Hidden, read-only and masked fields: applied to every output (record, list, history) and
refused on write with the field named (403, code forbidden, one problem per field)."""

from __future__ import annotations

from typing import Any

from engine.access.masking import mask

from .conftest import URL, Org


def test_rep_sees_masked_phone_and_id_and_no_hidden_credit(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    rep = org.client(api, "rep_e")
    record = rep.get(f"{URL}/{records['r1']}").json()
    assert record["phone"] == "138****1234"
    assert record["id_number"] == "110101********123X"
    assert "credit" not in record and record["grade"] == "A"
    listed = rep.get(URL).json()["items"]
    assert all(i["phone"] == "138****1234" and "credit" not in i for i in listed)


def test_roles_add_up_the_least_restricted_rule_wins(org: Org, api: Any, records: dict[str, int]) -> None:
    head = org.client(api, "head").get(f"{URL}/{records['r1']}").json()
    assert head["phone"] == "13812341234" and head["credit"] == 5000
    assert head["id_number"] == "110101********123X"
    admin = org.client(api, "admin").get(f"{URL}/{records['r1']}").json()
    assert admin["id_number"] == "11010119900307123X"


def test_history_applies_the_same_rules(org: Org, api: Any, records: dict[str, int]) -> None:
    admin = org.client(api, "admin")
    r = admin.patch(f"{URL}/{records['r1']}", json={"phone": "13900001111", "credit": 9000, "name": "r1b"})
    assert r.status_code == 200, r.text
    history = org.client(api, "rep_e").get(f"{URL}/{records['r1']}/history").json()
    changes = history[-1]["changes"]
    assert changes["phone"] == ["138****1234", "139****1111"]
    assert "credit" not in changes and changes["name"] == ["r1", "r1b"]
    full = admin.get(f"{URL}/{records['r1']}/history").json()[-1]["changes"]
    assert full["credit"] == [5000, 9000]


def test_writes_to_hidden_readonly_or_masked_fields_are_refused_by_name(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    rep = org.client(api, "rep_e")
    url = f"{URL}/{records['r1']}"
    for body, field, code in [
        ({"grade": "B"}, "grade", "field_read_only"),
        ({"credit": 1}, "credit", "field_hidden"),
        ({"phone": "138****1234"}, "phone", "field_masked"),
    ]:
        r = rep.patch(url, json=body)
        assert r.status_code == 403, r.text
        [problem] = r.json()["error"]["problems"]
        assert problem["field"] == field and problem["code"] == code and problem["pointer"] == f"/{field}"
    r = rep.post(URL, json={"name": "new", "credit": 1, "grade": "A"})
    assert r.status_code == 403 and {p["field"] for p in r.json()["error"]["problems"]} == {"credit", "grade"}
    created = rep.post(URL, json={"name": "new", "phone": "13700001234"})
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == "137****1234"
    assert admin_value(org, api, created.json()["id"], "phone") == "13700001234"


def admin_value(org: Org, api: Any, record_id: int, field: str) -> Any:
    return org.client(api, "admin").get(f"{URL}/{record_id}").json()[field]


def test_mask_kinds() -> None:
    assert mask("phone", "13812341234") == "138****1234"
    assert mask("phone", "+86 138 1234 1234") == "138****1234"
    assert mask("id_number", "11010119900307123X") == "110101********123X"
    assert mask("email", "wang.li@example.cn") == "w***@example.cn"
    assert mask("name", "张三丰") == "张**"
    assert mask("bank_card", "6222 0200 1234 5678") == "**** 5678"
    assert mask("all", 123) == "******"
    assert mask("phone", None) is None


def test_filtering_or_sorting_by_a_hidden_or_masked_field_is_refused(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    rep = org.client(api, "rep_e")
    for params, pointer, field in [
        ({"filter": "credit > 1000"}, "/filter", "credit"),
        ({"filter": "phone == '13812341234'"}, "/filter", "phone"),
        ({"sort": "-credit"}, "/sort", "credit"),
    ]:
        r = rep.get(URL, params=params)
        assert r.status_code == 403, r.text
        [problem] = r.json()["error"]["problems"]
        assert problem["field"] == field and problem["pointer"] == pointer
    assert rep.get(URL, params={"filter": "grade == 'A'", "sort": "-name"}).json()["total"] == 2
    assert org.client(api, "head").get(URL, params={"filter": "credit > 1000"}).json()["total"] == 3
