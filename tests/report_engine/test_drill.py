"""Drill-down: the record list answered for a cell's filter holds exactly the cell's rows (its
count and sum), for every shape, date buckets, the empty group, "others" of a top N, runtime
parameters and relative periods, lookups' lookups and people's departments; expected rows are
computed here from the generated records."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engine import SYSTEM

from .conftest import APP, STAGES, Org, dec, generate, put_reports

ZONE = ZoneInfo("Asia/Shanghai")


def _records(client: Any, text: str) -> list[dict[str, Any]]:
    """Every record the list answers for ``text``, page by page."""
    items: list[dict[str, Any]] = []
    while True:
        r = client.get(
            f"/api/apps/{APP}/records/deal", params={"filter": text, "limit": 1000, "offset": len(items)}
        )
        assert r.status_code == 200, (text, r.text)
        body = r.json()
        items += body["items"]
        if len(items) >= body["total"]:
            assert len(items) == body["total"]
            return items


def _drill(client: Any, report: str, cell: dict[str, Any], params: Any = None, **extra: Any) -> str:
    r = client.post(
        f"/api/apps/{APP}/reports/{report}/drill", json={"cell": cell, "params": params or {}, **extra}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["entity"] == "deal"
    listed = client.get(body["records"])
    assert listed.status_code == 200, listed.text
    return str(body["filter"])


def _total(items: list[dict[str, Any]]) -> Decimal | None:
    present = [Decimal(i["amount"]) for i in items if i["amount"] is not None]
    return sum(present, Decimal(0)) if present else None


def _sum(deals: list[dict[str, Any]]) -> Decimal | None:
    present = [d["amount"] for d in deals if d["amount"] is not None]
    return sum(present, Decimal(0)) if present else None


def _ids(rows: list[dict[str, Any]]) -> set[int]:
    return {r["id"] for r in rows}


def _run(client: Any, report: str, params: Any = None) -> dict[str, Any]:
    r = client.post(f"/api/apps/{APP}/reports/{report}/run", json={"params": params or {}})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _top(deals: list[dict[str, Any]], key: str, n: int) -> set[Any]:
    """The n values of ``key`` with most rows (ties in text order), the empty value aside."""
    counts: dict[Any, int] = defaultdict(int)
    for d in deals:
        if d[key] is not None:
            counts[d[key]] += 1
    ranked = sorted(sorted(counts, key=str), key=lambda v: -counts[v])
    return set(ranked[:n])


def test_summary_cells_subtotals_others_and_empty_groups_drill_to_their_rows(org: Org) -> None:
    deals = generate(org)
    put_reports(
        org,
        [
            {
                "name": "region_stage",
                "entity": "deal",
                "shape": "summary",
                "rows": [{"field": "account.region", "top": 2}, {"field": "stage"}],
                "measures": [
                    {"name": "n", "agg": "count"},
                    {"name": "total", "agg": "sum", "field": "amount"},
                ],
            }
        ],
    )
    client = org.client("admin")
    body = _run(client, "region_stage")
    kept = _top(deals, "_region", 2)

    def region_of(d: dict[str, Any]) -> Any:
        return d["_region"] if d["_region"] in kept or d["_region"] is None else "__others__"

    seen_others = seen_empty = False
    for row in body["rows"]:
        depth = 2 if row["_type"] == "group" else row["_level"]
        cell = {k: row[k] for k in ["account.region", "stage"][:depth]}
        items = _records(client, _drill(client, "region_stage", cell))
        expected = [
            d
            for d in deals
            if region_of(d) == cell["account.region"] and (depth == 1 or d["stage"] == cell["stage"])
        ]
        assert _ids(items) == _ids(expected)
        assert len(items) == row["n"]
        assert _total(items) == dec(row["total"])
        seen_others |= cell["account.region"] == "__others__"
        seen_empty |= cell["account.region"] is None or cell.get("stage", "x") is None
    assert seen_others and seen_empty
    everything = _records(client, _drill(client, "region_stage", {}))
    assert len(everything) == body["totals"]["n"] == len(deals)


def test_matrix_cells_and_totals_both_ways_drill_to_their_rows(org: Org) -> None:
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
                    {"name": "n", "agg": "count"},
                    {"name": "total", "agg": "sum", "field": "amount"},
                ],
            }
        ],
    )
    client = org.client("head")  # a manager: only the department's rows, in the list as in the report
    body = _run(client, "month_region")
    mine = [d for d in deals if d["_owner"] in ("rep_e", "head")]
    columns = {c["key"]: c for c in body["column_keys"]}
    checked = 0
    for row in body["rows"][:4]:
        month = row["close_date:month"]
        for key, values in row["cells"].items():
            region = columns[key]["account.region"]
            items = _records(
                client, _drill(client, "month_region", {"close_date:month": month, "account.region": region})
            )
            expected = [
                d
                for d in mine
                if d["close_date"].replace(day=1).isoformat() == month and d["_region"] == region
            ]
            assert _ids(items) == _ids(expected)
            assert len(items) == values["n"] and _total(items) == dec(values["total"])
            checked += 1
        row_items = _records(client, _drill(client, "month_region", {"close_date:month": month}))
        assert len(row_items) == row["total"]["n"]
    for column in columns.values():
        items = _records(client, _drill(client, "month_region", {"account.region": column["account.region"]}))
        assert len(items) == column["total"]["n"] and _total(items) == dec(column["total"]["total"])
    assert checked and len(_records(client, _drill(client, "month_region", {}))) == body["totals"][
        "n"
    ] == len(mine)


def test_datetime_buckets_parameters_and_relative_periods_drill_to_their_rows(org: Org) -> None:
    deals = generate(org)
    today = datetime.now(UTC).astimezone(ZONE).date()
    for i in range(8):  # rows in the last days, for a relative period
        made = org.platform.records.create(
            SYSTEM,
            APP,
            "deal",
            {
                "title": f"recent {i}",
                "amount": "10.10",
                "close_date": (today - timedelta(days=i * 5)).isoformat(),
                "signed_at": (datetime.now(UTC) - timedelta(days=i * 5)).isoformat().replace("+00:00", "Z"),
                "owner": org.users["rep_e"],
            },
        )
        made["_owner"] = "rep_e"
        deals.append(made)
    put_reports(
        org,
        [
            {
                "name": "signed",
                "entity": "deal",
                "shape": "summary",
                "parameters": {
                    "period": {"field": "close_date"},
                    "owner": {"field": "owner", "kind": "user"},
                    "department": {"field": "owner", "kind": "department"},
                },
                "rows": [{"field": "signed_at", "bucket": "month"}],
                "measures": [
                    {"name": "n", "agg": "count"},
                    {"name": "total", "agg": "sum", "field": "amount"},
                ],
            }
        ],
    )
    client = org.client("admin")
    cases: list[tuple[dict[str, Any], Any]] = [
        (
            {"period": {"from": "2024-03-01", "to": "2024-10-31"}},
            lambda d: date(2024, 3, 1) <= d["close_date"] <= date(2024, 10, 31),
        ),
        ({"period": "last_30_days"}, lambda d: today - timedelta(days=29) <= d["close_date"] <= today),
        (
            {"owner": [org.users["rep_w"], org.users["director"]]},
            lambda d: d["_owner"] in ("rep_w", "director"),
        ),
        ({"department": org.departments["east"]}, lambda d: d["_owner"] in ("rep_e", "head")),
    ]
    for params, keep in cases:
        body = _run(client, "signed", params)
        chosen = [d for d in deals if keep(d)]
        assert sum(r["n"] for r in body["rows"]) == len(chosen)
        for row in body["rows"]:
            month = row["signed_at:month"]
            items = _records(client, _drill(client, "signed", {"signed_at:month": month}, params))
            expected = [
                d
                for d in chosen
                if (
                    d["signed_at"].astimezone(ZONE).date().replace(day=1).isoformat()
                    if d["signed_at"]
                    else None
                )
                == month
            ]
            assert _ids(items) == _ids(expected), (params, month)
            assert len(items) == row["n"] and _total(items) == dec(row["total"])


def test_a_lookups_lookup_and_an_owners_department_are_dimensions_that_drill(org: Org) -> None:
    deals = generate(org)
    service = org.platform.records
    accounts = {d["_account"]["id"]: d["_account"] for d in deals if d["_account"]}
    ordered = sorted(accounts)
    parents = {a: ordered[-1] if i % 2 else ordered[-2] for i, a in enumerate(ordered[:-2])}
    for child, parent in parents.items():
        service.update(SYSTEM, APP, "account", child, {"parent": parent})
    region = {a: accounts[a]["region"] for a in ordered}
    put_reports(
        org,
        [
            {
                "name": "by_parent_region",
                "entity": "deal",
                "shape": "summary",
                "rows": [{"field": "account.parent.region"}],
                "measures": [{"name": "n", "agg": "count"}],
            },
            {
                "name": "by_department",
                "entity": "deal",
                "shape": "summary",
                "rows": [{"field": "owner.department"}],
                "measures": [
                    {"name": "n", "agg": "count"},
                    {"name": "total", "agg": "sum", "field": "amount"},
                ],
            },
        ],
    )
    client = org.client("admin")

    def parent_region(d: dict[str, Any]) -> Any:
        parent = parents.get(d["account"]) if d["account"] else None
        return region[parent] if parent else None

    body = _run(client, "by_parent_region")
    assert {r["account.parent.region"]: r["n"] for r in body["rows"]} == {
        v: sum(1 for d in deals if parent_region(d) == v) for v in {parent_region(d) for d in deals}
    }
    for row in body["rows"]:
        items = _records(
            client,
            _drill(client, "by_parent_region", {"account.parent.region": row["account.parent.region"]}),
        )
        assert _ids(items) == _ids([d for d in deals if parent_region(d) == row["account.parent.region"]])
    homes = {"rep_e": "east", "head": "east", "rep_w": "west", "director": "hq", None: None}
    body = _run(client, "by_department")
    labels = {
        org.departments["east"]: "华东 East",
        org.departments["west"]: "华西 West",
        org.departments["hq"]: "总部 HQ",
    }
    for row in body["rows"]:
        dept = row["owner.department"]
        assert row["owner.department@label"] == labels.get(dept, "(empty)")
        expected = [
            d
            for d in deals
            if (org.departments.get(homes[d["_owner"]] or "") if homes[d["_owner"]] else None) == dept
        ]
        items = _records(client, _drill(client, "by_department", {"owner.department": dept}))
        assert _ids(items) == _ids(expected) and len(items) == row["n"] == len(expected)
        assert _total(items) == dec(row["total"]) == _sum(expected)


def test_a_summary_sorted_by_a_measure_keeps_its_top_n_in_that_order(org: Org) -> None:
    deals = generate(org)
    base = {
        "entity": "deal",
        "shape": "summary",
        "rows": [{"field": "account.region", "top": 2}],
        "measures": [{"name": "n", "agg": "count"}, {"name": "total", "agg": "sum", "field": "amount"}],
    }
    put_reports(org, [{**base, "name": "desc", "sort": "-total"}, {**base, "name": "asc", "sort": "total"}])
    totals: dict[Any, Decimal] = defaultdict(Decimal)
    for d in deals:
        if d["_region"] is not None:
            totals[d["_region"]] += d["amount"] or 0
    client = org.client("admin")
    for name, descending in (("desc", True), ("asc", False)):
        ranked = sorted(sorted(totals, key=str), key=lambda v: -totals[v] if descending else totals[v])
        rows = _run(client, name)["rows"]
        shown = [r["account.region"] for r in rows]
        assert shown[:2] == ranked[:2]
        assert shown[2:] == ([None] if any(d["_region"] is None for d in deals) else []) + ["__others__"]
        others = next(r for r in rows if r["account.region"] == "__others__")
        assert dec(others["total"]) == sum((totals[v] for v in ranked[2:]), Decimal(0))
        items = _records(client, _drill(client, name, {"account.region": "__others__"}))
        assert _ids(items) == _ids([d for d in deals if d["_region"] in ranked[2:]])


def test_matrix_compares_with_the_previous_month_and_a_year_ago(org: Org) -> None:
    deals = generate(org)
    put_reports(
        org,
        [
            {
                "name": "trend",
                "entity": "deal",
                "shape": "matrix",
                "parameters": {"period": {"field": "close_date"}},
                "rows": [{"field": "close_date", "bucket": "month"}],
                "columns": [{"field": "stage"}],
                "measures": [
                    {"name": "total", "agg": "sum", "field": "amount"},
                    {"name": "n", "agg": "count"},
                ],
                "compare": ["previous", "year_ago"],
            }
        ],
    )
    params = {"period": {"from": "2025-01-01", "to": "2025-05-31"}}
    body = _run(org.client("admin"), "trend", params)

    def month_shift(m: date, k: int) -> date:
        index = m.year * 12 + m.month - 1 + k
        return date(index // 12, index % 12 + 1, 1)

    def cell(month: date | None, stage: Any, first: date, last: date) -> list[dict[str, Any]]:
        return [
            d
            for d in deals
            if first <= d["close_date"] < last
            and (month is None or d["close_date"].replace(day=1) == month)
            and (stage == "*" or d["stage"] == stage)
        ]

    def check(values: dict[str, Any], current: list[Any], previous: list[Any], year_ago: list[Any]) -> None:
        now = _sum(current)
        assert dec(values["total"]) == now
        for c, earlier in (("previous", previous), ("year_ago", year_ago)):
            before = _sum(earlier)
            assert dec(values[f"total_{c}"]) == before
            assert dec(values[f"total_{c}_diff"]) == (None if now is None or before is None else now - before)
            change = values[f"total_{c}_change"]
            if now is None or not before:
                assert change is None
            else:
                shown = dec(change)
                assert shown is not None and abs(shown - (now - before) / abs(before)) < Decimal("0.0001")
            # an earlier group with no rows is absent (null), the grand total counts 0
            assert values[f"n_{c}"] in ((len(earlier),) if earlier else (0, None))

    start, end = date(2025, 1, 1), date(2025, 6, 1)
    prev_range = (date(2024, 12, 1), date(2025, 5, 1))
    year_range = (date(2024, 1, 1), date(2024, 6, 1))
    assert body["rows"]
    for row in body["rows"]:
        month = date.fromisoformat(row["close_date:month"])
        for stage in STAGES:
            if stage not in row["cells"]:
                continue
            check(
                row["cells"][stage],
                cell(month, stage, start, end),
                cell(month_shift(month, -1), stage, *prev_range),
                cell(month_shift(month, -12), stage, *year_range),
            )
        check(
            row["total"],
            cell(month, "*", start, end),
            cell(month_shift(month, -1), "*", *prev_range),
            cell(month_shift(month, -12), "*", *year_range),
        )
    for column in body["column_keys"]:
        stage = column["stage"]
        check(
            column["total"],
            cell(None, stage, start, end),
            cell(None, stage, *prev_range),
            cell(None, stage, *year_range),
        )
    check(
        body["totals"],
        cell(None, "*", start, end),
        cell(None, "*", *prev_range),
        cell(None, "*", *year_range),
    )
    first = body["rows"][0]
    items = _records(
        org.client("admin"),
        _drill(
            org.client("admin"),
            "trend",
            {"close_date:month": first["close_date:month"]},
            params,
            compare="previous",
        ),
    )
    assert len(items) == first["total"]["n_previous"]


def test_funnel_kpi_and_cohort_cells_drill_to_their_rows(org: Org) -> None:
    generate(org)
    order = ["lead", "qualified", "proposal", "negotiation", "won"]
    put_reports(
        org,
        [
            {
                "name": "funnel",
                "entity": "deal",
                "shape": "funnel",
                "stages": {"field": "stage", "values": order, "amount": "amount"},
            },
            {
                "name": "kpi",
                "entity": "deal",
                "shape": "kpi",
                "filter": "quantity > 5",
                "parameters": {"period": {"field": "close_date"}},
                "measures": [
                    {"name": "n", "agg": "count"},
                    {"name": "big", "agg": "count", "filter": "amount > 100"},
                ],
            },
            {
                "name": "ltv",
                "entity": "deal",
                "shape": "cohort",
                "cohort": {"subject": "account", "date": "close_date", "value": "amount", "periods": 6},
            },
        ],
    )
    client = org.client("admin")
    for row in _run(client, "funnel")["rows"]:
        items = _records(client, _drill(client, "funnel", {"stage": row["stage"]}))
        assert len(items) == row["count"] and _total(items) == dec(row["amount"])
        assert (
            len(_records(client, _drill(client, "funnel", {"stage": row["stage"], "reached": True})))
            == row["reached"]
        )
    params = {"period": {"from": "2024-01-01", "to": "2024-06-30"}}
    kpi = _run(client, "kpi", params)["rows"][0]
    assert len(_records(client, _drill(client, "kpi", {}, params))) == kpi["n"]
    assert len(_records(client, _drill(client, "kpi", {}, params, measure="big"))) == kpi["big"]
    cohort = _run(client, "ltv")
    for row in cohort["rows"][:3]:
        for c in row["cells"][:3]:
            items = _records(client, _drill(client, "ltv", {"cohort": row["cohort"], "age": c["age"]}))
            assert len({i["account"] for i in items}) == c["subjects"]
            assert _total(items) == dec(c["value"])


def test_a_cell_that_does_not_fit_the_report_is_refused_with_its_pointer(org: Org) -> None:
    put_reports(
        org,
        [
            {
                "name": "s",
                "entity": "deal",
                "shape": "summary",
                "rows": [{"field": "close_date", "bucket": "month", "top": 3}],
                "measures": [{"name": "n", "agg": "count"}],
            },
        ],
    )
    client = org.client("admin")
    url = f"/api/apps/{APP}/reports/s/drill"
    for body, pointer in (
        ({"cell": {"nope": 1}}, "/cell/nope"),
        ({"cell": {"close_date:month": "May"}}, "/cell/close_date:month"),
        ({"cell": {"close_date:month": "__others__"}}, "/cell/close_date:month"),
        ({"cell": {}, "compare": "previous"}, "/cell/compare"),
        ({"cell": []}, "/cell"),
    ):
        r = client.post(url, json=body)
        assert r.status_code == 422, r.text
        assert [p["pointer"] for p in r.json()["error"]["problems"]] == [pointer], r.text
    assert client.post(f"/api/apps/{APP}/reports/missing/drill", json={}).status_code == 404
