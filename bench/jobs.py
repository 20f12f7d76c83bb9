"""Timers fired by `tangram worker` processes: throughput with 1 and with 4 workers, and proof
that each timer fired exactly once.

    python bench/jobs.py [--timers 10000] [--backend all|sqlite|postgresql] [--smoke]

Enqueues N due timers (each with its idempotency key) and starts `tangram worker --once`
processes at the same moment; every firing writes one row in the job's own transaction. Prints
timers/s measured between the first and the last firing (process start-up excluded) and wall
clock (start-up included), the speed-up of 4 workers over 1, and a baseline in the same run: the
same claim-write-mark work as hand-written SQL in one process. Then counts: N rows, N distinct
timers, N jobs done — or it fails. On PostgreSQL the workers claim with FOR UPDATE SKIP LOCKED;
on SQLite they take turns on the one writer. ``--smoke`` fires 100 timers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import job_timers
import sqlalchemy as sa
from databases import backends, database

from engine import Platform, Settings, enqueue_job
from engine.schema.system_tables import jobs

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def prepare(url: str, data_dir: str, timers: int) -> Platform:
    platform = Platform(
        Settings(database_url=url, data_dir=Path(data_dir)), load_entry_points=False, plugins=[job_timers]
    )
    platform.init_database()
    due = datetime.now(UTC) - timedelta(minutes=5)
    with platform.db.begin() as conn:
        for i in range(timers):
            enqueue_job(conn, job_timers.KIND, {"timer": i}, run_at=due, key=f"bench-timer:{i}")
    return platform


def run_workers(url: str, data_dir: str, workers: int) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT)]),
        "TANGRAM_DATABASE_URL": url,
        "TANGRAM_DATA_DIR": data_dir,
        "TANGRAM_PLUGINS": "job_timers",
        "TANGRAM_LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        "-c",
        "import sys; from engine.cli import main; sys.exit(main())",
        "worker",
        "--once",
    ]
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            command, env=env, cwd=data_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(workers)
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        if proc.returncode != 0:
            raise RuntimeError(f"worker failed: {out}")
    return time.perf_counter() - started


def verify(platform: Platform, timers: int) -> float:
    """Exactly once, or raise; the seconds between the first and the last firing."""
    with platform.db.connect() as conn:
        f = job_timers.fired
        rows, distinct, first, last = conn.execute(
            sa.select(
                sa.func.count(),
                sa.func.count(sa.distinct(f.c.timer)),
                sa.func.min(f.c.at),
                sa.func.max(f.c.at),
            )
        ).one()
        done = conn.execute(
            sa.select(sa.func.count()).select_from(jobs).where(jobs.c.status == "done")
        ).scalar_one()
    if not rows == distinct == done == timers:
        raise AssertionError(
            f"expected {timers} firings of {timers} timers, {timers} done: {rows}, {distinct}, {done}"
        )
    return max((last - first).total_seconds(), 1e-6)


def raw_baseline(url: str, timers: int, batch: int = 20) -> float:
    """Timers/s of the same work in hand-written SQL, one process: claim a batch, write one row
    per timer, mark them done, commit."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    due = sa.Table(
        "raw_due", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("status", sa.String(10))
    )
    out = sa.Table(
        "raw_fired",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("due_id", sa.Integer),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(due.insert(), [{"id": i + 1, "status": "pending"} for i in range(timers)])
    started = time.perf_counter()
    while True:
        with engine.begin() as conn:
            ids = list(
                conn.execute(
                    sa.select(due.c.id)
                    .where(due.c.status == "pending")
                    .order_by(due.c.id)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                ).scalars()
            )
            if not ids:
                break
            for i in ids:
                conn.execute(out.insert().values(due_id=i))
                conn.execute(due.update().where(due.c.id == i).values(status="done"))
    elapsed = time.perf_counter() - started
    engine.dispose()
    return timers / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--backend", default="all", choices=["all", "sqlite", "postgresql"])
    parser.add_argument("--smoke", action="store_true", help="100 timers: does it still run")
    args = parser.parse_args()
    timers = 100 if args.smoke else args.timers
    for kind in backends(args.backend):
        with database(kind) as url:
            baseline = raw_baseline(url, timers)
        print(f"{kind:<10} raw SQL baseline, 1 process: {baseline:,.0f} timers/s")
        rates: dict[int, float] = {}
        for workers in (1, 4):
            with database(kind) as url, tempfile.TemporaryDirectory() as data_dir:
                platform = prepare(url, data_dir, timers)
                try:
                    wall = run_workers(url, data_dir, workers)
                    span = verify(platform, timers)
                finally:
                    platform.close()
            rates[workers] = timers / span
            print(
                f"{kind:<10} {timers:,} timers, {workers} worker(s): {rates[workers]:,.0f} timers/s "
                f"(wall {wall:.1f} s with start-up), {rates[workers] / baseline:.2f}x raw; "
                f"each fired exactly once"
            )
        print(f"{kind:<10} 4 workers / 1 worker: {rates[4] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
