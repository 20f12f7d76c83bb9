"""Each flow job kind does its work in the job's own transaction: a handler that fails after
its record write leaves neither the write nor the job's completion, and the retry does both,
once. (The delivery jobs only read before they send; theirs is the idempotency key.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

import flow_engine
from engine import JobCall, JobRunner
from engine.schema.system_tables import jobs as kernel_jobs
from tests.flow_engine.conftest import World

L = {"zh": "流程", "en": "Flow"}
#: The record each flow below writes: one opportunity, titled after the record it ran on.
MAKE = {
    "id": "make",
    "type": "action",
    "actions": [{"type": "create_record", "entity": "opportunity", "values": {"title": {"field": "title"}}}],
    "next": "end",
}
END = {"id": "end", "type": "end"}


class CrashAfterWork(Exception):
    """What the wrapped handler raises once its real work is done (a crash before the commit)."""


def _crashing(handler: Callable[[JobCall], None], crashes: list[int]) -> Callable[[JobCall], None]:
    """``handler``, failing after its work on its first attempt."""

    def run(call: JobCall) -> None:
        handler(call)
        if call.attempt == 1:
            crashes.append(call.job_id)
            raise CrashAfterWork("after the write, before the commit")

    return run


def _jobs(world: World, kind: str) -> list[dict[str, Any]]:
    j = kernel_jobs
    with world.platform.db.connect() as conn:
        query = sa.select(j).where(j.c.kind == kind).order_by(j.c.id)
        return [dict(r) for r in conn.execute(query).mappings()]


def _opportunities(world: World) -> list[str]:
    items = world.platform.records.list_records(world.ctx("admin"), "crm", "opportunity").items
    return [r["title"] for r in items]


def _run(world: World, kind: str, crashes: list[int]) -> int:
    handler = flow_engine.job_handlers(world.platform)[kind]
    runner = JobRunner(
        world.platform, clock=lambda: world.clock.now, handlers={kind: _crashing(handler, crashes)}
    )
    return runner.run_pending()


def _crash_then_retry(world: World, kind: str, title: str) -> None:
    """Run the due job of ``kind``: its first attempt crashes after its write, which must leave
    nothing; the retry (after the backoff) writes once and completes the job."""
    crashes: list[int] = []
    assert _run(world, kind, crashes) >= 1
    assert len(crashes) == 1
    assert _opportunities(world) == []  # the write rolled back with the job
    [job] = [j for j in _jobs(world, kind) if j["id"] == crashes[0]]
    assert (job["status"], job["attempts"]) == ("pending", 1)

    world.clock.advance(hours=2)  # past the backoff
    _run(world, kind, crashes)
    assert _opportunities(world) == [title]
    [job] = [j for j in _jobs(world, kind) if j["id"] == crashes[0]]
    assert (job["status"], job["attempts"]) == ("done", 2)
    assert len(crashes) == 1
    assert _run(world, kind, crashes) == 0  # nothing left: done once
    assert _opportunities(world) == [title]


def test_a_start_job_that_fails_after_its_write_leaves_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.put_flows(
        {
            "name": "on_contract",
            "label": L,
            "entity": "contract",
            "trigger": {"type": "record", "on": ["created"]},
            "nodes": [{"id": "start", "type": "start", "next": "make"}, MAKE, END],
        }
    )
    runner = flow_engine.runner_of(world.platform)
    # the writing process dies right after its commit: only the start job runs the flow
    monkeypatch.setattr(runner.triggers, "kick", lambda event: None)
    contract = world.create("contract", {"title": "开工合同"})
    monkeypatch.undo()
    [instance] = world.instances("contract", contract["id"])
    assert instance["status"] == "starting"

    _crash_then_retry(world, "flow.advance", "开工合同")
    [instance] = world.instances("contract", contract["id"])
    assert instance["status"] == "done"


def test_a_timer_job_that_fails_after_its_write_leaves_nothing(world: World) -> None:
    world.put_flows(
        {
            "name": "later",
            "label": L,
            "entity": "contract",
            "trigger": {"type": "manual"},
            "nodes": [
                {"id": "start", "type": "start", "next": "wait"},
                {"id": "wait", "type": "wait", "for": {"hours": 4}, "next": "make"},
                MAKE,
                END,
            ],
        }
    )
    contract = world.create("contract", {"title": "等待的合同"})
    instance = world.service.start(world.ctx("owner"), "crm", "contract", contract["id"], "later")
    world.clock.advance(hours=5)

    _crash_then_retry(world, "flow.timer", "等待的合同")
    view = world.service.instance(world.ctx("admin"), instance["id"])
    assert view["status"] == "done"
    assert [s["action"] for s in view["steps"]].count("timer") == 1


def test_a_date_job_that_fails_after_its_write_leaves_nothing(world: World) -> None:
    world.put_flows(
        {
            "name": "on_the_day",
            "label": L,
            "entity": "opportunity",
            "trigger": {"type": "date", "field": "last_follow_up", "offset": {"days": 3}},
            "nodes": [
                {"id": "start", "type": "start", "next": "make"},
                {
                    "id": "make",
                    "type": "action",
                    "actions": [{"type": "set_fields", "values": {"next_step": "回访"}}],
                    "next": "end",
                },
                END,
            ],
        }
    )
    day = world.clock.now.date()
    opportunity = world.create("opportunity", {"title": "待回访", "last_follow_up": day.isoformat()})
    world.clock.advance(days=4)
    crashes: list[int] = []
    assert _run(world, "flow.date", crashes) == 1
    assert len(crashes) == 1
    assert world.get("opportunity", opportunity["id"])["next_step"] is None  # rolled back
    assert world.instances("opportunity", opportunity["id"]) == []  # the start too
    [job] = _jobs(world, "flow.date")
    assert (job["status"], job["attempts"]) == ("pending", 1)

    world.clock.advance(hours=2)
    assert _run(world, "flow.date", crashes) == 1
    assert world.get("opportunity", opportunity["id"])["next_step"] == "回访"
    [instance] = world.instances("opportunity", opportunity["id"])
    assert instance["status"] == "done"
    [job] = _jobs(world, "flow.date")
    assert (job["status"], job["attempts"]) == ("done", 2)
    assert _run(world, "flow.date", crashes) == 0


def test_a_schedule_job_that_fails_after_its_write_leaves_nothing(world: World) -> None:
    world.create("contract", {"title": "按时合同", "status": "草稿"})
    world.clock.now = datetime(2024, 9, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 Beijing
    world.put_flows(
        {
            "name": "nightly",
            "label": L,
            "entity": "contract",
            "trigger": {"type": "schedule", "cron": "0 9 * * *", "timezone": "Asia/Shanghai"},
            "nodes": [{"id": "start", "type": "start", "next": "make"}, MAKE, END],
        }
    )
    world.clock.now = datetime(2024, 9, 28, 1, 0, tzinfo=UTC) + timedelta(minutes=30)  # Sat 09:30
    crashes: list[int] = []
    assert _run(world, "flow.cron", crashes) == 1
    assert len(crashes) == 1
    assert _opportunities(world) == []
    [job] = _jobs(world, "flow.cron")  # and the next firing was not scheduled either
    assert (job["status"], job["attempts"]) == ("pending", 1)

    world.clock.advance(hours=2)  # Sat 11:30: the firing of 09:00 runs, the next is Sunday's
    _run(world, "flow.cron", crashes)
    assert _opportunities(world) == ["按时合同"]
    first, following = _jobs(world, "flow.cron")
    assert (first["status"], first["attempts"]) == ("done", 2)
    assert (following["status"], following["attempts"]) == ("pending", 0)
    assert _run(world, "flow.cron", crashes) == 0
    assert _opportunities(world) == ["按时合同"]
