"""The timer job kind bench/jobs.py fires, as a plugin module (``TANGRAM_PLUGINS=job_timers``
with bench/ on the path): each firing writes one row through the job's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from engine import JobCall, Platform, hookimpl

KIND = "bench.timer"
metadata = sa.MetaData()
fired = sa.Table(
    "bench_fired",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job_id", sa.BigInteger, nullable=False),
    sa.Column("timer", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)


def fire(call: JobCall) -> None:
    call.conn.execute(
        fired.insert().values(
            job_id=call.job_id, timer=call.payload["timer"], at=datetime.now(UTC).replace(tzinfo=None)
        )
    )


@hookimpl
def tangram_startup(platform: Platform) -> None:
    metadata.create_all(platform.db)


@hookimpl
def tangram_jobs(platform: Platform) -> dict[str, Any]:
    return {KIND: fire}
