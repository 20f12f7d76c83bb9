"""Spreadsheet import throughput against a raw Core insert of the same rows, in one run.

    python bench/import.py [--rows 100000] [--backend sqlite|postgresql|all] [--smoke]

A CSV of ``--rows`` companies goes into the CRM template's ``account`` entity through the
importer: the file decoded and parsed, columns mapped from their Chinese labels, each cell read
by its field type, validation rules, the two duplicate rules (credit code blocks, name warns)
checked against stored records and the file, roll-up columns, history and events, 500 rows per
transaction with the import's progress mark. The baseline reads the same file with ``csv`` and
inserts the same values with Core executemany into a table of the same shape. Goal: >= 0.3x the
raw rows/s. ``--smoke`` runs a few hundred rows (CI proves the script runs; figures mean nothing).
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from databases import backends, database

import templates_library
from engine import SYSTEM, Platform, Settings
from engine.apps.metadata_store import import_app
from engine.records import import_jobs
from engine.schema.compiler import build_table
from form_engine import uscc_check_character

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
INDUSTRIES = ["制造业", "信息技术", "金融", "零售", "医疗健康", "教育", "能源", "物流"]
GRADES = ["A", "B", "C", "D"]


def make_csv(n: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["客户名称", "统一社会信用代码", "行业", "客户等级", "电话", "备注"])
    for i in range(n):
        # 91: a company; 310101-310199: a district code of Shanghai; then the organisation code
        first17 = f"913101{i % 100:02d}" + "".join(rng.choice(ALPHABET) for _ in range(9))
        uscc = first17 + uscc_check_character(first17)
        writer.writerow(
            [
                f"测试客户{i:06d}有限公司",
                uscc,
                rng.choice(INDUSTRIES),
                rng.choice(GRADES),
                f"138{i:08d}",
                "从旧系统导入",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def raw_insert(platform: Platform, table: sa.Table, content: bytes) -> float:
    """What a hand-written importer without rules does: csv rows -> dicts -> executemany."""
    account = templates_library.load("crm")["entities"][1]
    industry = next(f for f in account["fields"] if f["name"] == "industry")
    industries = {o["label"]["zh"]: o["value"] for o in industry["options"]}
    start = time.perf_counter()
    reader = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    next(reader)
    now = datetime.now(UTC)
    system = {"created_at": now, "updated_at": now, "created_by": None, "updated_by": None}
    system["owner"] = None
    rows = [
        {"name": n, "uscc": u, "industry": industries[i], "grade": g, "phone": "+86" + p, "description": d,
         "type": "prospect", "status": "active", "version": 1, **system}
        for n, u, i, g, p, d in reader
    ]  # fmt: skip
    with platform.db.begin() as conn:
        for at in range(0, len(rows), 10_000):
            conn.execute(table.insert(), rows[at : at + 10_000])
    return time.perf_counter() - start


def run(kind: str, n: int) -> None:
    content = make_csv(n)
    with database(kind) as url, tempfile.TemporaryDirectory() as data_dir:
        platform = Platform(Settings(database_url=url, data_dir=Path(data_dir)), load_entry_points=False)
        platform.init_database()
        with platform.db.begin() as conn:
            import_app(conn, templates_library.load("crm"), SYSTEM)
        entity = platform.cached_runtime("crm").entity("account").entity
        raw_table = build_table(sa.MetaData(), "raw", entity)
        raw_table.create(platform.db)

        t_raw = raw_insert(platform, raw_table, content)
        start = time.perf_counter()
        import_id = import_jobs.create_import(platform.records, SYSTEM, "crm", "account", content, "a.csv")
        result = import_jobs.run_import(platform.records, SYSTEM, import_id)
        t_import = time.perf_counter() - start
        assert result["tally"]["created"] == n, result
        with platform.db.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(raw_table)).scalar_one()
        assert stored == n
        ours, raw = n / t_import, n / t_raw
        print(
            f"{kind:10} import {n:,} rows   importer {ours:10,.0f} rows/s   raw {raw:10,.0f} rows/s   "
            f"ratio {ours / raw:.2f}  goal >= 0.3"
        )
        platform.close()


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "all"], default="all")
    parser.add_argument("--smoke", action="store_true", help="a few hundred rows")
    args = parser.parse_args()
    for kind in backends(args.backend):
        run(kind, 300 if args.smoke else args.rows)


if __name__ == "__main__":
    main()
