"""Paused time limits: a limit's clock stops while its ``pause_while`` rule holds for the record
(a case waiting for the customer) and runs on, when the rule stops holding, with the time that
was left.

A pause lives in the waiting state's data (``pause``: since when, and the seconds left, counted
in working time when the limit is in business time). Each resume starts a new *epoch* of the
limit's timers: a timer scheduled before the pause carries the old epoch and does nothing when it
fires, so nothing is cancelled in the job table and nothing fires twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flow_engine import tables as t
from flow_engine.calendar import Duration

if TYPE_CHECKING:
    from flow_engine.runtime import Run

PAUSE = "pause"
EPOCH = "epoch"
#: Marks a waiting state whose limit has a pause rule: a change of the record wakes it.
WATCH = "pause_watch"


def rule(node: Mapping[str, Any]) -> str | None:
    """The node's pause rule, if its limit has one."""
    text = (node.get("limit") or {}).get("pause_while")
    return str(text) if text else None


def epoch(state: Mapping[str, Any]) -> int:
    return int(state["data"].get(EPOCH, 0))


def paused(state: Mapping[str, Any]) -> bool:
    return PAUSE in state["data"]


def counts(state: Mapping[str, Any], timer_epoch: int) -> bool:
    """Whether a limit timer of ``timer_epoch`` still counts for ``state``: not while paused,
    nor one scheduled before the latest resume."""
    return not paused(state) and epoch(state) == timer_epoch


def _business(node: Mapping[str, Any]) -> bool:
    return Duration.of(node["limit"]["after"]).business


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def start(run: Run, state_id: int, node: Mapping[str, Any], due: datetime) -> None:
    """A limit with a pause rule has begun: watch the record, and pause at once if it holds."""
    text = rule(node)
    if text is None:
        return
    state = run.state(state_id)
    run.set_state(state_id, data={**state["data"], WATCH: True})
    if run.matches(text):
        pause(run, state_id, node, due)


def pause(run: Run, state_id: int, node: Mapping[str, Any], due: datetime) -> None:
    """Stop the clock of a limit due at ``due``, keeping the time left."""
    state = run.state(state_id)
    due = _aware(due)
    business = _business(node)
    left = run.calendar().working_time(run.now, due) if business else max(due - run.now, timedelta(0))
    data = {**state["data"], PAUSE: {"since": run.now.isoformat(), "left": left.total_seconds()}}
    run.set_state(state_id, data=data, due_at=None)
    _task_due(run, state_id, None)
    run.log(node["id"], "paused")


def resume(run: Run, state_id: int, node: Mapping[str, Any]) -> None:
    """Start the clock again with the time that was left, in a new epoch of timers."""
    state = run.state(state_id)
    left = timedelta(seconds=float(state["data"][PAUSE]["left"]))
    due = run.calendar().shift_working_time(run.now, left) if _business(node) else run.now + left
    data = {k: v for k, v in state["data"].items() if k != PAUSE}
    data[EPOCH] = epoch(state) + 1
    run.set_state(state_id, data=data)
    run.log(node["id"], "resumed")
    run.runner.timers.schedule_limit(run, {**state, "data": data}, dict(node), due=due)


def follow(run: Run, state: Mapping[str, Any], node: Mapping[str, Any]) -> None:
    """Pause or resume ``state``'s limit as its rule now holds or not (the record changed)."""
    text = rule(node)
    if text is None:
        return
    holds = run.matches(text)
    if holds and not paused(state) and state["due_at"] is not None:
        pause(run, int(state["id"]), node, state["due_at"])
    elif not holds and paused(state):
        resume(run, int(state["id"]), node)


def _task_due(run: Run, state_id: int, due: datetime | None) -> None:
    tk = t.tasks
    run.conn.execute(tk.update().where(tk.c.state_id == state_id, tk.c.status == "open").values(due_at=due))
