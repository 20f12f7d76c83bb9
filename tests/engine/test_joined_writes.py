"""A write unit joined to an open transaction: one commit for the record, the caller's other
rows and the jobs they enqueue; events only after that commit, none after a rollback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from engine import (
    SYSTEM,
    InvalidInput,
    JobCall,
    JobRunner,
    Platform,
    RecordEvent,
    WriteUnit,
    enqueue_job,
    hookimpl,
)
from engine.apps.metadata_store import import_app
from engine.schema.system_tables import jobs

from .conftest import sales_app


class WritingJobs:
    """A job kind that creates an account through the job's own transaction."""

    @hookimpl
    def tangram_jobs(self, platform: Platform) -> dict[str, object]:
        def create_account(call: JobCall) -> None:
            call.platform.records.write(
                SYSTEM,
                "sales",
                lambda unit: unit.create(unit.runtime.entity("account"), [{"name": call.payload["name"]}]),
                conn=call.conn,
            )
            if call.payload.get("then_fail"):
                raise RuntimeError("after the write")

        return {"test.create_account": create_account}


@pytest.fixture
def platform(platform: Platform) -> Iterator[Platform]:
    platform.plugins.register(WritingJobs())
    with platform.db.begin() as conn:
        import_app(conn, sales_app(), SYSTEM)
    yield platform


@pytest.fixture
def events(platform: Platform) -> list[RecordEvent]:
    seen: list[RecordEvent] = []
    platform.events.subscribe(seen.append)
    return seen


def names(platform: Platform) -> list[str]:
    with platform.db.connect() as conn:
        er = platform.runtime(conn, "sales").entity("account")
        return list(conn.execute(sa.select(er.table.c.name).order_by(er.table.c.id)).scalars())


def create(name: str) -> Callable[[WriteUnit], list[dict[str, Any]]]:
    return lambda unit: unit.create(unit.runtime.entity("account"), [{"name": name or None}])


def test_events_of_a_joined_write_wait_for_the_outer_commit(
    platform: Platform, events: list[RecordEvent]
) -> None:
    with platform.transaction() as conn:
        platform.records.write(SYSTEM, "sales", create("华为"), conn=conn)
        platform.records.write(SYSTEM, "sales", create("腾讯"), conn=conn)
        enqueue_job(conn, "test.create_account", {"name": "阿里"})
        assert events == []  # nothing is published before the commit
    assert [e.record["name"] for e in events] == ["华为", "腾讯"]
    assert names(platform) == ["华为", "腾讯"]


def test_a_rolled_back_outer_transaction_keeps_nothing_and_publishes_nothing(
    platform: Platform, events: list[RecordEvent]
) -> None:
    with pytest.raises(LookupError), platform.transaction() as conn:
        platform.records.write(SYSTEM, "sales", create("华为"), conn=conn)
        enqueue_job(conn, "test.create_account", {"name": "阿里"})
        raise LookupError("the caller changes its mind")
    assert events == [] and names(platform) == []
    with platform.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one() == 0


def test_a_refused_joined_write_leaves_the_outer_transaction_usable(
    platform: Platform, events: list[RecordEvent]
) -> None:
    with platform.transaction() as conn:
        with pytest.raises(InvalidInput):  # an account needs a name
            platform.records.write(SYSTEM, "sales", create(""), conn=conn)
        platform.records.write(SYSTEM, "sales", create("华为"), conn=conn)
    assert names(platform) == ["华为"] and [e.record["name"] for e in events] == ["华为"]


def test_a_transaction_nobody_publishes_for_is_refused(platform: Platform) -> None:
    with platform.db.begin() as conn, pytest.raises(RuntimeError, match=r"platform\.transaction"):
        platform.records.write(SYSTEM, "sales", create("华为"), conn=conn)


def test_a_job_writes_records_in_its_own_transaction_exactly_once(
    platform: Platform, events: list[RecordEvent]
) -> None:
    with platform.db.begin() as conn:
        enqueue_job(conn, "test.create_account", {"name": "华为"})
        enqueue_job(conn, "test.create_account", {"name": "腾讯", "then_fail": True})
    runner = JobRunner(platform)
    assert runner.run_pending() == 2
    # the failing job's record went with its attempt, and so did its event
    assert names(platform) == ["华为"]
    assert [e.record["name"] for e in events] == ["华为"]
