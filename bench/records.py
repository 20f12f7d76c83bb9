"""Record-service throughput against raw SQLAlchemy Core, measured in one run.

    python bench/records.py [--rows 100000] [--singles 2000] [--page-rows 1000000] [--smoke]

Runs on SQLite (a WAL file in a temporary folder) and, when TANGRAM_BENCH_DATABASE_URL or
TANGRAM_TEST_DATABASE_URL names a PostgreSQL server, on a fresh database there too. Prints each
figure and its ratio to the raw baseline measured on the same table shape in the same run.
Goals: bulk create >= 0.5x raw executemany; single create <= 2x raw insert+commit time; a
filtered, sorted page of 50 from 1,000,000 rows under 20 ms with the declared index; through the
write unit on SQLite, a 12-field entity with one duplicate rule at >= 10,000 rows/s and a parent
with two sub-table lines at >= 5,000 parents/s. ``--smoke`` runs every measurement on a few
hundred rows (CI proves the script still runs; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from databases import backends, database

from engine import Context, Platform, Principal, Settings
from engine.apps.metadata_store import import_app
from engine.identity.users import create_user
from engine.schema.compiler import build_table

STAGES = ["new", "qualified", "proposal", "won", "lost"]
REGIONS = ["华东", "华南", "华北", "西南", "东北"]

PACKAGE: dict[str, Any] = {
    "name": "bench",
    "label": {"zh": "基准", "en": "Bench"},
    "entities": [
        {
            "name": "deal",
            "label": {"zh": "商机", "en": "Deal"},
            "fields": [
                {"name": "title", "type": "text", "label": {"zh": "标题", "en": "Title"}, "required": True},
                {"name": "email", "type": "text", "label": {"zh": "邮箱", "en": "Email"}},
                {
                    "name": "stage",
                    "type": "select",
                    "label": {"zh": "阶段", "en": "Stage"},
                    "options": [{"value": s, "label": {"zh": s, "en": s}} for s in STAGES],
                },
                {"name": "amount", "type": "number", "label": {"zh": "金额", "en": "Amount"}, "scale": 2},
                {"name": "quantity", "type": "integer", "label": {"zh": "数量", "en": "Quantity"}},
                {"name": "active", "type": "boolean", "label": {"zh": "有效", "en": "Active"}},
                {"name": "close_date", "type": "date", "label": {"zh": "成交日", "en": "Close date"}},
                {"name": "next_call", "type": "datetime", "label": {"zh": "下次联系", "en": "Next call"}},
                {"name": "region", "type": "text", "label": {"zh": "区域", "en": "Region"}},
                {"name": "city", "type": "text", "label": {"zh": "城市", "en": "City"}},
                {"name": "notes", "type": "long_text", "label": {"zh": "备注", "en": "Notes"}},
                {"name": "score", "type": "integer", "label": {"zh": "评分", "en": "Score"}},
            ],
            "indexes": [{"fields": ["stage", "amount"]}],
        },
        {
            "name": "contact",
            "label": {"zh": "联系人", "en": "Contact"},
            # The deal's twelve fields, plus one duplicate rule on the e-mail address.
            "fields": "DEAL_FIELDS",
            "duplicate_rules": [{"name": "same_email", "fields": ["email"], "policy": "allow"}],
        },
        {
            "name": "order",
            "label": {"zh": "订单", "en": "Order"},
            "fields": [
                {"name": "title", "type": "text", "label": {"zh": "标题", "en": "Title"}, "required": True},
                {
                    "name": "lines",
                    "type": "sub_table",
                    "label": {"zh": "明细", "en": "Lines"},
                    "entity": "line",
                    "link_field": "order",
                },
            ],
        },
        {
            "name": "line",
            "label": {"zh": "明细", "en": "Line"},
            "fields": [
                {
                    "name": "order",
                    "type": "lookup",
                    "label": {"zh": "订单", "en": "Order"},
                    "entity": "order",
                },
                {"name": "product", "type": "text", "label": {"zh": "产品", "en": "Product"}},
                {"name": "quantity", "type": "integer", "label": {"zh": "数量", "en": "Quantity"}},
                {"name": "price", "type": "number", "label": {"zh": "单价", "en": "Price"}, "scale": 2},
            ],
        },
    ],
}
PACKAGE["entities"][1]["fields"] = PACKAGE["entities"][0]["fields"]

FILTER = "stage == 'won' and amount > 900000"
SORT = "-amount"


def make_rows(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """JSON-like input, as a client sends it (text numbers, ISO dates)."""
    rng = random.Random(seed)
    start = date(2026, 1, 1)
    rows = []
    for i in range(n):
        rows.append(
            {
                "title": f"商机 {i}",
                "email": f"user{i}@example.com",
                "stage": rng.choice(STAGES),
                "amount": f"{rng.randint(0, 100_000_000) / 100:.2f}",
                "quantity": rng.randint(1, 500),
                "active": rng.random() < 0.8,
                "close_date": (start + timedelta(days=rng.randint(0, 365))).isoformat(),
                "next_call": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T09:30:00+08:00",
                "region": rng.choice(REGIONS),
                "city": rng.choice(["上海", "杭州", "深圳", "北京", "成都"]),
                "notes": "跟进中" if rng.random() < 0.5 else None,
                "score": rng.randint(0, 100),
            }
        )
    return rows


def system_columns(user_id: int = 1) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "created_at": now,
        "updated_at": now,
        "created_by": user_id,
        "updated_by": user_id,
        "owner": user_id,
        "version": 1,
    }


def raw_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same rows as Python values ready for Core (what a hand-written importer would build)."""
    system = system_columns()
    out = []
    for r in rows:
        out.append(
            {
                **r,
                "amount": Decimal(r["amount"]),
                "close_date": date.fromisoformat(r["close_date"]),
                "next_call": datetime.fromisoformat(r["next_call"]),
                **system,
            }
        )
    return out


def timed(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(kind: str, n_bulk: int, n_single: int, n_page: int) -> None:
    with database(kind) as url, tempfile.TemporaryDirectory() as data_dir:
        platform = Platform(Settings(database_url=url, data_dir=Path(data_dir)), load_entry_points=False)
        platform.init_database()
        with platform.db.begin() as conn:
            user_id = create_user(conn, "bench", "bench-password-1", is_admin=True)
        ctx = Context(user=Principal(id=user_id, username="bench", is_admin=True))
        with platform.db.begin() as conn:
            import_app(conn, PACKAGE, ctx)
        entity = platform.cached_runtime("bench").entity("deal").entity
        raw_table = build_table(sa.MetaData(), "raw", entity)
        raw_table.create(platform.db)

        t_raw, t_service = bulk_against_raw(platform, ctx, "deal", raw_table, make_rows(n_bulk))
        report(kind, f"bulk create {n_bulk:,}", n_bulk / t_service, n_bulk / t_raw, "rows/s", goal=">= 0.5")

        singles = make_rows(n_single, seed=11)
        raw_singles = raw_rows(singles)

        def service_single() -> None:
            for r in singles:
                platform.records.create(ctx, "bench", "deal", r)

        def raw_single() -> None:
            for r in raw_singles:
                with platform.db.begin() as conn:
                    conn.execute(raw_table.insert(), r)

        t_raw = timed(raw_single)
        t_service = timed(service_single)
        report(
            kind,
            f"single create x{n_single:,}",
            n_single / t_service,
            n_single / t_raw,
            "creates/s",
            goal=">= 0.5 (time <= 2x)",
        )

        extra = n_page - n_bulk - n_single
        prepared = raw_rows(make_rows(max(extra, 0), seed=13))
        deal_table = platform.cached_runtime("bench").entity("deal").table
        for i in range(0, len(prepared), 50_000):
            with platform.db.begin() as conn:
                conn.execute(deal_table.insert(), prepared[i : i + 50_000])
        if kind == "postgresql":
            # What autovacuum does after a bulk load: statistics and the visibility map (so
            # the partial index answers the count without visiting the table).
            with platform.db.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    sa.text(f'VACUUM ANALYZE "{deal_table.name}"')
                )
        with platform.db.connect() as conn:
            total_rows = conn.execute(sa.select(sa.func.count()).select_from(deal_table)).scalar_one()
        samples = []
        for _ in range(30):
            start = time.perf_counter()
            page = platform.records.list_records(ctx, "bench", "deal", filter=FILTER, sort=SORT, limit=50)
            samples.append(time.perf_counter() - start)
        median_ms = statistics.median(samples) * 1000
        if os.environ.get("TANGRAM_BENCH_EXPLAIN"):
            explain(platform, kind)
        print(
            f"{kind:10} page of 50 from {total_rows:,} rows ({FILTER!r}, sort {SORT}, total {page.total:,}): "
            f"median {median_ms:.2f} ms, p90 {sorted(samples)[26] * 1000:.2f} ms  goal < 20 ms "
            f"{'OK' if median_ms < 20 else 'MISSED'}"
        )
        write_unit_batches(platform, ctx, kind, n_bulk)
        platform.close()


def bulk_against_raw(
    platform: Platform, ctx: Context, entity: str, raw_table: sa.Table, rows: list[dict[str, Any]]
) -> tuple[float, float]:
    """Seconds to insert ``rows`` raw (Core executemany) and through the service, 10,000 a batch."""
    chunk = 10_000

    def service() -> None:
        for i in range(0, len(rows), chunk):
            platform.records.bulk_create(ctx, "bench", entity, rows[i : i + chunk])

    def raw() -> None:
        prepared = raw_rows(rows)
        for i in range(0, len(prepared), chunk):
            with platform.db.begin() as conn:
                conn.execute(raw_table.insert(), prepared[i : i + chunk])

    return timed(raw), timed(service)


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The id of the one row an INSERT added, read the way a hand-written importer would."""
    key = result.inserted_primary_key
    if key is None:  # an INSERT always has one
        raise RuntimeError("no id for the new row")
    return int(key[0])


def make_orders(n: int) -> list[dict[str, Any]]:
    return [
        {
            "title": f"订单 {i}",
            "lines": [
                {"product": "螺栓", "quantity": 3, "price": "1.50"},
                {"product": "螺母", "quantity": 5, "price": "0.80"},
            ],
        }
        for i in range(n)
    ]


def write_unit_batches(platform: Platform, ctx: Context, kind: str, n: int) -> None:
    """The batched write steps: a duplicate rule and sub-table children, each against raw
    inserts of the same rows (what a hand-written importer would do)."""
    runtime = platform.cached_runtime("bench")
    chunk = 10_000
    contact = build_table(sa.MetaData(), "raw_contact", runtime.entity("contact").entity)
    contact.create(platform.db)
    t_raw, t_service = bulk_against_raw(platform, ctx, "contact", contact, make_rows(n, seed=17))
    report(kind, f"+1 duplicate rule {n:,}", n / t_service, n / t_raw, "rows/s", goal=">= 10,000 rows/s")

    n_orders = max(n // 4, 1)
    orders = make_orders(n_orders)
    metadata = sa.MetaData()
    raw_order = build_table(metadata, "raw", runtime.entity("order").entity)
    raw_line = build_table(metadata, "raw", runtime.entity("line").entity)
    metadata.create_all(platform.db)

    def service_orders() -> None:
        for i in range(0, len(orders), chunk // 2):
            platform.records.bulk_create(ctx, "bench", "order", orders[i : i + chunk // 2])

    def raw_orders() -> None:
        system = system_columns()
        for i in range(0, len(orders), chunk // 2):
            part = orders[i : i + chunk // 2]
            with platform.db.begin() as conn:
                ids = [
                    inserted_id(conn.execute(raw_order.insert().values(title=o["title"], **system)))
                    for o in part
                ]
                lines = [
                    {**line, "price": Decimal(line["price"]), "order": order_id, **system}
                    for order_id, o in zip(ids, part, strict=True)
                    for line in o["lines"]
                ]
                conn.execute(raw_line.insert(), lines)

    t_raw, t_service = timed(raw_orders), timed(service_orders)
    report(
        kind,
        f"parent + 2 lines {n_orders:,}",
        n_orders / t_service,
        n_orders / t_raw,
        "parents/s",
        goal=">= 5,000 parents/s",
    )


def explain(platform: Platform, kind: str) -> None:
    """Print the plans of the page and count queries (set TANGRAM_BENCH_EXPLAIN=1)."""
    from engine.apps.record_query import filter_clause, order_by

    runtime = platform.cached_runtime("bench")
    er = runtime.entity("deal")
    where = [er.table.c.deleted_at.is_(None), filter_clause(runtime, er, FILTER)]
    page = sa.select(er.table).where(*where).order_by(*order_by(er, SORT)).limit(50)
    count = sa.select(sa.func.count()).select_from(er.table).where(*where)
    prefix = "EXPLAIN QUERY PLAN " if kind == "sqlite" else "EXPLAIN ANALYZE "
    with platform.db.connect() as conn:
        for query in (page, count):
            sql = str(query.compile(platform.db, compile_kwargs={"literal_binds": True}))
            for row in conn.exec_driver_sql(prefix + sql):
                print("   ", row[-1])


def report(kind: str, what: str, ours: float, raw: float, unit: str, goal: str) -> None:
    print(
        f"{kind:10} {what:22} service {ours:10,.0f} {unit:9} raw {raw:10,.0f}  "
        f"ratio {ours / raw:.2f}  goal {goal}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2_000)
    parser.add_argument("--page-rows", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--smoke", action="store_true", help="a few hundred rows: does it still run")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.singles, args.page_rows = 400, 20, 1_000
    for kind in backends(args.backend):
        run(kind, args.rows, args.singles, args.page_rows)


if __name__ == "__main__":
    main()
