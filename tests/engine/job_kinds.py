"""Job kinds for the job runner's tests, as a plugin module: registered in-process with
``Platform(plugins=[job_kinds])`` and in ``tangram worker`` processes with
``TANGRAM_PLUGINS=tests.engine.job_kinds``.

Each run of a job writes one row to ``test_job_runs`` through ``call.conn``, so a count of rows
per job is what actually committed: exactly-once shows as one row per job.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engine import JobCall, Platform, hookimpl

metadata = sa.MetaData()
runs = sa.Table(
    "test_job_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.BigInteger, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("note", sa.String(100)),
)


def _ran(call: JobCall) -> None:
    call.conn.execute(
        runs.insert().values(job_id=call.job_id, attempt=call.attempt, note=call.payload.get("note"))
    )


def record(call: JobCall) -> None:
    """Writes its row; nothing else."""
    _ran(call)


def fail_while(call: JobCall) -> None:
    """Writes its row, then fails while the file ``payload["file"]`` exists (a receiver that is
    down until someone fixes it); the row goes with the failed attempt."""
    _ran(call)
    if Path(call.payload["file"]).exists():
        raise ConnectionError("the receiver is down")


def hold(call: JobCall) -> None:
    """Writes its row, says so in ``payload["claimed"]``, then waits while ``payload["hold"]``
    exists: a worker to kill between claiming a job and finishing it."""
    _ran(call)
    Path(call.payload["claimed"]).touch()
    while Path(call.payload["hold"]).exists():
        time.sleep(0.02)


@hookimpl
def tangram_startup(platform: Platform) -> None:
    metadata.create_all(platform.db)


@hookimpl
def tangram_jobs(platform: Platform) -> dict[str, Any]:
    return {"test.record": record, "test.fail_while": fail_while, "test.hold": hold}


def run_counts(db: sa.Engine) -> dict[int, int]:
    """Committed runs per job id."""
    with db.connect() as conn:
        rows = conn.execute(sa.select(runs.c.job_id, sa.func.count()).group_by(runs.c.job_id))
        return {job_id: n for job_id, n in rows}
