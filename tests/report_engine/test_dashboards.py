"""Dashboards: shared filters reach every report, the caller's default follows their role,
repeated loads come from the cache, and a change the caller just made shows at once."""

from __future__ import annotations

from typing import Any

from engine import SYSTEM

from .conftest import APP, Org, generate, put_reports

REPORTS: list[dict[str, Any]] = [
    {
        "name": "count",
        "entity": "deal",
        "shape": "kpi",
        "parameters": {"period": {"field": "close_date"}, "owner": {"field": "owner", "kind": "user"}},
        "measures": [{"name": "n", "agg": "count"}],
    },
    {
        "name": "by_stage",
        "entity": "deal",
        "shape": "summary",
        "parameters": {"period": {"field": "close_date"}},
        "rows": [{"field": "stage"}],
        "measures": [{"name": "n", "agg": "count"}],
    },
]
DASHBOARDS: list[dict[str, Any]] = [
    {
        "name": "main",
        "items": [{"report": "count", "x": 0, "y": 0, "w": 6, "h": 2}],
        "default_for": ["director"],
    },
    {
        "name": "managers",
        "filters": {"period": {"from": "2024-01-01", "to": "2024-12-31"}},
        "default_for": ["manager"],
        "items": [
            {"report": "count", "x": 0, "y": 0, "w": 6, "h": 2},
            {"report": "by_stage", "x": 6, "y": 0, "w": 6, "h": 4},
        ],
    },
]


def test_shared_filters_reach_every_report_and_the_cache_answers_again(org: Org) -> None:
    deals = generate(org)
    put_reports(org, REPORTS, DASHBOARDS)
    client = org.client("admin")
    url = f"/api/apps/{APP}/dashboards/managers"
    first = client.get(url)
    assert first.status_code == 200, first.text
    in_2024 = [d for d in deals if d["close_date"].year == 2024]
    items = first.json()["items"]
    assert items[0]["result"]["rows"][0]["n"] == len(in_2024)
    assert sum(row["n"] for row in items[1]["result"]["rows"]) == len(in_2024)
    assert not items[0]["result"]["cached"]
    again = client.get(url).json()["items"]
    assert again[0]["result"]["cached"] and again[1]["result"]["cached"]
    mine = client.get(url, params={"params": f'{{"owner": {org.users["rep_e"]}}}'}).json()["items"]
    assert mine[0]["result"]["rows"][0]["n"] == sum(1 for d in in_2024 if d["_owner"] == "rep_e")


def test_a_change_shows_at_once_despite_the_cache(org: Org) -> None:
    generate(org, count=10)
    put_reports(org, REPORTS, DASHBOARDS)
    client = org.client("admin")
    url = f"/api/apps/{APP}/reports/count/run"
    before = client.get(url).json()["rows"][0]["n"]
    assert client.get(url).json()["cached"]
    r = client.post(f"/api/apps/{APP}/records/deal", json={"title": "new", "close_date": "2024-05-05"})
    assert r.status_code == 201, r.text
    after = client.get(url).json()
    assert after["rows"][0]["n"] == before + 1 and not after["cached"]
    org.platform.records.delete(SYSTEM, APP, "deal", r.json()["id"])
    assert client.get(url).json()["rows"][0]["n"] == before


def test_the_default_dashboard_follows_the_callers_role(org: Org) -> None:
    put_reports(org, REPORTS, DASHBOARDS)
    assert org.client("head").get(f"/api/apps/{APP}/dashboards").json()["default"] == "managers"
    assert org.client("director").get(f"/api/apps/{APP}/dashboards").json()["default"] == "main"
    assert org.client("head").get(f"/api/apps/{APP}/dashboards/nope").status_code == 404


def test_a_report_the_caller_may_not_run_answers_its_error_in_its_cell(org: Org) -> None:
    put_reports(org, REPORTS, DASHBOARDS)
    body = org.client("stranger").get(f"/api/apps/{APP}/dashboards/main").json()
    assert body["items"][0]["error"]["status"] == 403


def test_a_saved_change_to_a_report_shows_at_once(org: Org) -> None:
    deals = generate(org, count=12)
    put_reports(org, REPORTS, DASHBOARDS)
    client = org.client("admin")
    url = f"/api/apps/{APP}/reports/by_stage/run"
    assert client.get(url).json()["rows"][0]["n"] > 0
    assert client.get(url).json()["cached"]
    changed = {**REPORTS[1], "rows": [{"field": "close_date", "bucket": "year"}]}
    assert client.put(f"/api/apps/{APP}/reports/by_stage", json=changed).status_code == 200
    after = client.get(url).json()
    assert not after["cached"]
    years: dict[str, int] = {}
    for d in deals:
        key = f"{d['close_date'].year}-01-01"
        years[key] = years.get(key, 0) + 1
    assert {row["close_date:year"]: row["n"] for row in after["rows"]} == years
