"""Reports and exports under the caller's permissions: rows outside their scope are never
counted, a hidden field cannot be used at all, a masked one cannot be a dimension, and exports
need the export permission."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from .conftest import APP, Org, dec, generate, put_reports

TOTALS = {
    "name": "totals",
    "entity": "deal",
    "shape": "summary",
    "rows": [{"field": "account.region"}],
    "measures": [{"name": "n", "agg": "count"}, {"name": "total", "agg": "sum", "field": "amount"}],
}
#: who -> the owners whose deals they may read
SCOPES: dict[str, set[Any]] = {
    "rep_e": {"rep_e"},
    "rep_w": {"rep_w"},
    "head": {"rep_e", "head"},
    "director": {"rep_e", "rep_w", "head", "director"},
    "admin": {"rep_e", "rep_w", "head", "director", None},
}


@pytest.mark.parametrize("who", list(SCOPES))
def test_report_counts_only_rows_in_the_callers_scope(who: str, org: Org) -> None:
    deals = generate(org)
    put_reports(org, [TOTALS])
    r = org.client(who).get(f"/api/apps/{APP}/reports/totals/run")
    assert r.status_code == 200, r.text
    visible = [d for d in deals if d["_owner"] in SCOPES[who]]
    body = r.json()
    assert body["totals"]["n"] == len(visible)
    assert dec(body["totals"]["total"]) == sum(
        (d["amount"] for d in visible if d["amount"] is not None), Decimal(0)
    )
    by_region = {row["account.region"]: row["n"] for row in body["rows"]}
    expected: dict[Any, int] = {}
    for d in visible:
        expected[d["_region"]] = expected.get(d["_region"], 0) + 1
    assert by_region == expected


def test_a_caller_without_read_is_refused(org: Org) -> None:
    put_reports(org, [TOTALS])
    r = org.client("stranger").get(f"/api/apps/{APP}/reports/totals/run")
    assert r.status_code == 403, r.text


@pytest.mark.parametrize(
    ("report", "pointer"),
    [
        ({"rows": [{"field": "secret"}], "measures": [{"name": "n", "agg": "count"}]}, "/rows/0/field"),
        (
            {"rows": [{"field": "stage"}], "measures": [{"name": "s", "agg": "sum", "field": "secret"}]},
            "/measures/0/field",
        ),
        (
            {
                "rows": [{"field": "stage"}],
                "measures": [{"name": "n", "agg": "count"}],
                "filter": "secret > 1",
            },
            "/filter",
        ),
        (
            {"rows": [{"field": "contact_phone"}], "measures": [{"name": "n", "agg": "count"}]},
            "/rows/0/field",
        ),
    ],
)
def test_hidden_and_masked_fields_are_refused_with_their_pointer(
    org: Org, report: dict[str, Any], pointer: str
) -> None:
    put_reports(org, [{"name": "probe", "entity": "deal", "shape": "summary", **report}])
    r = org.client("rep_e").get(f"/api/apps/{APP}/reports/probe/run")
    assert r.status_code == 403, r.text
    assert [p["pointer"] for p in r.json()["error"]["problems"]] == [pointer]
    assert org.client("admin").get(f"/api/apps/{APP}/reports/probe/run").status_code == 200


def test_masked_field_may_be_counted_and_shows_masked_in_a_table(org: Org) -> None:
    generate(org, count=10)
    put_reports(
        org,
        [
            {"name": "phones", "entity": "deal", "shape": "table", "fields": ["title", "contact_phone"]},
            {
                "name": "distinct_phones",
                "entity": "deal",
                "shape": "kpi",
                "measures": [{"name": "n", "agg": "count_distinct", "field": "contact_phone"}],
            },
        ],
    )
    client = org.client("rep_e")
    rows = client.get(f"/api/apps/{APP}/reports/phones/run").json()["rows"]
    assert rows and all(row["contact_phone"] == "138****1234" for row in rows)
    assert client.get(f"/api/apps/{APP}/reports/distinct_phones/run").json()["rows"][0]["n"] == 1


def test_exports_need_the_export_permission_and_keep_chinese_and_formats(org: Org) -> None:
    deals = generate(org)
    put_reports(org, [TOTALS])
    url = f"/api/apps/{APP}/reports/totals/export"
    assert org.client("rep_e").get(url, params={"format": "csv"}).status_code == 403
    head = org.client("head", "zh-CN")
    r = head.get(url, params={"format": "csv"})
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    visible = [d for d in deals if d["_owner"] in SCOPES["head"]]
    assert lines[0][0] == "区域"
    assert lines[-1][0] == "合计" and int(lines[-1][1]) == len(visible)
    r = head.get(url, params={"format": "xlsx"})
    assert r.status_code == 200, r.text
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计" and last[1] == len(visible)
    assert Decimal(str(last[2])) == sum((d["amount"] for d in visible if d["amount"] is not None), Decimal(0))
    assert sheet.cell(row=sheet.max_row, column=3).number_format.startswith('"¥"#,##0.00')
    assert head.get(url, params={"format": "pdf"}).status_code == 422


def test_record_list_export_honours_scope_and_hidden_fields(org: Org) -> None:
    deals = generate(org, count=20)
    url = f"/api/apps/{APP}/records/deal/export"
    assert org.client("rep_e").get(url).status_code == 403
    r = org.client("head").get(url, params={"format": "csv", "filter": "quantity > 5"})
    assert r.status_code == 200, r.text
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    expected = [d for d in deals if d["_owner"] in SCOPES["head"] and d["quantity"] > 5]
    assert len(lines) - 1 == len(expected)
    assert "Title" in lines[0]
