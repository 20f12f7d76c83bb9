"""Administration of the durable jobs: what is pending, what is dead, and trying a dead one again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from engine.clock import utcnow
from engine.identity import audit
from engine.records import job_queue
from engine.records.job_queue import JobStatus

from .deps import AdminDep, IdPath, PlatformDep

router = APIRouter(tags=["jobs"])


@router.get("/api/jobs")
def list_jobs(
    ctx: AdminDep,
    platform: PlatformDep,
    status: JobStatus | None = None,
    kind: Annotated[str | None, Query(max_length=job_queue.MAX_KIND)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Jobs, newest first; ``?status=dead`` is the dead-letter list."""
    with platform.db.connect() as conn:
        items, total = job_queue.list_jobs(conn, status=status, kind=kind, limit=limit, offset=offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/api/jobs/{job_id}")
def get_job(job_id: IdPath, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    with platform.db.connect() as conn:
        return job_queue.get_job(conn, job_id)


@router.post("/api/jobs/{job_id}/retry")
def retry_job(job_id: IdPath, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """A dead job gets a fresh set of attempts, due now (409 for a job that is not dead)."""
    with platform.db.begin() as conn:
        job = job_queue.retry(conn, job_id, utcnow())
        audit.record(conn, "job_retried", ctx=ctx, target=f"job:{job_id}", details={"kind": job["kind"]})
    return job
