"""The flow engine's job kinds: deferred starts, timers, date triggers and schedules.

Each handler is a plain function of a job call and does all its work in the job's own
transaction (``call.conn``): the steps it runs, the records they change, the jobs they schedule
and the mark that the job is done commit together, or not at all, so a job's effect happens
exactly once however often it is tried. Each is still safe to run twice (it acts only if the
state it was written for still holds), for a caller without a job behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine import Platform, WriteUnit
from flow_engine import delivery
from flow_engine.cron import cron_trigger
from flow_engine.definitions import Flow, rule_reads
from flow_engine.messages import FlowConflict, FlowInputError, FlowNotFound
from flow_engine.registry import runner_of
from flow_engine.runtime import ADVANCE_JOB, Run, flow_context
from flow_engine.timers import TIMER_JOB, stamp
from flow_engine.triggers import DATE_JOB

CRON_JOB = "flow.cron"
Handler = Callable[[Any], None]


def _advance(call: Any, instances: list[int]) -> None:
    """Run instances on in the job's transaction; one a node refuses is marked failed with the
    reason (committed with the job: a retry would fail the same way)."""
    runner = runner_of(call.platform)
    for instance in instances:
        try:
            runner.advance(instance, conn=call.conn)
        except (FlowInputError, FlowConflict):
            continue


def advance(call: Any) -> None:
    _advance(call, [int(call.payload["instance"])])


def timer(call: Any) -> None:
    payload = call.payload
    runner = runner_of(call.platform)

    def fire(run: Run) -> None:
        state, what, n = int(payload["state"]), payload["what"], int(payload.get("n", 0))
        runner.timers.fire(run, state, what, n, int(payload.get("epoch", 0)))

    try:
        runner.with_instance(int(payload["instance"]), fire, conn=call.conn)
    except FlowNotFound:
        return


def date_reached(call: Any) -> None:
    """A date trigger came due: start the flow if the date is still the one it was set for."""
    p = call.payload
    runner = runner_of(call.platform)

    def start(unit: WriteUnit) -> int | None:
        flow = runner.versions.latest(unit.conn, p["app"], p["flow"])
        er = unit.runtime.entity(flow.entity)
        row = unit.conn.execute(sa.select(er.table).where(er.table.c.id == p["record"])).mappings().first()
        if row is None or row["deleted_at"] is not None:
            return None
        if stamp(row[p["field"]]) != p["value"]:
            return None  # it moved: the job for the new date starts it
        when = flow.trigger.get("when")
        if when and not flow.rule(unit.runtime, when).matches(
            dict(row), now=runner.clock(), **rule_reads(unit, er)
        ):
            return None
        key = f"date:{p['app']}:{p['flow']}:{p['record']}:{p['value']}"
        return runner.create_instance(unit, flow, int(p["record"]), starter=None, cause="date", start_key=key)

    instance = call.platform.records.write(flow_context(p["flow"]), p["app"], start, conn=call.conn)
    if instance is not None:
        _advance(call, [instance])


def next_fire(flow: Flow, after: datetime) -> datetime | None:
    trigger = flow.trigger
    cron = cron_trigger(trigger["cron"], trigger.get("timezone", "Asia/Shanghai"))
    found = cron.get_next_fire_time(None, after + timedelta(seconds=1))  # strictly after
    return found if isinstance(found, datetime) else None


def schedule_next(conn: sa.Connection, flow: Flow, after: datetime) -> None:
    at = next_fire(flow, after)
    if at is not None:
        payload = {"app": flow.app, "flow": flow.name, "version": flow.version, "at": at.isoformat()}
        delivery.enqueue(
            conn, CRON_JOB, payload, run_at=at, key=f"flow-cron:{flow.app}:{flow.name}:{at.isoformat()}"
        )


def cron(call: Any) -> None:
    """A schedule fired: one instance per record matching the filter, then the next firing.
    A schedule of an older version stops when a newer one is published (that one schedules)."""
    p = call.payload
    runner = runner_of(call.platform)
    started: list[int] = []

    def fire(unit: WriteUnit) -> None:
        flow = runner.versions.latest(unit.conn, p["app"], p["flow"])
        if flow.version != p["version"]:
            return
        er = unit.runtime.entity(flow.entity)
        query = sa.select(er.table.c.id).where(er.table.c.deleted_at.is_(None)).order_by(er.table.c.id)
        if flow.trigger.get("filter"):
            from engine import filter_clause

            query = query.where(filter_clause(unit.runtime, er, flow.trigger["filter"], now=runner.clock()))
        for record_id in unit.conn.execute(query).scalars():
            key = f"cron:{p['app']}:{p['flow']}:{p['at']}:{record_id}"
            instance = runner.create_instance(
                unit, flow, record_id, starter=None, cause="schedule", start_key=key
            )
            if instance is not None:
                started.append(instance)
        schedule_next(unit.conn, flow, datetime.fromisoformat(p["at"]))

    call.platform.records.write(flow_context(p["flow"]), p["app"], fire, conn=call.conn)
    _advance(call, started)


def handlers(platform: Platform) -> dict[str, Handler]:
    return {ADVANCE_JOB: advance, TIMER_JOB: timer, DATE_JOB: date_reached, CRON_JOB: cron}
