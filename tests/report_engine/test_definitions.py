"""Bad definitions are refused at save with the part named (JSON pointer, zh/en); reports and
dashboards are in the package schema; a report whose entity changed says what no longer
resolves; division by a zero measure is null."""

from __future__ import annotations

from typing import Any

import pytest

from engine import SYSTEM, InvalidPackage, put_section

from .conftest import APP, Org, generate, put_reports

BASE = {"name": "r", "entity": "deal", "shape": "summary"}


@pytest.mark.parametrize(
    ("extra", "pointer", "code"),
    [
        (
            {"rows": [{"field": "stagee"}], "measures": [{"name": "n", "agg": "count"}]},
            "/reports/0/rows/0/field",
            "report_unknown_field",
        ),
        (
            {"rows": [{"field": "notes"}], "measures": [{"name": "n", "agg": "count"}]},
            "/reports/0/rows/0/field",
            "report_not_groupable",
        ),
        (
            {"rows": [{"field": "stage"}], "measures": [{"name": "s", "agg": "sum", "field": "title"}]},
            "/reports/0/measures/0/field",
            "report_not_numeric",
        ),
        (
            {"rows": [{"field": "title.name"}], "measures": [{"name": "n", "agg": "count"}]},
            "/reports/0/rows/0/field",
            "report_not_lookup",
        ),
        (
            {"rows": [{"field": "stage"}], "measures": [{"name": "n", "agg": "count"}], "filter": "amount >"},
            "/reports/0/filter",
            "report_dsl",
        ),
        (
            {"rows": [{"field": "stage", "bucket": "month"}], "measures": [{"name": "n", "agg": "count"}]},
            "/reports/0/rows/0/bucket",
            "report_bucket_needs_date",
        ),
        ({"rows": [{"field": "stage"}]}, "/reports/0/measures", "report_shape_needs"),
    ],
)
def test_bad_reports_are_refused_at_save_with_a_pointer(
    org: Org, extra: dict[str, Any], pointer: str, code: str
) -> None:
    client = org.client("admin", "zh-CN")
    r = client.put(f"/api/apps/{APP}/reports/r", json={**BASE, **extra})
    assert r.status_code == 422, r.text
    problems = r.json()["error"]["problems"]
    assert [(p["pointer"], p["code"]) for p in problems] == [(pointer, code)]
    assert problems[0]["message"]


def test_reports_and_dashboards_are_in_the_package_schema(org: Org) -> None:
    schema = org.client("admin").get("/api/schema/app").json()
    assert schema["properties"]["reports"]["items"]["properties"]["shape"]["enum"][0] == "table"
    assert "items" in schema["properties"]["dashboards"]["items"]["properties"]


def test_only_admins_save_reports_and_saved_reports_come_back(org: Org) -> None:
    body = {**BASE, "rows": [{"field": "stage"}], "measures": [{"name": "n", "agg": "count"}]}
    assert org.client("head").put(f"/api/apps/{APP}/reports/r", json=body).status_code == 403
    assert org.client("admin").put(f"/api/apps/{APP}/reports/r", json=body).status_code == 200
    got = org.client("head").get(f"/api/apps/{APP}/reports/r")
    assert got.status_code == 200 and got.json()["rows"] == [{"field": "stage"}]
    assert org.client("head").get(f"/api/apps/{APP}/reports/nope/run").status_code == 404


def test_dashboard_refers_to_saved_reports(org: Org) -> None:
    with pytest.raises(InvalidPackage) as caught, org.platform.db.begin() as conn:
        put_section(
            conn,
            APP,
            "dashboards",
            [{"name": "d", "items": [{"report": "nope", "x": 0, "y": 0, "w": 1, "h": 1}]}],
            SYSTEM,
        )
    assert [p.pointer for p in caught.value.problems] == ["/dashboards/0/items/0/report"]


def test_division_by_a_zero_measure_is_null(org: Org) -> None:
    generate(org, count=15)
    put_reports(
        org,
        [
            {
                **BASE,
                "rows": [{"field": "stage"}],
                "measures": [
                    {"name": "n", "agg": "count"},
                    {"name": "none", "agg": "count", "filter": "quantity > 1000"},
                    {"name": "ratio", "formula": "n / none"},
                ],
            }
        ],
    )
    rows = org.client("admin").get(f"/api/apps/{APP}/reports/r/run").json()["rows"]
    assert rows and all(row["ratio"] is None for row in rows)


def test_preview_runs_an_unsaved_definition_and_reports_problems(org: Org) -> None:
    generate(org, count=10)
    client = org.client("admin")
    good = {**BASE, "rows": [{"field": "stage"}], "measures": [{"name": "n", "agg": "count"}]}
    r = client.post(f"/api/apps/{APP}/reports/preview", json={"definition": good})
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["n"] == 10
    bad = {**BASE, "rows": [{"field": "nope"}], "measures": [{"name": "n", "agg": "count"}]}
    r = client.post(f"/api/apps/{APP}/reports/preview", json={"definition": bad})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["pointer"] == "/rows/0/field"
    r = client.post(f"/api/apps/{APP}/reports/preview", json={"definition": {"name": "x"}})
    assert r.status_code == 422


def test_bad_parameters_are_422(org: Org) -> None:
    put_reports(
        org,
        [
            {
                **BASE,
                "shape": "kpi",
                "parameters": {"period": {"field": "close_date"}},
                "measures": [{"name": "n", "agg": "count"}],
            }
        ],
    )
    client = org.client("admin")
    for params in ({"period": "someday"}, {"period": {"from": "2024-13-01"}}, {"nope": 1}):
        r = client.post(f"/api/apps/{APP}/reports/r/run", json={"params": params})
        assert r.status_code == 422, (params, r.text)
    assert client.get(f"/api/apps/{APP}/reports/r/run", params={"params": "[1"}).status_code == 422
