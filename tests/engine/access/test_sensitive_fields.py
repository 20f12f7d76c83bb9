"""Sensitive personal data (resident ID numbers) is masked for everyone but administrators and
roles that grant it in full; masks hide the middle of short numbers too."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine.access import mask

from ..conftest import USER, sign_in
from ..fields.conftest import field, label

ID_NUMBER = "11010519491231002X"
SHOWN = "110105********002X"
ALL = {"create": True, "read": True, "update": True, "delete": True}


def _package(roles: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": "hr",
        "label": label("人事", "HR"),
        "entities": [
            {
                "name": "person",
                "label": label("人员", "Person"),
                "fields": [field("name", "text"), field("idno", "cn_resident_id")],
            }
        ],
        "roles": roles,
    }


def _rep(client: TestClient, roles: list[dict[str, Any]], role: str | None) -> TestClient:
    """The sample non-admin user, signed in on a client of their own, holding ``role``."""
    assert client.post("/api/apps", json=_package(roles)).status_code == 201
    if role is not None:
        rep_id = next(u["id"] for u in client.get("/api/users").json() if u["username"] == USER[0])
        r = client.put(f"/api/apps/hr/users/{rep_id}/roles", json={"roles": [role]})
        assert r.status_code in (200, 204), r.text
    rep = TestClient(client.app)
    rep.headers.update(sign_in(rep, *USER))
    return rep


@pytest.mark.parametrize(
    ("roles", "role", "shown"),
    [
        # a role held by everyone, with no field rules: masked for a non-admin all the same
        (
            [{"name": "all", "label": label("全员"), "everyone": True, "permissions": {"person": ALL}}],
            None,
            SHOWN,
        ),
        ([{"name": "clerk", "label": label("文员"), "permissions": {"person": ALL}}], "clerk", SHOWN),
        (
            [
                {
                    "name": "hr",
                    "label": label("人事专员"),
                    "permissions": {"person": {**ALL, "fields": {"idno": {"access": "full"}}}},
                }
            ],
            "hr",
            ID_NUMBER,
        ),
    ],
)
def test_resident_ids_are_masked_unless_granted_in_full(
    client: TestClient, roles: list[dict[str, Any]], role: str | None, shown: str
) -> None:
    rep = _rep(client, roles, role)
    created = client.post("/api/apps/hr/records/person", json={"name": "张三", "idno": ID_NUMBER}).json()
    assert client.get(f"/api/apps/hr/records/person/{created['id']}").json()["idno"] == ID_NUMBER
    assert rep.get(f"/api/apps/hr/records/person/{created['id']}").json()["idno"] == shown
    listed = rep.get("/api/apps/hr/records/person").json()["items"]
    assert [p["idno"] for p in listed] == [shown]


def test_a_masked_resident_id_cannot_be_overwritten_blind(client: TestClient) -> None:
    rep = _rep(
        client,
        [{"name": "all", "label": label("全员"), "everyone": True, "permissions": {"person": ALL}}],
        None,
    )
    created = rep.post("/api/apps/hr/records/person", json={"name": "李四", "idno": ID_NUMBER})
    assert created.status_code == 201, created.text  # given when creating, as with any masked field
    r = rep.patch(f"/api/apps/hr/records/person/{created.json()['id']}", json={"idno": "110105194912310037"})
    assert r.status_code == 403, r.text
    assert [p["code"] for p in r.json()["error"]["problems"]] == ["field_masked"]


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        ("13812341234", "138****1234"),  # a mainland mobile: the usual 3 + 4
        ("+44 20 7946 0958", "442******958"),  # 12 digits: the middle half hidden
        ("2079460958", "20******58"),  # 10 digits: 6 hidden, where 3 + 4 would show 7
        ("010-62345678", "010*****5678"),  # a mainland landline keeps its area code
    ],
)
def test_phone_masks_hide_the_middle_of_any_number(number: str, shown: str) -> None:
    assert mask("phone", number) == shown


def test_a_field_rule_follows_its_field_through_a_rename(client: TestClient) -> None:
    masked = {**ALL, "fields": {"name": {"access": "masked", "mask": "name"}}}
    rep = _rep(
        client,
        [{"name": "all", "label": label("全员"), "everyone": True, "permissions": {"person": masked}}],
        None,
    )
    created = client.post("/api/apps/hr/records/person", json={"name": "张三丰"}).json()
    entity = client.get("/api/apps/hr").json()["entities"][0]
    entity["fields"][0] = {
        **entity["fields"][0],
        "id": entity["fields"][0].get("id", "name"),
        "name": "full_name",
    }
    r = client.put("/api/apps/hr/entities/person", json=entity)
    assert r.status_code == 200, r.text
    roles = client.get("/api/apps/hr/roles").json()
    assert roles[0]["permissions"]["person"]["fields"] == {"full_name": {"access": "masked", "mask": "name"}}
    record = rep.get(f"/api/apps/hr/records/person/{created['id']}").json()
    assert record["full_name"] == "张**" and "name" not in record


def test_non_admins_export_only_what_they_may_read(client: TestClient) -> None:
    hidden = {**ALL, "fields": {"idno": {"access": "hidden"}}}
    role = {"name": "all", "label": label("全员"), "everyone": True, "permissions": {"person": hidden}}
    package = _package([role])
    package["entities"].append(
        {"name": "salary", "label": label("薪资"), "fields": [field("amount", "number")]}
    )
    assert client.post("/api/apps", json=package).status_code == 201
    rep = TestClient(client.app)
    rep.headers.update(sign_in(rep, *USER))
    seen = rep.get("/api/apps/hr").json()
    assert [e["name"] for e in seen["entities"]] == ["person"]
    assert [f["name"] for f in seen["entities"][0]["fields"]] == ["name"]
    assert "roles" not in seen
    full = client.get("/api/apps/hr").json()
    assert [e["name"] for e in full["entities"]] == ["person", "salary"] and full["roles"][0]["name"] == "all"
