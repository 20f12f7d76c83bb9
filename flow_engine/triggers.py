"""What record changes start, wake and lock — decided inside the change's own transaction.

``before_commit`` looks at the write's events: a record trigger that matches creates the
instance (status ``starting``) and the job that starts it; a date trigger schedules its timer
job for the new date (and cancels instances waiting on the old one: "unless it moved"); an
instance waiting until a rule holds gets a job to look again. All of it commits with the
change or not at all, so a process killed right after the commit still starts the flow — once.
After the commit the same process runs those starts at once (``kick``); the jobs find them done.

``RecordLock`` refuses edits of a record while an approval of it runs, except by its current
approvers for the fields the node allows.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine import Batch, RecordCreated, RecordDeleted, RecordEvent, RecordUpdated, WriteStep, WriteUnit
from flow_engine import delivery, pauses
from flow_engine import tables as t
from flow_engine.calendar import Duration, calendar_of
from flow_engine.definitions import Flow, rule_reads
from flow_engine.messages import FlowConflict, FlowInputError
from flow_engine.runtime import ADVANCE_JOB
from flow_engine.timers import moment_of, stamp

if TYPE_CHECKING:
    from flow_engine.runtime import Runner

DATE_JOB = "flow.date"
EVENT_NAMES = {RecordCreated: "created", RecordUpdated: "updated", RecordDeleted: "deleted"}
#: Flows started by flows nest at most this deep (a flow that re-triggers itself stops).
MAX_DEPTH = 5
SYSTEM_COLUMNS = frozenset({"updated_at", "updated_by", "version"})


def _old(event: RecordEvent) -> dict[str, Any] | None:
    if isinstance(event, RecordUpdated):
        return {**event.record, **{k: old for k, (old, _new) in event.changes.items()}}
    return None


class Triggers:
    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self._kicks = threading.local()

    # -- inside the transaction -----------------------------------------------------------------
    def before_commit(self, unit: WriteUnit) -> None:
        if not unit.pending:
            return
        conn = unit.conn
        app = unit.runtime.package.name
        flows = [f for f in self.runner.versions.current(conn, app) if f.definition.get("enabled", True)]
        depth = int(unit.ctx.tags.get("flow_depth", "0"))
        source_flow = unit.ctx.tags.get("flow")
        waking: set[int] = set()
        for event in unit.pending:
            name = EVENT_NAMES.get(type(event))
            if name is None:
                continue
            for flow in flows:
                if flow.entity != event.entity or depth >= MAX_DEPTH:
                    continue
                kind = flow.trigger["type"]
                if kind == "record" and flow.name != source_flow:
                    self._record_trigger(unit, flow, event, name)
                elif kind == "date":
                    self._date_trigger(unit, flow, event, name)
            if isinstance(event, RecordUpdated) and flows:
                waking.update(self._waiting_on(conn, app, event.entity, event.record_id))
            for flow in flows:
                for record_id in self._pointed_at(unit, flow, event):
                    waking.update(self._waiting_on(conn, app, flow.entity, record_id))
        for instance_id in waking:
            delivery.enqueue(conn, ADVANCE_JOB, {"instance": instance_id}, run_at=self.runner.clock())
            self.remember(instance_id)

    def _record_trigger(self, unit: WriteUnit, flow: Flow, event: RecordEvent, name: str) -> None:
        trigger = flow.trigger
        if name not in trigger.get("on", ["created", "updated"]):
            return
        fields = trigger.get("fields")
        if isinstance(event, RecordUpdated) and fields and not set(fields) & set(event.changes):
            return
        if trigger.get("when"):
            rule = flow.rule(unit.runtime, trigger["when"])
            er = unit.runtime.entity(event.entity)
            record = dict(event.record)
            if not rule.matches(record, now=unit.now, old=_old(event), **rule_reads(unit, er)):
                return
        starter = unit.ctx.user_id
        instance = self.runner.create_instance(unit, flow, event.record_id, starter=starter, cause="event")
        if instance is not None:
            self.remember(instance)

    def _date_trigger(self, unit: WriteUnit, flow: Flow, event: RecordEvent, name: str) -> None:
        field = flow.trigger["field"]
        if isinstance(event, RecordUpdated) and field not in event.changes:
            return
        conn = unit.conn
        if name != "created":  # the date moved (or the record went): what waited on it stops
            for instance_id in self.runner.running_on(
                conn, flow.app, flow.entity, event.record_id, flow.name
            ):
                self._cancel(conn, instance_id, unit.now, "date_moved")
        if name == "deleted":
            return
        value = event.record.get(field)
        moment = moment_of(value)
        if moment is None:
            return
        offset = flow.trigger.get("offset")
        calendar = calendar_of(unit.runtime.package.section("calendars"), flow.definition.get("calendar"))
        at = calendar.add(moment, Duration.of(offset)) if offset else moment
        when = stamp(value)
        payload = {
            "app": flow.app,
            "flow": flow.name,
            "record": event.record_id,
            "field": field,
            "value": when,
        }
        key = f"flow-date:{flow.app}:{flow.name}:{event.record_id}:{when}"
        delivery.enqueue(conn, DATE_JOB, payload, run_at=at, key=key)

    def _cancel(self, conn: sa.Connection, instance_id: int, now: datetime, reason: str) -> None:
        ns, tk = t.node_states, t.tasks
        conn.execute(
            t.instances.update()
            .where(t.instances.c.id == instance_id)
            .values(status="cancelled", ended_at=now, locked=False)
        )
        conn.execute(
            ns.update()
            .where(ns.c.instance_id == instance_id, ns.c.status.in_(("ready", "waiting")))
            .values(status="cancelled", left_at=now)
        )
        conn.execute(
            tk.update()
            .where(tk.c.instance_id == instance_id, tk.c.status.in_(("open", "queued")), tk.c.kind != "cc")
            .values(status="cancelled", acted_at=now)
        )
        conn.execute(
            t.steps.insert().values(
                instance_id=instance_id, at=now, action="cancelled", details={"reason": reason}
            )
        )

    @staticmethod
    def _pointed_at(unit: WriteUnit, flow: Flow, event: RecordEvent) -> set[int]:
        """The records of ``flow``'s entity a changed row pointed at, before or after the change,
        through a lookup its waits and pauses count by: their waits may be met now."""
        links = flow.watched(unit.runtime).get(event.entity)
        if not links:
            return set()
        rows = [event.record, _old(event) or {}]
        return {int(row[link]) for row in rows for link in links if isinstance(row.get(link), int)}

    def _waiting_on(self, conn: sa.Connection, app: str, entity: str, record_id: int) -> list[int]:
        """Running instances of the record with a node waiting until a rule holds, or with a
        time limit that pauses while one does."""
        i, ns = t.instances, t.node_states
        rows = conn.execute(
            sa.select(i.c.id, ns.c.data)
            .join(ns, ns.c.instance_id == i.c.id)
            .where(
                i.c.app == app,
                i.c.entity == entity,
                i.c.record_id == record_id,
                i.c.status == "running",
                ns.c.status == "waiting",
            )
        ).all()
        return sorted({r.id for r in rows if r.data.get("until") or r.data.get(pauses.WATCH)})

    # -- after the commit -----------------------------------------------------------------------
    def remember(self, instance_id: int) -> None:
        """Start ``instance_id`` in this process once the current write committed."""
        pending = getattr(self._kicks, "ids", None)
        if pending is None:
            pending = self._kicks.ids = []
        pending.append(instance_id)

    def kick(self, event: RecordEvent) -> None:
        """Run what the committed write started, in this process, now (best effort: the jobs
        written with it do the same if this process dies first)."""
        tags = event.context.tags
        self.drain(int(tags.get("flow_depth", "0")) + (1 if tags.get("flow") else 0))

    def drain(self, depth: int, conn: sa.Connection | None = None) -> None:
        """Advance the instances remembered since the last drain (in ``conn``'s transaction
        when given); past ``MAX_DEPTH`` nested starts they are left to their jobs."""
        ids = getattr(self._kicks, "ids", None)
        if not ids or depth > MAX_DEPTH:
            return
        self._kicks.ids = []
        for instance_id in dict.fromkeys(ids):
            try:
                self.runner.advance(instance_id, depth, conn)
            except FlowInputError:
                continue  # recorded as failed on the instance


class RecordLock(WriteStep):
    """While an approval runs on a record, only its current approvers may edit it, and only
    the fields the node lists as ``editable``; the flow's own steps may always."""

    def before(self, batch: Batch) -> None:
        if batch.op not in ("update", "delete") or batch.unit.ctx.tags.get("source") == "flow":
            return
        from flow_engine.registry import runner_for

        runner = runner_for(batch.unit.conn.engine)
        if runner is None:
            return
        ids = [o["id"] for o in batch.old if o is not None]
        if not ids:
            return
        conn = batch.unit.conn
        flows = runner.versions.current(conn, batch.er.app)
        if not any(n["type"] == "approval" for f in flows for n in f.nodes.values()):
            return
        i = t.instances
        locked = conn.execute(
            sa.select(i.c.id, i.c.record_id, i.c.flow).where(
                i.c.app == batch.er.app,
                i.c.entity == batch.er.entity.name,
                i.c.record_id.in_(ids),
                i.c.status == "running",
                i.c.locked.is_(True),
            )
        ).all()
        if not locked:
            return
        rows = {o["id"]: (row, o) for row, o in zip(batch.rows, batch.old, strict=True) if o is not None}
        user = batch.unit.ctx.user_id
        # What a person changed: the entity's fields, not system or hidden kernel columns.
        fields = {*batch.er.entity.field_names, "owner"} - SYSTEM_COLUMNS
        for instance in locked:
            new, old = rows[instance.record_id]
            changed = (
                sorted(k for k, v in new.items() if k in fields and old.get(k) != v)
                if batch.op == "update"
                else ["*"]
            )
            if not changed:
                continue
            if batch.op == "update" and set(changed) <= self._editable(runner, conn, instance.id, user):
                continue
            raise FlowConflict("record_locked", flow=instance.flow, fields=", ".join(changed))

    def _editable(self, runner: Runner, conn: sa.Connection, instance_id: int, user: int | None) -> set[str]:
        if user is None:
            return set()
        tk = t.tasks
        nodes = set(
            conn.execute(
                sa.select(tk.c.node).where(
                    tk.c.instance_id == instance_id,
                    tk.c.assignee == user,
                    tk.c.status == "open",
                    tk.c.kind == "approval",
                )
            ).scalars()
        )
        if not nodes:
            return set()
        i = t.instances
        row = conn.execute(sa.select(i.c.app, i.c.flow, i.c.version).where(i.c.id == instance_id)).one()
        flow = runner.versions.get(conn, row.app, row.flow, row.version)
        return {f for n in nodes for f in flow.nodes.get(n, {}).get("editable", [])}
