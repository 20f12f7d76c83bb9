"""The durable job runner: each job runs exactly once, with any number of runners, across a
worker killed mid-job, with backoff and a dead-letter list; on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from engine import JobCall, JobRunner, Platform, Settings, enqueue_job
from engine.http import create_app
from engine.schema.system_tables import jobs

from . import job_kinds
from .conftest import ADMIN, USER, running_platform, sign_in

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def job_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"job_max_attempts": 3, "job_backoff_seconds": 10.0, "job_batch_size": 7}
    )


@pytest.fixture
def platform(job_settings: Settings) -> Iterator[Platform]:
    with running_platform(job_settings, [job_kinds]) as platform:
        yield platform


def enqueue(platform: Platform, kind: str, n: int = 1, **options: object) -> list[int]:
    with platform.db.begin() as conn:
        ids = [enqueue_job(conn, kind, {"note": f"n{i}", **options}, run_at=T0) for i in range(n)]
    return [i for i in ids if i is not None]


def statuses(platform: Platform) -> dict[int, tuple[str, int]]:
    with platform.db.connect() as conn:
        return {r.id: (r.status, r.attempts) for r in conn.execute(sa.select(jobs))}


def test_a_key_makes_at_most_one_job_ever(platform: Platform) -> None:
    with platform.db.begin() as conn:
        first = enqueue_job(conn, "test.record", {"note": "a"}, run_at=T0, key="timer:7")
        assert enqueue_job(conn, "test.record", {"note": "b"}, run_at=T0, key="timer:7") is None
        # the duplicate left the caller's transaction usable
        other = enqueue_job(conn, "test.record", {"note": "c"}, run_at=T0, key="timer:8")
    assert first is not None and other is not None
    assert JobRunner(platform, clock=Clock(T0)).run_pending() == 2
    with platform.db.begin() as conn:  # done, and still the only job of its key
        assert enqueue_job(conn, "test.record", {"note": "d"}, key="timer:7") is None
    assert job_kinds.run_counts(platform.db) == {first: 1, other: 1}


def test_a_job_is_enqueued_with_its_callers_transaction_or_not_at_all(platform: Platform) -> None:
    with pytest.raises(ZeroDivisionError), platform.db.begin() as conn:
        enqueue_job(conn, "test.record", {}, key="lost")
        1 / 0  # noqa: B018 - the caller's change fails after it enqueued
    assert statuses(platform) == {}
    with platform.db.begin() as conn:  # the key was never used
        assert enqueue_job(conn, "test.record", {}, key="lost") is not None


def test_due_jobs_run_once_and_later_ones_wait_for_their_time(platform: Platform) -> None:
    clock = Clock(T0 + timedelta(days=3))  # everything was down for three days
    due = enqueue(platform, "test.record", 10)
    with platform.db.begin() as conn:
        later = enqueue_job(conn, "test.record", {}, run_at=clock.now + timedelta(hours=1))
    runner = JobRunner(platform, clock=clock)
    assert runner.run_pending() == 10
    assert runner.run_pending() == 0
    assert runner.next_due() == clock.now + timedelta(hours=1)
    clock.now += timedelta(hours=1)
    assert runner.run_pending() == 1
    assert job_kinds.run_counts(platform.db) == {i: 1 for i in [*due, later]}
    assert set(statuses(platform).values()) == {("done", 1)}


def test_four_runners_in_threads_run_each_job_exactly_once(platform: Platform) -> None:
    ids = enqueue(platform, "test.record", 120)
    start = threading.Barrier(4)
    ran: list[int] = []

    def work(n: int) -> None:
        runner = JobRunner(platform, worker=f"thread-{n}")
        start.wait()
        ran.append(runner.run_pending())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(ran) == 120
    assert job_kinds.run_counts(platform.db) == dict.fromkeys(ids, 1)
    assert set(statuses(platform).values()) == {("done", 1)}


def _worker_env(platform: Platform, **extra: str) -> dict[str, str]:
    settings = platform.settings
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TANGRAM_DATABASE_URL": settings.resolved_database_url(),
        "TANGRAM_DATA_DIR": str(settings.data_dir),
        "TANGRAM_PLUGINS": "tests.engine.job_kinds",
        "TANGRAM_JOB_BATCH_SIZE": "5",
        **extra,
    }


def _worker(platform: Platform, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "tangram"), "worker", *args],
        cwd=ROOT,
        env=_worker_env(platform, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_four_worker_processes_run_each_job_exactly_once(platform: Platform) -> None:
    ids = enqueue(platform, "test.record", 200)
    workers = [_worker(platform, "--once") for _ in range(4)]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, outputs
    ran = [int(line.split()[1]) for out in outputs for line in out.splitlines() if line.startswith("ran ")]
    assert sum(ran) == 200, outputs
    assert job_kinds.run_counts(platform.db) == dict.fromkeys(ids, 1)
    assert set(statuses(platform).values()) == {("done", 1)}


def _wait_for(path: Path, worker: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        assert worker.poll() is None, worker.communicate()[0]
        assert time.monotonic() < deadline, "the worker never claimed the job"
        time.sleep(0.02)


def test_a_worker_killed_mid_job_leaves_it_to_run_exactly_once(platform: Platform, tmp_path: Path) -> None:
    hold, claimed = tmp_path / "hold", tmp_path / "claimed"
    hold.touch()
    [job_id] = enqueue(platform, "test.hold", hold=str(hold), claimed=str(claimed))
    worker = _worker(platform)
    _wait_for(claimed, worker)  # it wrote its row in the job's transaction and is holding
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=60)
    hold.unlink()
    assert job_kinds.run_counts(platform.db) == {}  # the killed run committed nothing
    runner = JobRunner(platform)
    if platform.db.dialect.name == "sqlite":
        # The dead worker's lease holds the job until it expires, then it is due again.
        assert runner.run_pending() == 0
        assert statuses(platform)[job_id] == ("running", 1)
        runner.clock = Clock(datetime.now(UTC) + timedelta(seconds=platform.settings.job_lease_seconds + 1))
    assert runner.run_pending() == 1
    assert job_kinds.run_counts(platform.db) == {job_id: 1}
    assert statuses(platform)[job_id][0] == "done"
    assert runner.run_pending() == 0


def test_a_failing_job_backs_off_exponentially_then_is_dead_until_an_admin_retries(
    platform: Platform, tmp_path: Path
) -> None:
    down = tmp_path / "receiver-down"
    down.touch()
    [job_id] = enqueue(platform, "test.fail_while", file=str(down))
    clock = Clock(T0)
    runner = JobRunner(platform, clock=clock)

    def run_at() -> datetime:
        with platform.db.connect() as conn:
            found: datetime = conn.execute(sa.select(jobs.c.run_at).where(jobs.c.id == job_id)).scalar_one()
            return found

    assert runner.run_pending() == 1
    assert statuses(platform)[job_id] == ("pending", 1)
    assert run_at() == T0 + timedelta(seconds=10)  # the first wait: job_backoff_seconds
    clock.now = T0 + timedelta(seconds=9)
    assert runner.run_pending() == 0
    clock.now = T0 + timedelta(seconds=10)
    assert runner.run_pending() == 1
    assert run_at() == T0 + timedelta(seconds=10 + 20)  # doubled
    clock.now = T0 + timedelta(seconds=30)
    assert runner.run_pending() == 1
    assert statuses(platform)[job_id] == ("dead", 3)  # job_max_attempts
    clock.now = T0 + timedelta(days=1)
    assert runner.run_pending() == 0
    assert job_kinds.run_counts(platform.db) == {}  # each failed attempt's writes were undone

    with TestClient(create_app(platform=platform)) as client:
        client.headers.update(sign_in(client, *ADMIN))
        r = client.get("/api/jobs", params={"status": "dead"})
        assert r.status_code == 200, r.text
        [dead] = r.json()["items"]
        assert dead["id"] == job_id and dead["attempts"] == 3
        assert "ConnectionError: the receiver is down" in dead["last_error"]
        down.unlink()  # someone fixed the receiver
        r = client.post(f"/api/jobs/{job_id}/retry")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "pending" and r.json()["attempts"] == 0
        assert client.post(f"/api/jobs/{job_id}/retry").status_code == 409
    runner.clock = Clock(datetime.now(UTC))
    assert runner.run_pending() == 1
    assert statuses(platform)[job_id] == ("done", 1)
    assert job_kinds.run_counts(platform.db) == {job_id: 1}


def test_one_failing_job_in_a_batch_does_not_undo_the_others(platform: Platform, tmp_path: Path) -> None:
    down = tmp_path / "down"
    down.touch()
    good = enqueue(platform, "test.record", 3)
    [bad] = enqueue(platform, "test.fail_while", file=str(down))
    more = enqueue(platform, "test.record", 3)
    assert JobRunner(platform, clock=Clock(T0)).run_pending() == 7
    assert job_kinds.run_counts(platform.db) == dict.fromkeys([*good, *more], 1)
    assert statuses(platform)[bad] == ("pending", 1)


def test_job_admin_routes_are_for_admins_and_answer_in_the_error_shape(platform: Platform) -> None:
    [job_id] = enqueue(platform, "test.record")
    with TestClient(create_app(platform=platform)) as client:
        user = sign_in(client, *USER)
        assert client.get("/api/jobs", headers=user).status_code == 403
        client.headers.update(sign_in(client, *ADMIN))
        r = client.get("/api/jobs", params={"status": "pending", "kind": "test.record"})
        assert r.status_code == 200 and r.json()["total"] == 1, r.text
        assert client.get("/api/jobs", params={"status": "sleeping"}).status_code == 422
        r = client.post(f"/api/jobs/{job_id}/retry", headers={"Accept-Language": "zh-CN"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
        assert "dead" in r.json()["error"]["message"]
        r = client.get("/api/jobs/999999")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_serve_runs_due_jobs_in_process_with_its_scheduler(platform: Platform) -> None:
    ids = enqueue(platform, "test.record", 3)
    fast = Platform(
        platform.settings.model_copy(update={"job_poll_seconds": 0.05}),
        load_entry_points=False,
        plugins=[job_kinds],
    )
    with TestClient(create_app(platform=fast, run_jobs=True)):
        deadline = time.monotonic() + 60
        while job_kinds.run_counts(platform.db) != dict.fromkeys(ids, 1):
            assert time.monotonic() < deadline, statuses(platform)
            time.sleep(0.02)
    assert set(statuses(platform).values()) == {("done", 1)}


def test_a_runner_whose_claim_was_taken_over_keeps_nothing_of_its_run(platform: Platform) -> None:
    """A runner so slow that its claim looks abandoned: on SQLite its lease expires and another
    runner runs the job, so the slow one rolls back at the end; on PostgreSQL its row lock makes
    the other skip the job. Either way the job's writes happen once."""
    [job_id] = enqueue(platform, "test.slow")
    later = Clock(datetime.now(UTC) + timedelta(seconds=platform.settings.job_lease_seconds + 1))
    other_ran: list[int] = []

    def slow(call: JobCall) -> None:
        if not other_ran:  # meanwhile, another runner looks at the job
            other = JobRunner(platform, clock=later, worker="other", handlers={"test.slow": job_kinds.record})
            other_ran.append(other.run_pending())
        job_kinds.record(call)

    JobRunner(platform, worker="slow", handlers={"test.slow": slow}).run_pending()
    leased = platform.db.dialect.name == "sqlite"
    assert other_ran == [1 if leased else 0]
    assert job_kinds.run_counts(platform.db) == {job_id: 1}
    assert statuses(platform)[job_id] == ("done", 2 if leased else 1)  # two claims on SQLite
