"""The durable job runner: claims due jobs from ``tg_jobs`` and runs each exactly once.

Handlers come from the ``tangram_jobs`` hook as ``{kind: handler(call)}``. A handler's writes
on ``call.conn`` and the mark that its job is done commit in one transaction, so a job's effect
on the database happens once however many runners there are and wherever one dies:

- PostgreSQL: the runner locks due rows ``FOR UPDATE SKIP LOCKED`` in that very transaction, so
  other runners skip them, and a runner that dies takes its uncommitted work and its locks with it.
- SQLite: the one writer makes a claim exclusive; a claim is a lease (``running``, by whom, since
  when) committed at once, and the handler's transaction begins only when it first touches
  ``call.conn``, so a handler that opens transactions of its own does not wait on the job's. A
  runner that died leaves the lease, which expires after ``job_lease_seconds``; a runner whose
  lease was taken over finds that out at the end and rolls back.

A handler that raises is rolled back (to its savepoint) and tried again after an exponential
backoff, then marked ``dead`` for an admin to see and retry. What a handler does outside the
database (an e-mail, an HTTP call) happens at least once: give it an idempotency key.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.clock import utcnow
from engine.records import after_commit, job_queue
from engine.records.job_queue import ClaimedJob, RetryPolicy

if TYPE_CHECKING:
    from engine.host.platform import Platform

log = logging.getLogger("tangram.jobs")

JobHandler = Callable[["JobCall"], None]
Clock = Callable[[], datetime]


class JobCall:
    """What a job handler gets: the platform, the job's payload and attempt number, and
    ``conn``, the job's own transaction. Write through ``conn`` (record writes with
    ``platform.records.write(ctx, app, work, conn=call.conn)``): those writes commit together
    with the job's completion, or not at all."""

    def __init__(
        self,
        platform: Platform,
        job: ClaimedJob,
        open_conn: Callable[[], sa.Connection],
        now: datetime,
    ) -> None:
        self.platform = platform
        self.job_id = job.id
        self.kind = job.kind
        self.payload = job.payload
        self.attempt = job.attempt
        #: the runner's clock when the job was claimed (a test's clock in tests)
        self.now = now
        self._open_conn = open_conn

    @property
    def conn(self) -> sa.Connection:
        return self._open_conn()


def job_handlers(platform: Platform) -> dict[str, JobHandler]:
    """Every plugin's job kinds; two plugins claiming one kind is a programming error."""
    found: dict[str, JobHandler] = {}
    for provided in platform.plugins.hook.tangram_jobs(platform=platform):
        for kind, handler in (provided or {}).items():
            if kind in found and found[kind] is not handler:
                raise ValueError(f"job kind {kind!r} is provided by two plugins")
            found[kind] = handler
    return found


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


class JobRunner:
    """Runs due jobs of the kinds this process has handlers for; see the module docstring.
    Any number of runners may share a database (threads, processes, machines)."""

    def __init__(
        self,
        platform: Platform,
        *,
        clock: Clock = utcnow,
        worker: str | None = None,
        handlers: dict[str, JobHandler] | None = None,
    ) -> None:
        settings = platform.settings
        self.platform = platform
        self.db = platform.db
        self.clock = clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.handlers = job_handlers(platform) if handlers is None else handlers
        self.policy = RetryPolicy(
            settings.job_max_attempts, settings.job_backoff_seconds, settings.job_backoff_max_seconds
        )
        self.batch_size = settings.job_batch_size
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self._locking = self.db.dialect.name == "postgresql"

    def run_pending(self, *, limit: int | None = None) -> int:
        """Run due jobs until none is left (or ``limit`` ran); how many ran, failures included."""
        ran = 0
        while limit is None or ran < limit:
            batch = self.run_batch(self.batch_size if limit is None else min(self.batch_size, limit - ran))
            if batch == 0:
                break
            ran += batch
        return ran

    def run_batch(self, size: int | None = None) -> int:
        """Claim up to ``size`` due jobs and run them; how many were claimed."""
        if not self.handlers:
            return 0
        size = size or self.batch_size
        return self._run_locked(size) if self._locking else self._run_leased(size)

    def next_due(self) -> datetime | None:
        if not self.handlers:
            return None
        with self.db.connect() as conn:
            return job_queue.next_due(conn, self.handlers)

    def run_forever(self, stop: threading.Event, poll_seconds: float) -> int:
        """Run due jobs, then sleep until the next one is due (at most ``poll_seconds``, since
        other processes enqueue too) until ``stop`` is set; how many jobs ran."""
        ran = 0
        while not stop.is_set():
            try:
                ran += self.run_pending()
                wait = poll_seconds
                due = self.next_due()
                if due is not None:
                    wait = max(0.0, min(wait, (due - self.clock()).total_seconds()))
            except sa.exc.SQLAlchemyError:
                log.exception("job runner %s: database error; trying again", self.worker)
                wait = poll_seconds
            stop.wait(wait)
        return ran

    # -- PostgreSQL: the claim is the job transaction's row lock ---------------------------------
    def _run_locked(self, size: int) -> int:
        now = self.clock()
        with after_commit.transaction(self.db) as conn:
            claimed = job_queue.claim_locked(conn, self.handlers, now, size)
            queued = after_commit.callbacks(conn)
            done: list[int] = []
            for job in claimed:
                mark = len(queued)
                call = JobCall(self.platform, job, lambda: conn, now)
                try:
                    with conn.begin_nested():
                        self.handlers[job.kind](call)
                except Exception as exc:
                    del queued[mark:]  # the events of writes its savepoint undid
                    self._failed(conn, job, exc, None)
                else:
                    done.append(job.id)
            job_queue.finish_locked(conn, done, self.clock())
        return len(claimed)

    # -- SQLite: a leased claim, then the job's own transaction --------------------------------
    def _run_leased(self, size: int) -> int:
        now = self.clock()
        with self.db.begin() as conn:
            claimed = job_queue.claim_leased(conn, self.handlers, now, size, self.worker, self.lease)
        for job in claimed:
            self._run_one_leased(job, now)
        return len(claimed)

    def _run_one_leased(self, job: ClaimedJob, now: datetime) -> None:
        with self.db.connect() as conn:
            try:
                self._lease_run(conn, job, now)
            finally:
                after_commit.discard(conn)

    def _lease_run(self, conn: sa.Connection, job: ClaimedJob, now: datetime) -> None:
        def open_conn() -> sa.Connection:
            if not conn.in_transaction():
                after_commit.begin(conn)
            return conn

        try:
            self.handlers[job.kind](JobCall(self.platform, job, open_conn, now))
        except Exception as exc:
            if conn.in_transaction():
                after_commit.rollback(conn)
            with conn.begin():
                self._failed(conn, job, exc, self.worker)
            return
        open_conn()
        if job_queue.finish(conn, job, self.clock(), worker=self.worker):
            after_commit.commit(conn)
        else:
            log.warning("job %s: lease of %s expired and was taken over; rolled back", job.id, self.worker)
            after_commit.rollback(conn)

    def _failed(self, conn: sa.Connection, job: ClaimedJob, exc: Exception, worker: str | None) -> None:
        status = job_queue.fail(conn, job, self.clock(), _error_text(exc), self.policy, worker=worker)
        level = logging.ERROR if status == "dead" else logging.WARNING
        log.log(level, "job %s (%s) attempt %s failed, now %s", job.id, job.kind, job.attempt, status,
                exc_info=exc)  # fmt: skip


class JobScheduler:
    """``tangram serve``'s in-process runner: an APScheduler 3 ``BackgroundScheduler`` used only
    as an alarm clock. It wakes a :class:`JobRunner` every ``poll_seconds`` and when the next
    job is due; what is due, and whether it ran, is in the table, so a restart loses nothing
    and several servers (and workers) share the work."""

    def __init__(self, runner: JobRunner, poll_seconds: float) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]

        self.runner = runner
        self.poll_seconds = poll_seconds
        self._scheduler: Any = BackgroundScheduler(timezone="UTC")
        self._lock = threading.Lock()

    def start(self) -> None:
        self._scheduler.add_job(
            self.wake,
            "interval",
            seconds=self.poll_seconds,
            id="tangram.jobs.poll",
            next_run_time=utcnow(),  # jobs that came due while the server was down run at once
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()

    def wake(self) -> None:
        """Run what is due, then set an alarm for the next due job."""
        if not self._lock.acquire(blocking=False):
            return  # the other alarm is running them
        try:
            self.runner.run_pending()
            due = self.runner.next_due()
        except Exception:
            log.exception("in-process job runner failed; the next wake-up tries again")
            return
        finally:
            self._lock.release()
        if due is not None and due - utcnow() < timedelta(seconds=self.poll_seconds):
            self._scheduler.add_job(
                self.wake, "date", run_date=max(due, utcnow()), id="tangram.jobs.next", replace_existing=True
            )

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
