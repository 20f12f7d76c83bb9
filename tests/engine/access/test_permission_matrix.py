"""The permission matrix: role x scope x operation -> allowed rows, on list, count, get, update
and delete. Reports and exports do not exist yet in the kernel; ``export`` is checked as a
grant only (the report engine will call the same ``row_filter``)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import RECORDS, URL, Org

ALL = set(RECORDS)

#: who -> operation -> the records it may touch, or "403" when the operation is not granted
MATRIX: dict[str, dict[str, Any]] = {
    "rep_e": {"read": {"r1", "r2"}, "update": {"r1", "r2"}, "delete": "403"},
    "rep_w": {"read": {"r3", "r4"}, "update": {"r3", "r4"}, "delete": "403"},
    "head": {"read": {"r1", "r2", "r5"}, "update": {"r1", "r2", "r5"}, "delete": {"r1", "r2", "r5"}},
    "director": {"read": ALL - {"r7"}, "update": ALL - {"r7"}, "delete": "403"},
    "viewer": {"read": {"r1", "r3", "r7"}, "update": "403", "delete": "403"},
    "stranger": {"read": "403", "update": "403", "delete": "403"},
    "admin": {"read": ALL, "update": ALL, "delete": ALL},
}


@pytest.mark.parametrize("who", list(MATRIX))
def test_list_count_and_get_show_exactly_the_rows_in_scope(
    who: str, org: Org, api: Any, records: dict[str, int]
) -> None:
    client = org.client(api, who)
    expected = MATRIX[who]["read"]
    r = client.get(URL, params={"limit": 1000})
    if expected == "403":
        assert r.status_code == 403, r.text
        assert r.json()["error"]["details"]["permission"] == "crm.customer.read"
        return
    assert r.status_code == 200, r.text
    names = {item["name"] for item in r.json()["items"]}
    assert names == expected
    assert r.json()["total"] == len(expected)
    filtered = client.get(URL, params={"filter": "region == '华东'"}).json()
    assert filtered["total"] == len({n for n in expected if RECORDS[n][1] == "华东"})
    for name, record_id in records.items():
        got = client.get(f"{URL}/{record_id}")
        assert got.status_code == (200 if name in expected else 404), (who, name, got.text)


@pytest.mark.parametrize("who", list(MATRIX))
def test_update_is_404_outside_scope_and_403_when_not_granted(
    who: str, org: Org, api: Any, records: dict[str, int]
) -> None:
    client = org.client(api, who)
    expected = MATRIX[who]["update"]
    for name, record_id in records.items():
        r = client.patch(f"{URL}/{record_id}", json={"region": "西北"})
        if expected == "403":
            assert r.status_code == 403, r.text
            assert r.json()["error"]["details"]["permission"] == "crm.customer.update"
        else:
            assert r.status_code == (200 if name in expected else 404), (who, name, r.text)


@pytest.mark.parametrize("who", list(MATRIX))
def test_delete_is_404_outside_scope_and_403_when_not_granted(
    who: str, org: Org, api: Any, records: dict[str, int]
) -> None:
    client = org.client(api, who)
    expected = MATRIX[who]["delete"]
    for name, record_id in records.items():
        r = client.delete(f"{URL}/{record_id}")
        if expected == "403":
            assert r.status_code == 403, r.text
            assert "crm.customer.delete" in r.json()["error"]["message"]
        else:
            assert r.status_code == (200 if name in expected else 404), (who, name, r.text)


def test_export_is_granted_only_where_a_role_says_so(org: Org, records: dict[str, int]) -> None:
    from engine.context import Context
    from engine.errors import Forbidden
    from engine.identity.users import authenticate_token

    platform = org.platform
    er = platform.cached_runtime("crm").entity("customer")
    with platform.db.connect() as conn:
        director = Context(user=authenticate_token(conn, org.tokens["director"]))
        rep = Context(user=authenticate_token(conn, org.tokens["rep_e"]))
    platform.access.require(director, er, "export")
    assert platform.access.row_filter(director, None, er, "export") is None  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        platform.access.require(rep, er, "export")


def test_denials_are_audited(org: Org, api: Any, records: dict[str, int]) -> None:
    assert org.client(api, "stranger").get(URL).status_code == 403
    audit = org.client(api, "admin").get("/api/audit", params={"event": "permission_denied"}).json()
    assert audit["total"] == 1
    [entry] = audit["items"]
    assert entry["username"] == "stranger" and entry["details"]["permission"] == "crm.customer.read"
