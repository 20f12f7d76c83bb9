"""Filters through lookups (``customer.credit``) obey the referenced entity's rules too."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import SYSTEM
from engine.apps.metadata_store import put_entity
from engine.identity.roles import replace_definitions

from .conftest import APP, CRM_APP, Org

VISITS = f"/api/apps/{APP}/records/visit"

VISIT = {
    "name": "visit",
    "label": {"zh": "拜访", "en": "Visit"},
    "fields": [
        {"name": "note", "type": "text", "label": {"zh": "记录", "en": "Note"}},
        {
            "name": "customer",
            "type": "lookup",
            "label": {"zh": "对象", "en": "Customer"},
            "entity": "customer",
        },
    ],
}


@pytest.fixture
def visits(org: Org, records: dict[str, int]) -> dict[str, int]:
    """Every rep may read every visit, but customers only in their own scope."""
    roles: list[dict[str, Any]] = copy.deepcopy(CRM_APP["roles"])
    roles[0]["permissions"]["visit"] = {"read": {"scope": "all"}}
    with org.platform.db.begin() as conn:
        put_entity(conn, APP, VISIT, "visit", SYSTEM)
        replace_definitions(conn, APP, roles, SYSTEM)
    ids = {}
    for name in ("r1", "r3"):
        visit = org.platform.records.create(SYSTEM, APP, "visit", {"note": name, "customer": records[name]})
        ids[name] = visit["id"]
    with org.platform.db.begin() as conn:
        for name, customer in (("r1", records["r1"]), ("r3", records["r3"])):
            table = org.platform.cached_runtime(APP).entity("customer").table
            conn.execute(table.update().where(table.c.id == customer).values(credit=500, name=name))
    return ids


def test_a_hidden_field_behind_a_lookup_cannot_be_filtered(
    api: Any, org: Org, visits: dict[str, int]
) -> None:
    rep = org.client(api, "rep_e")
    assert rep.get(VISITS).json()["total"] == 2
    r = rep.get(VISITS, params={"filter": "customer.credit > 100"})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["problems"][0]["field"] == "customer.credit"


def test_records_outside_scope_behind_a_lookup_do_not_match(
    api: Any, org: Org, visits: dict[str, int]
) -> None:
    rep = org.client(api, "rep_e")
    own = rep.get(VISITS, params={"filter": "customer.name == 'r1'"}).json()
    assert [i["note"] for i in own["items"]] == ["r1"]
    # r3 belongs to the other rep: probing its name through the visit finds nothing.
    other = rep.get(VISITS, params={"filter": "customer.name == 'r3'"}).json()
    assert other["total"] == 0
    admin = org.client(api, "admin").get(VISITS, params={"filter": "customer.name == 'r3'"}).json()
    assert admin["total"] == 1
