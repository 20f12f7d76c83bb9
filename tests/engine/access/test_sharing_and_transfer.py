"""Ownership transfer (with history, all or none) and sharing one record with a user or a
department."""

from __future__ import annotations

from typing import Any

from .conftest import URL, Org


def _names(client: Any) -> set[str]:
    return {i["name"] for i in client.get(URL).json()["items"]}


def test_manager_transfers_records_and_history_shows_it(org: Org, api: Any, records: dict[str, int]) -> None:
    head = org.client(api, "head")
    r = head.post(
        f"{URL}/transfer", json={"ids": [records["r1"], records["r2"]], "owner": org.users["rep_w"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["count"] == 2
    assert _names(org.client(api, "rep_w")) == {"r1", "r2", "r3", "r4"}
    assert _names(org.client(api, "rep_e")) == set()
    entry = org.client(api, "admin").get(f"{URL}/{records['r1']}/history").json()[-1]
    assert entry["op"] == "transfer"
    assert entry["changes"] == {"owner": [org.users["rep_e"], org.users["rep_w"]]}


def test_transfer_is_all_or_none_and_hides_out_of_scope_records(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    head = org.client(api, "head")
    r = head.post(f"{URL}/transfer", json={"ids": [records["r1"], records["r3"]], "owner": org.users["head"]})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["details"]["ids"] == [records["r3"]]
    assert _names(org.client(api, "rep_e")) == {"r1", "r2"}


def test_sharing_with_a_user_then_with_edit(org: Org, api: Any, records: dict[str, int]) -> None:
    rep_w, rep_e = org.client(api, "rep_w"), org.client(api, "rep_e")
    url = f"{URL}/{records['r3']}"
    r = rep_w.post(f"{url}/shares", json={"user_id": org.users["rep_e"]})
    assert r.status_code == 201, r.text
    assert _names(rep_e) == {"r1", "r2", "r3"}
    assert rep_e.get(url).status_code == 200
    assert rep_e.patch(url, json={"name": "x"}).status_code == 404
    assert (
        rep_w.post(f"{url}/shares", json={"user_id": org.users["rep_e"], "access": "edit"}).status_code == 201
    )
    assert rep_e.patch(url, json={"name": "x"}).status_code == 200
    assert rep_e.delete(url).status_code == 403
    shares = rep_w.get(f"{url}/shares").json()
    assert len(shares) == 1 and shares[0]["access"] == "edit"
    assert rep_w.delete(f"{url}/shares/{shares[0]['id']}").status_code == 200
    assert _names(rep_e) == {"r1", "r2"}


def test_sharing_with_a_department(org: Org, api: Any, records: dict[str, int]) -> None:
    rep_w = org.client(api, "rep_w")
    r = rep_w.post(f"{URL}/{records['r4']}/shares", json={"department_id": org.departments["east"]})
    assert r.status_code == 201, r.text
    assert "r4" in _names(org.client(api, "rep_e")) and "r4" in _names(org.client(api, "head"))
    assert rep_w.post(f"{URL}/{records['r1']}/shares", json={"user_id": 1}).status_code == 404


def test_sharing_with_or_moving_a_user_into_a_missing_department_is_a_422(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    admin = org.client(api, "admin")
    r = admin.post(f"{URL}/{records['r1']}/shares", json={"department_id": 999_999})
    assert r.status_code == 422 and "999999" in r.json()["error"]["message"], r.text
    r = admin.patch(f"/api/users/{org.users['rep_e']}", json={"department_id": 999_999})
    assert r.status_code == 422 and "999999" in r.json()["error"]["message"], r.text
    r = admin.post(f"{URL}/{records['r1']}/shares", json={"department_id": org.departments["hq"]})
    assert r.status_code == 201, r.text


def test_transfer_ids_beyond_bigint_are_a_422_not_a_driver_error(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    admin = org.client(api, "admin")
    for body in (
        {"ids": [2**63], "owner": org.users["rep_w"]},
        {"ids": [records["r1"]], "owner": 2**63},
        {"ids": [0], "owner": org.users["rep_w"]},
    ):
        r = admin.post(f"{URL}/transfer", json=body)
        assert r.status_code == 422, (body, r.text)
