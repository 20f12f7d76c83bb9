"""Merging two records is an update of one and a delete of the other: both must be in the
caller's scope, and every value written obeys the caller's field rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from engine import SYSTEM
from engine.apps.metadata_store import put_entity
from engine.identity.roles import replace_definitions

from .conftest import APP, CRM_APP, URL, Org

VISITS = f"/api/apps/{APP}/records/visit"

VISIT = {
    "name": "visit",
    "label": {"zh": "拜访", "en": "Visit"},
    "fields": [
        {"name": "note", "type": "text", "label": {"zh": "记录", "en": "Note"}},
        {
            "name": "customer",
            "type": "lookup",
            "label": {"zh": "客户", "en": "Customer"},
            "entity": "customer",
        },
    ],
}


@pytest.fixture
def merging(org: Org, records: dict[str, int]) -> dict[str, int]:
    """Reps may also delete (hence merge) their own customers; each customer has one visit.
    Returns visit ids by customer name."""
    roles: list[dict[str, Any]] = copy.deepcopy(CRM_APP["roles"])
    roles[0]["permissions"]["customer"]["delete"] = {"scope": "own"}
    with org.platform.db.begin() as conn:
        put_entity(conn, APP, VISIT, "visit", SYSTEM)
        replace_definitions(conn, APP, roles, SYSTEM)
    return {
        name: org.platform.records.create(SYSTEM, APP, "visit", {"note": name, "customer": rid})["id"]
        for name, rid in records.items()
    }


def _snapshot(admin: Any, records: dict[str, int], visits: dict[str, int], *names: str) -> list[Any]:
    """Everything a merge of ``names`` could change, as the administrator sees it."""
    out: list[Any] = []
    for name in names:
        out.append(admin.get(f"{URL}/{records[name]}").json())
        out.append(admin.get(f"{URL}/{records[name]}/history").json())
        out.append(admin.get(f"{VISITS}/{visits[name]}").json())
    return out


@pytest.mark.parametrize("into", ["mine", "theirs"])
@pytest.mark.parametrize(
    ("who", "mine", "theirs"),
    [("rep_e", "r1", "r3"), ("head", "r5", "r4")],  # own scope; department scope
)
def test_merge_with_a_record_outside_scope_is_404_and_changes_nothing(
    into: str,
    who: str,
    mine: str,
    theirs: str,
    org: Org,
    api: Any,
    records: dict[str, int],
    merging: dict[str, int],
) -> None:
    """Merging a colleague's record into one's own, or one's own into the colleague's."""
    client, admin = org.client(api, who), org.client(api, "admin")
    assert client.get(f"{URL}/{records[mine]}").status_code == 200
    assert client.get(f"{URL}/{records[theirs]}").status_code == 404
    survivor, other = (mine, theirs) if into == "mine" else (theirs, mine)
    before = _snapshot(admin, records, merging, survivor, other)
    r = client.post(f"{URL}/{records[survivor]}/merge", json={"from": records[other]})
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "not_found"
    assert _snapshot(admin, records, merging, survivor, other) == before


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"credit": 1}, "field_hidden"),
        ({"grade": "B"}, "field_read_only"),
        ({"phone": "13900000000"}, "field_masked"),
    ],
)
def test_merge_values_for_fields_the_caller_may_not_write_are_403_and_change_nothing(
    values: dict[str, Any], code: str, org: Org, api: Any, records: dict[str, int], merging: dict[str, int]
) -> None:
    rep, admin = org.client(api, "rep_e"), org.client(api, "admin")
    [name] = values
    direct = rep.patch(f"{URL}/{records['r1']}", json=values)
    assert direct.status_code == 403, direct.text  # what a plain update says
    before = _snapshot(admin, records, merging, "r1", "r2")
    r = rep.post(f"{URL}/{records['r1']}/merge", json={"from": records["r2"], "values": values})
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "forbidden", r.text
    assert [(p["code"], p.get("field")) for p in error["problems"]] == [(code, name)], r.text
    assert _snapshot(admin, records, merging, "r1", "r2") == before


def test_merge_does_not_fill_hidden_or_read_only_fields_of_the_survivor(
    org: Org, api: Any, merging: dict[str, int]
) -> None:
    """The caller writes the merged record, so blanks the caller may not write stay blank
    (and the hidden value of the other record never reaches the caller's response)."""
    owner = org.users["rep_e"]
    keep = org.platform.records.create(SYSTEM, APP, "customer", {"name": "keep", "owner": owner})
    gone = org.platform.records.create(
        SYSTEM,
        APP,
        "customer",
        {"name": "gone", "region": "华东", "credit": 7777, "grade": "A", "owner": owner},
    )
    rep, admin = org.client(api, "rep_e"), org.client(api, "admin")
    r = rep.post(f"{URL}/{keep['id']}/merge", json={"from": gone["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["region"] == "华东"  # a blank the caller may write is filled
    assert "credit" not in r.json() and "7777" not in r.text
    stored = admin.get(f"{URL}/{keep['id']}").json()
    assert (stored["region"], stored["credit"], stored["grade"]) == ("华东", None, None)
    assert admin.get(f"{URL}/{gone['id']}").status_code == 404  # the merge itself happened
