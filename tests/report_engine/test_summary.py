"""Summary reports: groups in option order with labels, the empty group, subtotals and a grand
total, exact money, percent of total, running totals, formulas and top N with others; every
expected number computed here from the generated rows."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .conftest import APP, STAGE_LABELS, STAGES, Org, dec, generate, put_reports

BY_STAGE = {
    "name": "by_stage",
    "entity": "deal",
    "shape": "summary",
    "rows": [{"field": "stage"}],
    "measures": [
        {"name": "n", "agg": "count"},
        {"name": "total", "agg": "sum", "field": "amount", "percent_of_total": True, "running_total": True},
        {"name": "average", "agg": "avg", "field": "amount"},
        {"name": "biggest", "agg": "max", "field": "amount"},
        {"name": "accounts", "agg": "count_distinct", "field": "account"},
        {"name": "won", "agg": "count", "filter": "stage == 'won'"},
        {"name": "share_won", "formula": "won / n"},
    ],
}


def _money(values: list[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def test_summary_by_stage_is_exact_in_option_order_with_labels(org: Org) -> None:
    deals = generate(org)
    put_reports(org, [BY_STAGE])
    r = org.client("admin", "zh-CN").post(f"/api/apps/{APP}/reports/by_stage/run", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for d in deals:
        groups[d["stage"]].append(d)
    expected_order = [s for s in STAGES if s in groups] + ([None] if None in groups else [])
    rows = body["rows"]
    assert [row["stage"] for row in rows] == expected_order
    grand = _money([d["amount"] for d in deals])
    running = Decimal(0)
    for row in rows:
        members = groups[row["stage"]]
        label = STAGE_LABELS[row["stage"]][0] if row["stage"] else "（空）"
        assert row["stage@label"] == label
        assert row["n"] == len(members)
        total = _money([d["amount"] for d in members])
        assert dec(row["total"]) == total
        amounts = [d["amount"] for d in members if d["amount"] is not None]
        if amounts:
            avg = (sum(amounts, Decimal(0)) / len(amounts)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            assert dec(row["average"]) == avg
            assert dec(row["biggest"]) == max(amounts)
        running += total or 0
        assert dec(row["total_running"]) == running
        if total is not None and grand:
            assert dec(row["total_pct"]) == (total / grand).quantize(Decimal("0.000001"), ROUND_HALF_UP)
        assert row["accounts"] == len({d["account"] for d in members if d["account"] is not None})
        won = sum(1 for d in members if d["stage"] == "won")
        assert row["won"] == won
        assert dec(row["share_won"]) == (Decimal(won) / len(members)).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        )
    assert body["totals"]["n"] == len(deals)
    assert dec(body["totals"]["total"]) == grand
    assert body["totals"]["accounts"] == len({d["account"] for d in deals if d["account"] is not None})
    assert body["chart"]["type"] == "bar" and body["chart"]["x"] == "stage"
