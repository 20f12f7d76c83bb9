"""Keyword search (``q=``) against an unindexed LIKE over the same fields, measured in one run.

    python bench/search.py [--rows 1000000] [--backend all] [--smoke]

Loads ``--rows`` company-like records (city + a random two-character brand + industry +
有限公司, a region and a short note), with a few planted 华为 rows, on SQLite and (when
TANGRAM_BENCH_DATABASE_URL or TANGRAM_TEST_DATABASE_URL names a server) PostgreSQL. Then asks
for a page of 50 (with its total) through the record service for a rare Chinese word, its
pinyin initials and syllables, and a word held by about one row in eight, and prints the median
time beside the same page and count answered by ``LIKE '%word%'`` over the same fields in the
same run. Goal: a page of a selective search in under 100 ms on 1,000,000 records.

The rows are inserted with Core, their search columns computed by the same function the write
step uses (a million records through the write unit would measure the write unit). ``--smoke``
runs everything on 2,000 rows (CI proves the script still runs; its figures mean nothing).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from databases import backends, database

from engine import Context, Platform, Principal, Settings
from engine.apps.metadata_store import import_app
from engine.identity.users import create_user
from engine.schema.search_text import PINYIN_COLUMN, search_values

CITIES = ["深圳", "北京", "上海", "广州", "杭州", "成都", "南京", "苏州", "武汉", "西安", "重庆", "天津"]
INDUSTRIES = ["科技", "贸易", "电子", "物流", "餐饮", "医药", "建材", "传媒"]
REGIONS = ["华东", "华南", "华北", "西南", "东北", "西北"]
#: Brand characters; 华 and 为 are left out so the planted rows are the only 华为.
BRAND = "金银星月云海山川明德信达和美嘉鑫源泰安康宏盛兴隆丰瑞恒通顺博远航创新智慧天地人光辉腾飞龙凤"
PLANTED = 20
SEARCHES = [
    ("华为", "rare word"),
    ("hw", "pinyin initials"),
    ("huawei", "full pinyin"),
    ("科技", "1 row in 8"),
]

PACKAGE: dict[str, Any] = {
    "name": "bench",
    "label": {"zh": "基准", "en": "Bench"},
    "entities": [
        {
            "name": "company",
            "label": {"zh": "公司", "en": "Company"},
            "title_field": "name",
            "fields": [
                {"name": "name", "type": "text", "label": {"zh": "名称", "en": "Name"}},
                {"name": "region", "type": "text", "label": {"zh": "区域", "en": "Region"}},
                {"name": "notes", "type": "long_text", "label": {"zh": "备注", "en": "Notes"}},
                {"name": "employees", "type": "integer", "label": {"zh": "员工数", "en": "Employees"}},
            ],
        }
    ],
}


def make_rows(n: int, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    planted = set(rng.sample(range(n), min(PLANTED, n)))
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        brand = "华为" if i in planted else rng.choice(BRAND) + rng.choice(BRAND)
        name = f"{rng.choice(CITIES)}{brand}{rng.choice(INDUSTRIES)}有限公司"
        row: dict[str, Any] = {
            "name": name,
            "region": rng.choice(REGIONS),
            "notes": f"第{rng.randint(1, 99)}次拜访，联系人{rng.choice(BRAND)}先生",
            "employees": rng.randint(5, 5000),
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        rows.append(row)
    return rows


def load(platform: Platform, table: sa.Table, entity: Any, rows: list[dict[str, Any]]) -> None:
    chunk = 20_000
    for i in range(0, len(rows), chunk):
        part = [{**r, **search_values(entity, r)} for r in rows[i : i + chunk]]
        with platform.db.begin() as conn:
            conn.execute(table.insert(), part)


def median_ms(fn: Any, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def run(kind: str, n: int, runs: int) -> None:
    with database(kind) as url, tempfile.TemporaryDirectory() as data_dir:
        platform = Platform(Settings(database_url=url, data_dir=Path(data_dir)), load_entry_points=False)
        platform.init_database()
        with platform.db.begin() as conn:
            user_id = create_user(conn, "bench", "bench-password-1", is_admin=True)
        ctx = Context(user=Principal(id=user_id, username="bench", is_admin=True))
        with platform.db.begin() as conn:
            import_app(conn, PACKAGE, ctx)
        er = platform.cached_runtime("bench").entity("company")
        table = er.table
        start = time.perf_counter()
        load(platform, table, er.entity, make_rows(n))
        print(
            f"{kind:10} loaded {n:,} records with their search index in {time.perf_counter() - start:.1f} s"
        )
        if kind == "postgresql":
            with platform.db.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                    sa.text(f'VACUUM ANALYZE "{table.name}"')
                )
        for q, what in SEARCHES:
            page = platform.records.list_records(ctx, "bench", "company", q=q, limit=50)
            ours = median_ms(
                lambda q=q: platform.records.list_records(ctx, "bench", "company", q=q, limit=50), runs
            )
            baseline = median_ms(lambda q=q: like_page(platform, table, q), max(3, runs // 5))
            goal = f"goal < 100 ms {'OK' if ours < 100 else 'MISSED'}" if what != "1 row in 8" else "(broad)"
            print(
                f"{kind:10} q={q!r:9} {what:16} total {page.total:>9,}  page of 50: q= {ours:8.2f} ms  "
                f"LIKE {baseline:9.2f} ms  speed-up {baseline / ours:6.1f}x  {goal}"
            )
        platform.close()


def like_page(platform: Platform, table: sa.Table, q: str) -> None:
    """The baseline: the same page and total by an unindexed substring match (of the pinyin
    keys too, so both sides answer the same question)."""
    match = sa.or_(*[table.c[name].contains(q) for name in ("name", "region", "notes", PINYIN_COLUMN)])
    where = [table.c.deleted_at.is_(None), match]
    with platform.db.connect() as conn:
        conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        conn.execute(sa.select(table).where(*where).order_by(table.c.id).limit(50)).all()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--smoke", action="store_true", help="2,000 rows: does it still run")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.runs = 2_000, 3
    for kind in backends(args.backend):
        run(kind, args.rows, args.runs)


if __name__ == "__main__":
    main()
