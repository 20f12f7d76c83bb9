"""The durable job table (``tg_jobs``): enqueue in the caller's transaction, claim, finish,
fail with backoff, dead-letter, retry.

A job is a row. Enqueuing it in the same transaction as the change that calls for it (a timer
set by a flow step, a delivery promised by a notification) means the two commit or vanish
together. The runner (``engine.host.jobs``) decides when to call what; this module is its SQL.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.clock import iso, utcnow
from engine.errors import Conflict, InvalidInput, NotFound
from engine.schema.system_tables import jobs

JobStatus = Literal["pending", "running", "done", "dead"]
STATUSES: tuple[JobStatus, ...] = ("pending", "running", "done", "dead")
MAX_KIND, MAX_KEY = 100, 200


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing job is tried, and how long it waits in between: ``backoff_seconds``
    after the first failure, doubling each time, never more than ``backoff_max_seconds``."""

    max_attempts: int = 8
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        return timedelta(seconds=min(self.backoff_max_seconds, self.backoff_seconds * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    #: this run's number, 1 for the first
    attempt: int


def enqueue_job(
    conn: sa.Connection,
    kind: str,
    payload: Mapping[str, Any],
    *,
    run_at: datetime | None = None,
    key: str | None = None,
) -> int | None:
    """Insert a job in ``conn``'s transaction and return its id. With ``key``, at most one job
    per key ever exists: a second enqueue (in any transaction, done or not) does nothing and
    returns None, without disturbing the caller's transaction."""
    if not isinstance(kind, str) or not 0 < len(kind) <= MAX_KIND:
        raise InvalidInput("job_kind_invalid", max=MAX_KIND)
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= MAX_KEY):
        raise InvalidInput("job_key_invalid", max=MAX_KEY)
    try:
        body = json.loads(json.dumps(dict(payload)))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("job_payload_invalid", detail=str(exc)) from None
    now = utcnow()
    values = {
        "kind": kind,
        "payload": body,
        "key": key,
        "run_at": run_at or now,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
    }
    if key is None:
        return int(conn.execute(jobs.insert().values(values).returning(jobs.c.id)).scalar_one())
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(jobs).values(values).on_conflict_do_nothing(index_elements=["key"])
    found = conn.execute(statement.returning(jobs.c.id)).scalar()
    return None if found is None else int(found)


def _due(kinds: Collection[str], now: datetime) -> list[sa.ColumnElement[bool]]:
    return [jobs.c.status == "pending", jobs.c.run_at <= now, jobs.c.kind.in_(sorted(kinds))]


def claim_locked(conn: sa.Connection, kinds: Collection[str], now: datetime, limit: int) -> list[ClaimedJob]:
    """Due jobs locked for this transaction (PostgreSQL): ``FOR UPDATE SKIP LOCKED``, so
    concurrent workers each get other rows, and a worker that dies releases its rows with its
    transaction, nothing of its run committed."""
    rows = conn.execute(
        sa.select(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts)
        .where(*_due(kinds, now))
        .order_by(jobs.c.run_at, jobs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    return [ClaimedJob(r.id, r.kind, r.payload, r.attempts + 1) for r in rows]


def claim_leased(
    conn: sa.Connection, kinds: Collection[str], now: datetime, limit: int, worker: str, lease: timedelta
) -> list[ClaimedJob]:
    """Due jobs marked ``running`` by ``worker`` (SQLite, whose one writer makes this claim
    exclusive). A job whose worker died while running it is due again once its lease expired;
    the attempt is counted at the claim, so a job that kills its worker cannot loop forever."""
    expired = sa.and_(jobs.c.status == "running", jobs.c.locked_at <= now - lease, jobs.c.kind.in_(kinds))
    rows = conn.execute(
        sa.select(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts)
        .where(sa.or_(sa.and_(*_due(kinds, now)), expired))
        .order_by(jobs.c.run_at, jobs.c.id)
        .limit(limit)
    ).all()
    claimed = [ClaimedJob(r.id, r.kind, r.payload, r.attempts + 1) for r in rows]
    for job in claimed:
        conn.execute(
            jobs.update()
            .where(jobs.c.id == job.id)
            .values(status="running", locked_by=worker, locked_at=now, attempts=job.attempt)
        )
    return claimed


def _mine(job_id: int, worker: str | None) -> list[sa.ColumnElement[bool]]:
    """The row as long as it is still this worker's (a leased claim may have expired)."""
    if worker is None:
        return [jobs.c.id == job_id]
    return [jobs.c.id == job_id, jobs.c.status == "running", jobs.c.locked_by == worker]


def finish(conn: sa.Connection, job: ClaimedJob, now: datetime, *, worker: str | None = None) -> bool:
    """Mark the job done in the transaction that holds its handler's writes; False when a
    leased job is no longer this worker's (then the caller rolls back)."""
    result = conn.execute(
        jobs.update()
        .where(*_mine(job.id, worker))
        .values(status="done", attempts=job.attempt, finished_at=now, locked_by=None, locked_at=None)
    )
    return result.rowcount == 1


def finish_locked(conn: sa.Connection, ids: Sequence[int], now: datetime) -> None:
    """Mark jobs claimed with :func:`claim_locked` done, in one statement for the batch."""
    if ids:
        conn.execute(
            jobs.update()
            .where(jobs.c.id.in_(ids))
            .values(status="done", attempts=jobs.c.attempts + 1, finished_at=now)
        )


def fail(
    conn: sa.Connection,
    job: ClaimedJob,
    now: datetime,
    error: str,
    policy: RetryPolicy,
    *,
    worker: str | None = None,
) -> JobStatus:
    """Record a failed attempt: pending again after the backoff, or dead after the last one."""
    dead = job.attempt >= policy.max_attempts
    values: dict[str, Any] = {
        "attempts": job.attempt,
        "last_error": error[:4000],
        "locked_by": None,
        "locked_at": None,
    }
    if dead:
        values.update(status="dead", finished_at=now)
    else:
        values.update(status="pending", run_at=now + policy.delay(job.attempt))
    conn.execute(jobs.update().where(*_mine(job.id, worker)).values(values))
    return "dead" if dead else "pending"


def next_due(conn: sa.Connection, kinds: Collection[str]) -> datetime | None:
    """When the earliest pending job of these kinds comes due (None: no pending job)."""
    found: datetime | None = conn.execute(
        sa.select(sa.func.min(jobs.c.run_at)).where(jobs.c.status == "pending", jobs.c.kind.in_(kinds))
    ).scalar()
    return found


def job_json(row: sa.RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "key": row["key"],
        "status": row["status"],
        "payload": row["payload"],
        "attempts": row["attempts"],
        "last_error": row["last_error"],
        "run_at": iso(row["run_at"]),
        "created_at": iso(row["created_at"]),
        "finished_at": iso(row["finished_at"]),
    }


def list_jobs(
    conn: sa.Connection,
    *,
    status: JobStatus | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Jobs, newest first, and how many match: the dead-letter list is ``status="dead"``."""
    where: list[sa.ColumnElement[bool]] = []
    if status is not None:
        where.append(jobs.c.status == status)
    if kind is not None:
        where.append(jobs.c.kind == kind)
    total = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(jobs).where(*where).order_by(jobs.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [job_json(r) for r in rows], total


def get_job(conn: sa.Connection, job_id: int) -> dict[str, Any]:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    if row is None:
        raise NotFound("job_not_found", id=job_id)
    return job_json(row)


def retry(conn: sa.Connection, job_id: int, now: datetime) -> dict[str, Any]:
    """Give a dead job a fresh set of attempts, due now; its last error stays for reference."""
    job = get_job(conn, job_id)
    result = conn.execute(
        jobs.update()
        .where(jobs.c.id == job_id, jobs.c.status == "dead")
        .values(status="pending", run_at=now, attempts=0, finished_at=None)
    )
    if result.rowcount != 1:
        raise Conflict("job_not_dead", id=job_id, status=job["status"])
    return get_job(conn, job_id)
