"""Timers as durable jobs: waits, time limits with their policies, and warnings before them.

A timer is a job row written in the step's transaction (``flow.timer``) with the state it
belongs to; when it fires it acts only if that state is still waiting, so a timer of a node
that was decided meanwhile, or one fired twice, does nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from flow_engine import delivery, pauses
from flow_engine import tables as t
from flow_engine.calendar import Duration
from flow_engine.people import resolve

if TYPE_CHECKING:
    from flow_engine.runtime import Run

TIMER_JOB = "flow.timer"
REMIND = {"zh": "待办即将超时：{_title}", "en": "Due soon: {_title}"}
OVERDUE = {"zh": "待办已超时：{_title}", "en": "Overdue: {_title}"}
ESCALATED = {"zh": "已升级给你：{_title}", "en": "Escalated to you: {_title}"}


class Timers:
    def schedule(self, run: Run, state_id: int, what: str, at: datetime, **extra: Any) -> None:
        payload = {"instance": run.id, "state": state_id, "what": what, "at": at.isoformat(), **extra}
        key = f"flow-timer:{state_id}:{what}:{extra.get('n', 0)}"
        if extra.get("epoch"):  # a limit resumed after a pause: its timers anew
            key += f":{extra['epoch']}"
        delivery.enqueue(run.conn, TIMER_JOB, payload, run_at=at, key=key)

    def schedule_limit(
        self, run: Run, state: dict[str, Any], node: dict[str, Any], n: int = 0, due: datetime | None = None
    ) -> None:
        """The limit's timers from now, or from a resumed pause with its own ``due``."""
        limit = node.get("limit")
        if not limit:
            return
        start = run.now
        fresh = due is None
        due = run.due(start, limit["after"]) if due is None else due
        epoch = {"epoch": pauses.epoch(state)} if pauses.epoch(state) else {}
        if n == 0:
            run.set_state(state["id"], due_at=due)
            run.conn.execute(
                t.tasks.update()
                .where(t.tasks.c.state_id == state["id"], t.tasks.c.due_at.is_(None))
                .values(due_at=due)
            )
        self.schedule(run, state["id"], "limit", due, n=n, **epoch)
        if limit.get("warn_before") and n == 0:
            warn = Duration.of(limit["warn_before"])
            if warn.business:
                at = run.calendar().shift_working_time(due, -(warn.clock + timedelta(days=warn.days)))
            else:
                at = due - timedelta(days=warn.days) - warn.clock
            self.schedule(run, state["id"], "warn", max(at, start), **epoch)
        if fresh and n == 0:
            pauses.start(run, state["id"], node, due)

    def enter_wait(self, run: Run, state: dict[str, Any], node: dict[str, Any]) -> None:
        """A wait for a duration, until a date field (plus an offset), or until a rule holds."""
        if node.get("until"):
            if run.matches(node["until"]):
                run.leave(state, "met")
                return
            run.set_state(state["id"], data={**state["data"], "until": True})
            self.schedule_limit(run, state, node)
            return
        at = self.wait_until(run, node)
        if at is None:
            run.leave(state, "no_date")
            return
        if at <= run.now:
            run.leave(state, "passed")
            return
        run.set_state(state["id"], due_at=at)
        self.schedule(run, state["id"], "wait", at)

    def recheck(self, run: Run) -> None:
        """Nodes waiting until a rule holds move on if it holds now (the record changed); limits
        with a pause rule pause or resume."""
        ns = t.node_states
        waiting = run.conn.execute(
            sa.select(ns).where(ns.c.instance_id == run.id, ns.c.status == "waiting").order_by(ns.c.id)
        ).mappings()
        for state in [dict(s) for s in waiting]:
            node = run.flow.nodes.get(state["node"])
            if node is None:
                continue
            pauses.follow(run, state, node)
            if state["data"].get("until") and node.get("until") and run.matches(node["until"]):
                run.log(node["id"], "condition_met")
                run.leave(state, "met")

    def wait_until(self, run: Run, node: dict[str, Any]) -> datetime | None:
        if node.get("for"):
            return run.due(run.now, node["for"])
        value = moment_of(run.record().get(node["until_field"]))
        if value is None:
            return None
        return run.due(value, node["offset"]) if node.get("offset") else value

    def fire(self, run: Run, state_id: int, what: str, n: int = 0, epoch: int = 0) -> None:
        """A timer came due: act if its state still waits for it (and, for a limit, its clock
        runs and the timer is of its latest epoch)."""
        state = run.state(state_id)
        if state["status"] != "waiting" or run.instance["status"] != "running":
            return
        if what != "wait" and not pauses.counts(state, epoch):
            return
        node = run.flow.nodes.get(state["node"])
        if node is None:
            return
        if what == "wait":
            # a wait on a date field follows the date if it moved; a wait ``for`` a duration
            # counts from when it began, so its timer is its end
            at = self.wait_until(run, node) if node.get("until_field") else None
            if at is not None and at > run.now:  # the date moved: wait for the new one
                run.set_state(state_id, due_at=at)
                self.schedule(run, state_id, "wait", at, n=n + 1)
                return
            run.log(node["id"], "timer")
            run.leave(state, "timer")
            run.advance()
            return
        limit = node["limit"]
        people = self._assignees(run, state_id)
        if what == "warn":
            run.log(node["id"], "warned")
            run.notify(people, REMIND)
            return
        policy = limit["policy"]
        run.log(node["id"], f"overdue:{policy}")
        if policy == "remind":
            run.notify(people, OVERDUE)
            if n + 1 < int(limit.get("repeat", 0)) + 1:
                self.schedule_limit(run, state, node, n + 1)
        elif policy == "escalate":
            to = resolve(run.conn, run.app, limit.get("to", []), run.record(), run.starter)
            run.notify(to, ESCALATED)
            run.runner.approvals.carbon_copy(run, state_id, node["id"], to)
        else:
            outcome = "approved" if policy == "approve" else "rejected"
            if node["type"] == "wait":
                run.leave(state, outcome)
            else:
                run.runner.approvals.decide(run, state, node, outcome)
            run.advance()

    def _assignees(self, run: Run, state_id: int) -> list[int]:
        tk = t.tasks
        rows = run.conn.execute(
            sa.select(tk.c.assignee).where(
                tk.c.state_id == state_id, tk.c.status == "open", tk.c.kind != "cc"
            )
        ).scalars()
        people = list(dict.fromkeys(rows))
        if not people:
            owner = run.record().get("owner")
            people = [owner] if isinstance(owner, int) else []
        return people


def moment_of(value: Any) -> datetime | None:
    """A date field's value as a UTC moment (a date means its midnight, UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def stamp(value: Any) -> str:
    """A date field's value as the text a date trigger remembers it by."""
    return value.isoformat() if isinstance(value, date) else str(value)
