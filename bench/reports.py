"""Reports through the report engine against hand-written SQL on the same database, one run.

    python bench/reports.py [--rows 1000000] [--repeat 3] [--backend sqlite|postgresql|all] [--smoke]

Loads ``--rows`` opportunity-like records (12 months, 8 regions, 6 stages, 200 owners) with a raw
bulk insert (benchmark data only; the engine's write path has its own benchmark), then times
every shape through the engine (compile + run + shaping, cache off) and its equivalent
hand-written SQL, the 12-month x 8-region matrix cold, and a dashboard of six reports cold and
warm (from the cache). Prints the best of ``--repeat`` runs and the ratio to the hand-written
query. Goals: each shape within 1.2x of its SQL; the matrix under 1.5 s cold on SQLite at 1M
rows; a warm dashboard under 50 ms. ``--smoke`` loads 2,000 rows (CI proves the script runs).

The hand-written sums add the stored values (REAL on SQLite); the engine's SQLite sums add whole
cents so money is exact, which is part of what the ratio measures.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from databases import backends, database

import report_engine.plugin
from engine import Context, Platform, Principal, Settings, put_section
from engine.apps.metadata_store import import_app

STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
REGIONS = ["华东", "华南", "华北", "华中", "西南", "西北", "东北", "港澳"]
ADMIN = Context(user=Principal(id=1, username="bench", is_admin=True))


def _label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


PACKAGE: dict[str, Any] = {
    "name": "bench",
    "label": _label("bench"),
    "entities": [
        {
            "name": "deal",
            "label": _label("deal"),
            "fields": [
                {"name": "title", "type": "text", "label": _label("title")},
                {"name": "amount", "type": "currency", "label": _label("amount")},
                {
                    "name": "stage",
                    "type": "select",
                    "label": _label("stage"),
                    "options": [{"value": s, "label": _label(s)} for s in STAGES],
                },
                {
                    "name": "region",
                    "type": "select",
                    "label": _label("region"),
                    "options": [{"value": r, "label": _label(r)} for r in REGIONS],
                },
                {"name": "close_date", "type": "date", "label": _label("close date")},
            ],
        }
    ],
}
PERIOD = {"field": "close_date"}
REPORTS: list[dict[str, Any]] = [
    {
        "name": "by_stage",
        "entity": "deal",
        "shape": "summary",
        "rows": [{"field": "stage"}],
        "measures": [{"name": "n", "agg": "count"}, {"name": "total", "agg": "sum", "field": "amount"}],
    },
    {
        "name": "month_region",
        "entity": "deal",
        "shape": "matrix",
        "rows": [{"field": "close_date", "bucket": "month"}],
        "columns": [{"field": "region"}],
        "measures": [{"name": "total", "agg": "sum", "field": "amount"}],
    },
    {
        "name": "funnel",
        "entity": "deal",
        "shape": "funnel",
        "stages": {"field": "stage", "values": STAGES[:5], "amount": "amount"},
    },
    {
        "name": "kpi",
        "entity": "deal",
        "shape": "kpi",
        "parameters": {"period": PERIOD},
        "measures": [{"name": "total", "agg": "sum", "field": "amount"}],
        "compare": ["previous"],
    },
    {
        "name": "cohort",
        "entity": "deal",
        "shape": "cohort",
        "cohort": {"subject": "owner", "date": "close_date", "value": "amount", "periods": 12},
    },
    {
        "name": "top",
        "entity": "deal",
        "shape": "table",
        "fields": ["title", "amount", "stage"],
        "sort": "-amount",
        "limit": 100,
    },
]
PARAMS: dict[str, dict[str, Any]] = {"kpi": {"period": {"from": "2024-07-01", "to": "2024-12-31"}}}
START = date(2024, 1, 1)


def hand_sql(kind: str, table: str) -> dict[str, str]:
    """What a person would write for each report."""
    month = "strftime('%Y-%m-01', close_date)" if kind == "sqlite" else "date_trunc('month', close_date)"
    mi = (
        "(CAST(strftime('%Y', close_date) AS INTEGER) * 12 + CAST(strftime('%m', close_date) AS INTEGER))"
        if kind == "sqlite"
        else "(EXTRACT(YEAR FROM close_date) * 12 + EXTRACT(MONTH FROM close_date))"
    )
    live = "deleted_at IS NULL"
    stages = ", ".join(f"'{s}'" for s in STAGES[:5])
    return {
        "by_stage": f"SELECT stage, COUNT(*), SUM(amount) FROM {table} WHERE {live} GROUP BY stage",
        "month_region": f"SELECT {month}, region, SUM(amount) FROM {table} WHERE {live} GROUP BY {month}, region",
        "funnel": f"SELECT stage, COUNT(*), SUM(amount) FROM {table} WHERE {live} AND stage IN ({stages}) GROUP BY stage",
        "kpi": f"SELECT SUM(amount) FROM {table} WHERE {live} AND close_date >= '2024-07-01' AND close_date < '2025-01-01';"
        f"SELECT SUM(amount) FROM {table} WHERE {live} AND close_date >= '2024-01-01' AND close_date < '2024-07-01'",
        "cohort": f"WITH f AS (SELECT owner, MIN({mi}) AS m FROM {table} WHERE {live} GROUP BY owner) "
        f"SELECT f.m, {mi} - f.m, COUNT(DISTINCT d.owner), SUM(d.amount) FROM {table} d JOIN f ON f.owner = d.owner "
        f"WHERE d.deleted_at IS NULL AND {mi} - f.m < 12 GROUP BY f.m, {mi} - f.m",
        "top": f"SELECT id, title, amount, stage FROM {table} WHERE {live} ORDER BY amount DESC, id LIMIT 100",
    }


def load(platform: Platform, rows: int) -> str:
    runtime = platform.cached_runtime("bench")
    table = runtime.entity("deal").table
    rng = random.Random(12)
    batch: list[dict[str, Any]] = []
    with platform.db.begin() as conn:
        for i in range(rows):
            batch.append(
                {
                    "title": f"deal {i}",
                    "amount": rng.randrange(1, 10_000_000) / 100,
                    "stage": STAGES[rng.randrange(6)],
                    "region": REGIONS[rng.randrange(8)],
                    "close_date": START + timedelta(days=rng.randrange(365)),
                    "owner": 1 + rng.randrange(200),
                    "created_at": platform_now(),
                    "updated_at": platform_now(),
                    "version": 1,
                }
            )
            if len(batch) == 20_000:
                conn.execute(table.insert(), batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
    if platform.db.dialect.name == "postgresql":
        with platform.db.connect() as conn:
            conn.execute(sa.text(f'ANALYZE "{table.name}"'))
            conn.commit()
    return str(table.name)


def platform_now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def run(kind: str, rows: int, repeat: int) -> None:
    with database(kind) as url, tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=url, data_dir=Path(folder), secret_key="bench")
        platform = Platform(settings, plugins=[report_engine.plugin], load_entry_points=False)
        platform.init_database()
        with platform.db.begin() as conn:
            import_app(conn, PACKAGE, ADMIN)
            put_section(conn, "bench", "reports", REPORTS, ADMIN)
            put_section(
                conn,
                "bench",
                "dashboards",
                [
                    {
                        "name": "six",
                        "filters": PARAMS["kpi"],
                        "items": [
                            {"report": r["name"], "x": 0, "y": i, "w": 12, "h": 4}
                            for i, r in enumerate(REPORTS)
                        ],
                    }
                ],
                ADMIN,
            )
        started = time.perf_counter()
        table = load(platform, rows)
        print(f"{kind} loaded {rows:,} rows in {time.perf_counter() - started:.1f} s")
        service = report_engine.plugin.service_of(platform)
        sql = hand_sql(kind, f'"{table}"')

        def by_hand(name: str) -> Callable[[], Any]:
            def go() -> None:
                with platform.db.connect() as conn:
                    for statement in sql[name].split(";"):
                        conn.execute(
                            sa.text(statement.replace("%", "%%") if kind == "postgresql" else statement)
                        ).all()

            return go

        def engine_run(name: str) -> Callable[[], Any]:
            def go() -> None:
                service.cache.clear()
                service.run(ADMIN, "bench", name, PARAMS.get(name, {}))

            return go

        print(f"{kind:<10} {'report':<14} {'engine ms':>10} {'hand SQL ms':>12} {'ratio':>7}")
        for report in REPORTS:
            name = report["name"]
            hand = best(by_hand(name), repeat)
            through = best(engine_run(name), repeat)
            print(f"{kind:<10} {name:<14} {through:>10.1f} {hand:>12.1f} {through / hand:>7.2f}x")
        cold_matrix = best(engine_run("month_region"), 1)
        print(
            f"{kind:<10} matrix 12 months x 8 regions cold: {cold_matrix:.1f} ms (goal < 1500 ms on SQLite)"
        )

        def dashboard() -> None:
            service.dashboard(ADMIN, "bench", "six")

        def cold() -> None:
            service.cache.clear()
            dashboard()

        cold_ms = best(cold, repeat)
        dashboard()
        warm_ms = best(dashboard, max(repeat, 5))
        print(
            f"{kind:<10} dashboard of 6 reports cold: {cold_ms:.1f} ms, warm: {warm_ms:.2f} ms (goal < 50 ms); "
            f"warm/cold {warm_ms / cold_ms:.3f}"
        )
        platform.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", default="all", choices=["sqlite", "postgresql", "all"])
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    rows, repeat = (2_000, 1) if args.smoke else (args.rows, args.repeat)
    for kind in backends(args.backend):
        run(kind, rows, repeat)


if __name__ == "__main__":
    main()
