"""Keyword search respects the caller's field rules and row scope: it never searches a field
hidden or masked for them, and answers only rows they may read."""

from __future__ import annotations

from typing import Any

from .conftest import Org

CUSTOMERS = "/api/apps/crm/records/customer"


def test_search_never_reads_a_field_masked_for_the_caller(
    org: Org, api: Any, records: dict[str, int]
) -> None:
    admin, rep = org.client(api, "admin"), org.client(api, "rep_e")
    # every sample customer has phone 13812341234; the rep sees it masked
    assert admin.get(CUSTOMERS, params={"q": "1234123"}).json()["total"] == len(records)
    assert rep.get(CUSTOMERS, params={"q": "1234123"}).json()["total"] == 0
    # the resident id is masked for the manager too, and the rep cannot find it either
    assert org.client(api, "head").get(CUSTOMERS, params={"q": "19900307"}).json()["total"] == 0
    assert admin.get(CUSTOMERS, params={"q": "19900307"}).json()["total"] == len(records)


def test_search_answers_only_rows_in_the_callers_scope(org: Org, api: Any, records: dict[str, int]) -> None:
    rep = org.client(api, "rep_e")
    found = rep.get(CUSTOMERS, params={"q": "华", "limit": 100}).json()
    assert sorted(i["name"] for i in found["items"]) == ["r1", "r2"]  # rep_e owns r1 and r2
    assert found["total"] == 2
    viewer = org.client(api, "viewer")  # sees customers in 华东 only
    assert sorted(i["name"] for i in viewer.get(CUSTOMERS, params={"q": "r"}).json()["items"]) == [
        "r1",
        "r3",
        "r7",
    ]
