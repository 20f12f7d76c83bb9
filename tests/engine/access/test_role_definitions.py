"""Roles in the app package: the JSON Schema and the cross-checks (unknown entity, field,
broken DSL condition) answer 422 with a JSON pointer; an app without roles stays open."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import CRM_APP


def _package(**role: Any) -> dict[str, Any]:
    package = copy.deepcopy(CRM_APP)
    package["name"] = "crm2"
    package["roles"] = [{"name": "r", "label": {"zh": "角色", "en": "Role"}, **role}]
    return package


@pytest.mark.parametrize(
    ("role", "pointer", "words"),
    [
        ({"permissions": {"custmer": {"read": True}}}, "/roles/0/permissions/custmer", "customer"),
        (
            {"permissions": {"customer": {"fields": {"phnoe": {"access": "hidden"}}}}},
            "/roles/0/permissions/customer/fields/phnoe",
            "phone",
        ),
        (
            {"permissions": {"customer": {"read": {"condition": "regoin == 'x'"}}}},
            "/roles/0/permissions/customer/read/condition",
            "region",
        ),
        (
            {"permissions": {"customer": {"read": {"scope": "team"}}}},
            "/roles/0/permissions/customer/read",
            "",
        ),
        (
            {"permissions": {"customer": {"fields": {"owner": {"access": "hidden"}}}}},
            "/roles/0/permissions/customer/fields/owner",
            "readonly",
        ),
    ],
)
def test_bad_roles_are_refused_with_a_pointer(
    client: TestClient, role: dict[str, Any], pointer: str, words: str
) -> None:
    r = client.post("/api/apps", json=_package(**role))
    assert r.status_code == 422, r.text
    problems = r.json()["error"]["problems"]
    assert any(p["pointer"].startswith(pointer) and words in p["message"] for p in problems), problems


def test_roles_round_trip_through_export(client: TestClient) -> None:
    package = _package(permissions={"customer": {"import": True, "read": {"scope": "own"}}})
    assert client.post("/api/apps", json=package).status_code == 201
    exported = client.get("/api/apps/crm2").json()
    assert exported["roles"][0]["permissions"] == {"customer": {"read": {"scope": "own"}, "import": True}}


def test_an_app_is_closed_to_non_admins_until_a_role_opens_it(sales: TestClient, anon: TestClient) -> None:
    from tests.engine.conftest import USER, sign_in

    rep = TestClient(anon.app, headers=sign_in(anon, *USER))
    r = rep.post("/api/apps/sales/records/account", json={"name": "x"})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["details"]["permission"] == "sales.account.create"
    assert rep.get("/api/apps/sales/records/account").status_code == 403
    # A role every signed-in user holds opens the app, without assigning it to anyone.
    everyone = {
        "name": "staff",
        "label": {"zh": "全员", "en": "Staff"},
        "everyone": True,
        "permissions": {"account": {"create": True, "read": True}},
    }
    assert sales.put("/api/apps/sales/roles", json=[everyone]).status_code == 200
    r = rep.post("/api/apps/sales/records/account", json={"name": "x"})
    assert r.status_code == 201, r.text
    assert sales.get("/api/apps/sales/records/account").json()["total"] == 1
    assert rep.delete(f"/api/apps/sales/records/account/{r.json()['id']}").status_code == 403


def test_a_role_that_could_never_fill_a_required_field_is_refused(client: TestClient) -> None:
    package = _package(permissions={"customer": {"create": True, "fields": {"name": {"access": "readonly"}}}})
    package["entities"][0]["fields"][0]["required"] = True
    r = client.post("/api/apps", json=package)
    assert r.status_code == 422, r.text
    [problem] = r.json()["error"]["problems"]
    assert (
        problem["pointer"] == "/roles/0/permissions/customer/fields/name" and "default" in problem["message"]
    )
    package["entities"][0]["fields"][0]["default"] = "未命名"
    assert client.post("/api/apps", json=package).status_code == 201
