"""Matrix, funnel, KPI with comparisons, cohort and table shapes, and date buckets in the
platform's time zone; expected numbers computed here from the generated rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .conftest import APP, STAGES, Org, dec, generate, put_reports

ZONE = ZoneInfo("Asia/Shanghai")


def _sum(values: list[Any]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def _month(day: date) -> str:
    return day.replace(day=1).isoformat()


def test_matrix_month_by_region_has_totals_both_ways(org: Org) -> None:
    deals = generate(org)
    put_reports(
        org,
        [
            {
                "name": "month_region",
                "entity": "deal",
                "shape": "matrix",
                "rows": [{"field": "close_date", "bucket": "month"}],
                "columns": [{"field": "account.region"}],
                "measures": [
                    {"name": "total", "agg": "sum", "field": "amount"},
                    {"name": "n", "agg": "count"},
                ],
            }
        ],
    )
    r = org.client("admin").get(f"/api/apps/{APP}/reports/month_region/run")
    assert r.status_code == 200, r.text
    body = r.json()
    cells: dict[tuple[str, Any], list[Any]] = defaultdict(list)
    for d in deals:
        cells[(_month(d["close_date"]), d["_region"])].append(d)
    months = sorted({m for m, _r in cells})
    assert [row["close_date:month"] for row in body["rows"]] == months
    assert body["rows"][0]["close_date:month@label"] == months[0][:7]
    by_key = {k["key"]: k for k in body["column_keys"]}
    assert by_key["None"]["label"] == "(empty)"
    for row in body["rows"]:
        month = row["close_date:month"]
        for key, values in row["cells"].items():
            region = None if key == "None" else key
            members = cells[(month, region)]
            assert values["n"] == len(members)
            assert dec(values["total"]) == _sum([d["amount"] for d in members])
        in_month = [d for d in deals if _month(d["close_date"]) == month]
        assert row["total"]["n"] == len(in_month)
    for key, entry in by_key.items():
        region = None if key == "None" else key
        members = [d for d in deals if d["_region"] == region]
        assert entry["total"]["n"] == len(members)
        assert dec(entry["total"]["total"]) == _sum([d["amount"] for d in members])
    assert body["totals"]["n"] == len(deals)
    assert dec(body["totals"]["total"]) == _sum([d["amount"] for d in deals])


def test_funnel_counts_reached_and_conversion(org: Org) -> None:
    deals = generate(org)
    order = ["lead", "qualified", "proposal", "negotiation", "won"]
    put_reports(
        org,
        [
            {
                "name": "funnel",
                "entity": "deal",
                "shape": "funnel",
                "stages": {"field": "stage", "values": order, "amount": "amount"},
            }
        ],
    )
    r = org.client("admin", "zh").post(f"/api/apps/{APP}/reports/funnel/run", json={"params": {}})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    counts = [sum(1 for d in deals if d["stage"] == s) for s in order]
    reached = [sum(counts[i:]) for i in range(len(order))]
    assert [row["stage"] for row in rows] == order
    assert rows[-1]["stage@label"] == "赢单"
    for i, row in enumerate(rows):
        assert row["count"] == counts[i]
        assert dec(row["amount"]) == (
            _sum([d["amount"] for d in deals if d["stage"] == order[i]]) or Decimal(0)
        )
        assert row["reached"] == reached[i]
        overall = (Decimal(reached[i]) / reached[0]).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        assert dec(row["conversion_overall"]) == overall
        if i + 1 < len(order):
            step = (Decimal(reached[i + 1]) / reached[i]).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            assert dec(row["conversion_next"]) == step
    assert r.json()["chart"]["type"] == "funnel"


def test_kpi_compares_with_previous_period_and_a_year_ago(org: Org) -> None:
    deals = generate(org, count=80)
    put_reports(
        org,
        [
            {
                "name": "kpi",
                "entity": "deal",
                "shape": "kpi",
                "parameters": {"period": {"field": "close_date"}},
                "measures": [
                    {"name": "total", "agg": "sum", "field": "amount"},
                    {"name": "n", "agg": "count"},
                ],
                "compare": ["previous", "year_ago"],
            }
        ],
    )
    params = {"period": {"from": "2025-04-01", "to": "2025-06-30"}}
    r = org.client("admin").post(f"/api/apps/{APP}/reports/kpi/run", json={"params": params})
    assert r.status_code == 200, r.text
    row = r.json()["rows"][0]

    def within(start: date, end: date) -> list[dict[str, Any]]:
        return [d for d in deals if start <= d["close_date"] <= end]

    now = within(date(2025, 4, 1), date(2025, 6, 30))
    before = within(date(2025, 1, 1), date(2025, 3, 31))
    year_ago = within(date(2024, 4, 1), date(2024, 6, 30))
    assert row["n"] == len(now)
    assert row["n_previous"] == len(before)
    assert row["n_year_ago"] == len(year_ago)
    assert dec(row["total"]) == _sum([d["amount"] for d in now])
    assert dec(row["total_previous"]) == _sum([d["amount"] for d in before])
    change = (Decimal(len(now)) - len(before)) / len(before)
    assert dec(row["n_previous_change"]) == change.quantize(Decimal("0.0001"), ROUND_HALF_UP)


def test_summary_by_week_of_a_datetime_uses_the_platform_time_zone(org: Org) -> None:
    deals = generate(org)
    put_reports(
        org,
        [
            {
                "name": "weekly",
                "entity": "deal",
                "shape": "summary",
                "rows": [{"field": "signed_at", "bucket": "week"}],
                "measures": [{"name": "n", "agg": "count"}],
            },
            {
                "name": "quarterly",
                "entity": "deal",
                "shape": "summary",
                "rows": [{"field": "signed_at", "bucket": "quarter"}],
                "measures": [{"name": "n", "agg": "count"}],
            },
        ],
    )
    weeks: dict[str, int] = defaultdict(int)
    quarters: dict[str, int] = defaultdict(int)
    for d in deals:
        local = d["signed_at"].astimezone(ZONE).date()
        monday = local - timedelta(days=local.weekday())
        weeks[monday.isoformat()] += 1
        quarters[date(local.year, (local.month - 1) // 3 * 3 + 1, 1).isoformat()] += 1
    client = org.client("admin")
    rows = client.get(f"/api/apps/{APP}/reports/weekly/run").json()["rows"]
    assert {row["signed_at:week"]: row["n"] for row in rows} == weeks
    first = date.fromisoformat(rows[0]["signed_at:week"])
    assert rows[0]["signed_at:week@label"] == f"{first.isocalendar()[0]}-W{first.isocalendar()[1]:02d}"
    rows = client.get(f"/api/apps/{APP}/reports/quarterly/run").json()["rows"]
    assert {row["signed_at:quarter"]: row["n"] for row in rows} == quarters


def test_cohort_retention_and_cumulative_value(org: Org) -> None:
    deals = generate(org, count=90)
    put_reports(
        org,
        [
            {
                "name": "cohort",
                "entity": "deal",
                "shape": "cohort",
                "cohort": {"subject": "account", "date": "close_date", "value": "amount", "periods": 6},
            }
        ],
    )
    r = org.client("admin").get(f"/api/apps/{APP}/reports/cohort/run")
    assert r.status_code == 200, r.text
    first: dict[int, int] = {}
    for d in deals:
        if d["account"] is None:
            continue
        index = d["close_date"].year * 12 + d["close_date"].month - 1
        first[d["account"]] = min(first.get(d["account"], index), index)
    for row in r.json()["rows"]:
        start = date.fromisoformat(row["cohort"])
        cohort_index = start.year * 12 + start.month - 1
        members = {a for a, f in first.items() if f == cohort_index}
        assert row["size"] == len(members)
        running = Decimal(0)
        for cell in row["cells"]:
            active = [
                d
                for d in deals
                if d["account"] in members
                and d["close_date"].year * 12 + d["close_date"].month - 1 - cohort_index == cell["age"]
            ]
            assert cell["subjects"] == len({d["account"] for d in active})
            running += _sum([d["amount"] for d in active]) or 0
            assert dec(cell["cumulative_value"]) == running


def test_table_lists_chosen_columns_sorted_and_limited(org: Org) -> None:
    deals = generate(org)
    put_reports(
        org,
        [
            {
                "name": "biggest",
                "entity": "deal",
                "shape": "table",
                "fields": ["title", "amount", "account.name"],
                "filter": "amount is not null",
                "sort": "-amount",
                "limit": 5,
            }
        ],
    )
    rows = org.client("admin").get(f"/api/apps/{APP}/reports/biggest/run").json()["rows"]
    expected = sorted((d for d in deals if d["amount"] is not None), key=lambda d: (-d["amount"], d["id"]))[
        :5
    ]
    assert [row["_id"] for row in rows] == [d["id"] for d in expected]
    assert [row["account.name"] for row in rows] == [
        d["_account"]["name"] if d["_account"] else None for d in expected
    ]


def test_relative_period_this_year_counts_this_years_rows(org: Org) -> None:
    today = datetime.now(UTC).astimezone(ZONE).date()
    service = org.platform.records
    from engine import SYSTEM

    made = [today, today.replace(month=1, day=1), today.replace(year=today.year - 1)]
    for day in made:
        service.create(SYSTEM, APP, "deal", {"title": "x", "close_date": day.isoformat(), "stage": STAGES[0]})
    put_reports(
        org,
        [
            {
                "name": "this_year",
                "entity": "deal",
                "shape": "kpi",
                "parameters": {"period": {"field": "close_date"}},
                "period": "this_year",
                "measures": [{"name": "n", "agg": "count"}],
            }
        ],
    )
    client = org.client("admin")
    assert client.get(f"/api/apps/{APP}/reports/this_year/run").json()["rows"][0]["n"] == 2
    r = client.post(f"/api/apps/{APP}/reports/this_year/run", json={"params": {"period": "last_year"}})
    assert r.json()["rows"][0]["n"] == 1
