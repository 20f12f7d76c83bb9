"""Running instances: node states advance inside one write unit per step.

Every step of an instance — a start, a task action, a timer — runs in one transaction of the
kernel's write unit: the flow's own rows (node states, tasks, step log, jobs) and the record
changes its actions make commit together or not at all. A re-run after a crash therefore finds
either nothing done or everything done, never half (no record is created twice). The instance
row is locked first, so two workers never advance one instance at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from engine import ActionCall, AppRuntime, Context, EntityRuntime, Platform, WriteUnit
from flow_engine import delivery
from flow_engine import statements as q
from flow_engine import tables as t
from flow_engine.calendar import Calendar, Duration, calendar_of
from flow_engine.definitions import Flow, VersionCache, rule_reads
from flow_engine.messages import FlowConflict, FlowInputError, FlowNotFound

if TYPE_CHECKING:
    from flow_engine.approvals import Approvals

T = TypeVar("T")
Clock = Callable[[], datetime]
ENDED = ("approved", "rejected", "done", "withdrawn", "cancelled", "failed")
#: A flow that loops through automatic nodes this often in one step is stopped (a cycle).
MAX_STEPS_PER_RUN = 500
ADVANCE_JOB = "flow.advance"
#: The columns of a node state's row.
STATE_COLUMNS = ("instance_id", "node", "status", "outcome", "entered_at", "left_at", "due_at", "data")
#: ``record`` not read yet (``None`` means read and not there).
_UNREAD = object()
#: The instance whose action node is running, for actions that need more than the record.
CURRENT_RUN: ContextVar[Run | None] = ContextVar("flow_current_run", default=None)


def real_clock() -> datetime:
    return datetime.now(UTC)


def as_stored(moment: datetime) -> datetime:
    """``moment`` as a UTC column hands it back (aware, UTC), for a row kept in memory."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def flow_context(flow: str, instance: int | None = None, depth: int = 0) -> Context:
    """Who a flow's own changes are made as: the system, tagged so triggers know the source."""
    tags = {"source": "flow", "flow": flow, "flow_depth": str(depth)}
    if instance is not None:
        tags["flow_instance"] = str(instance)
    return Context(locale="zh", tags=tags)


class Run:
    """One instance inside one write unit."""

    def __init__(
        self,
        runner: Runner,
        unit: WriteUnit,
        instance: dict[str, Any],
        flow: Flow,
        record: dict[str, Any] | None = None,
    ) -> None:
        self.runner = runner
        self.unit = unit
        self.conn = unit.conn
        self.instance = instance
        self.flow = flow
        self.now = runner.clock()
        self.runtime: AppRuntime = unit.runtime
        self.er: EntityRuntime = unit.runtime.entity(flow.entity)
        self._record: dict[str, Any] | None = record
        #: the instance row as stored, and what this step changed in it (``set_instance``)
        self._stored = dict(instance)
        self._instance_changes: dict[str, Any] = {}
        #: step-log rows, written in one statement when the step ends (``flush``)
        self._log: list[dict[str, Any]] = []
        #: states made ready in this step, entered in order by ``advance`` (a step never ends
        #: with one while its instance runs, so no step has to look for another's)
        self._ready: deque[dict[str, Any]] = deque()
        self._gone: set[int] = set()

    # -- reading ------------------------------------------------------------------------------
    @property
    def id(self) -> int:
        return int(self.instance["id"])

    @property
    def app(self) -> str:
        return str(self.instance["app"])

    @property
    def starter(self) -> int | None:
        return self.instance["started_by"]

    def record(self) -> dict[str, Any]:
        """The record as it is now in this transaction (empty when purged); read once per step
        until something writes it (``changed``)."""
        if self._record is None:
            row = self.conn.execute(q.select_by_id(self.er.table), {q.ROW: self.instance["record_id"]})
            found = row.mappings().first()
            self._record = dict(found) if found is not None else {}
        return dict(self._record)

    def changed(self) -> None:
        """The record was written: read it again when next asked."""
        self._record = None

    def matches(self, text: str, record: Mapping[str, Any] | None = None) -> bool:
        rule = self.flow.rule(self.runtime, text)
        reads = rule_reads(self.unit, self.er)
        return bool(rule.matches(record if record is not None else self.record(), now=self.now, **reads))

    def calendar(self) -> Calendar:
        return calendar_of(self.runtime.package.section("calendars"), self.flow.definition.get("calendar"))

    def due(self, start: datetime, spec: Mapping[str, Any]) -> datetime:
        return self.calendar().add(start, Duration.of(spec))

    def record_ref(self) -> tuple[str, str, int]:
        return (self.app, self.flow.entity, int(self.instance["record_id"]))

    # -- writing ------------------------------------------------------------------------------
    def log(
        self,
        node: str | None,
        action: str,
        *,
        actor: int | None = None,
        comment: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        self._log.append(
            {
                "instance_id": self.id,
                "node": node,
                "at": self.now,
                "actor": actor,
                "action": action,
                "comment": comment,
                "details": dict(details) if details else None,
            }
        )

    def flush(self) -> None:
        """Write this step's changes to the instance row and its log (one statement each);
        whatever was made ready and not entered yet is entered first, or, once the instance
        ended, kept as it is."""
        if self._ready:
            self.advance()
            self._write_pending()
        self._write_instance()
        if self._log:  # one row as itself: a list of one costs SQLAlchemy an executemany
            self.conn.execute(q.insert(t.steps), self._log[0] if len(self._log) == 1 else self._log)
            self._log = []

    def activate(self, node_id: str, data: Mapping[str, Any] | None = None) -> None:
        """A new ready state of ``node_id``; ``advance`` enters it. Its row is written when
        the node first changes it (``save_state``), so a node passed through in one step
        costs one INSERT, not an INSERT and an UPDATE."""
        self._ready.append(
            {
                "id": None,
                "instance_id": self.id,
                "node": node_id,
                "status": "ready",
                "outcome": None,
                "entered_at": self.now,
                "left_at": None,
                "due_at": None,
                "data": dict(data or {}),
            }
        )

    def save_state(self, state: dict[str, Any], **values: Any) -> int:
        """Apply ``values`` to ``state`` and its row (written now if it was not yet); its id."""
        state.update(values)
        if state["id"] is None:
            row = {k: state[k] for k in STATE_COLUMNS}
            state["id"] = q.insert_one(self.conn, t.node_states, row)
        elif values:
            self.set_state(state["id"], **values)
        return int(state["id"])

    def _write_pending(self) -> None:
        """Write the rows of the states still waiting to be entered (as ready)."""
        for state in self._ready:
            if state["id"] is None:
                self.save_state(state)

    def set_state(self, state_id: int, **values: Any) -> None:
        self.conn.execute(q.update_by_id(t.node_states), {q.ROW: state_id, **values})

    def state(self, state_id: int) -> dict[str, Any]:
        row = self.conn.execute(q.select_by_id(t.node_states), {q.ROW: state_id}).mappings().one()
        return dict(row)

    def leave(self, state: dict[str, Any], outcome: str | None = None, nxt: Any = None) -> None:
        """Close ``state`` and activate what follows (one node, or each of a split's)."""
        self.save_state(state, status="done", outcome=outcome, left_at=self.now)
        target = self.flow.nodes[state["node"]].get("next") if nxt is None else nxt
        branch = state["data"].get("branch", [])
        if isinstance(target, list):
            for i, node_id in enumerate(target):
                self.activate(node_id, {"branch": [*branch, [state["id"], i]]})
        elif target is not None:
            self.activate(target, {"branch": branch})

    def set_instance(self, **values: Any) -> None:
        """Change the instance row; written when the step ends (``flush``) or before actions run,
        so a step that locks the record and unlocks it again writes nothing for it."""
        self.instance.update(values)
        self._instance_changes.update(values)

    def _write_instance(self) -> None:
        changed = {k: v for k, v in self._instance_changes.items() if self._stored.get(k) != v}
        self._instance_changes = {}
        if changed:
            self.conn.execute(q.update_by_id(t.instances), {q.ROW: self.id, **changed})
            self._stored.update(changed)

    def finish(self, status: str, state_id: int | None = None) -> None:
        """End the instance: every open state and task closes, the record unlocks."""
        self.cancel_states(exclude=state_id)
        self.set_instance(status=status, ended_at=self.now, locked=False)
        self.log(None, status)

    def cancel_states(self, *, exclude: int | None = None, ids: list[int] | None = None) -> None:
        self._write_pending()
        live = self.conn.execute(q.LIVE_STATE_IDS, {q.ROW: self.id}).scalars()
        states = [s for s in live if s != exclude and (ids is None or s in ids)]
        self._gone.update(states)
        if not states:
            return
        self.conn.execute(q.CANCEL_STATES, {q.IDS: states, "at": self.now})
        self.conn.execute(q.CANCEL_STATE_TASKS, {q.IDS: states, "at": self.now})

    def notify(
        self,
        users: list[int],
        title: Mapping[str, str],
        body: Mapping[str, str] | None = None,
        channels: list[str] | None = None,
    ) -> None:
        record = self.record()
        record["_title"] = record_title(self.er, record)
        delivery.notify(
            self.conn, users, fill(title, record), fill(body or title, record), self.record_ref(), channels
        )

    def run_actions(self, actions: list[dict[str, Any]], node: str) -> None:
        record = self.unit.runtime.entity(self.flow.entity).to_json(self.record())
        self._write_instance()  # what the actions' writes read (another flow's start) is current
        token = CURRENT_RUN.set(self)
        try:
            for spec in actions:
                self.runner.platform.actions.run(ActionCall(self.unit, dict(spec), self.flow.entity, record))
                self.log(node, f"action:{spec['type']}")
        finally:
            CURRENT_RUN.reset(token)
            self.changed()

    # -- moving on ----------------------------------------------------------------------------
    def advance(self) -> None:
        """Enter every ready state, and the ones those make ready, until all wait or end."""
        for _ in range(MAX_STEPS_PER_RUN):
            if self.instance["status"] != "running" or not self._ready:
                return
            state = self._ready.popleft()
            if state["id"] not in self._gone:
                self.enter(state)
        raise FlowConflict("flow_loop", flow=self.flow.name, steps=MAX_STEPS_PER_RUN)

    def enter(self, state: dict[str, Any]) -> None:
        node = self.flow.nodes[state["node"]]
        kind = node["type"]
        if kind in ("start", "action", "cc"):
            if kind == "action":
                self.run_actions(node["actions"], node["id"])
            if kind == "cc":
                self.runner.approvals.cc(self, state, node)
            self.leave(state)
        elif kind == "end":
            self.save_state(state, status="done", left_at=self.now)
            self.finish(node.get("result", "done"), state["id"])
        elif kind == "condition":
            record = self.record()
            chosen = next(
                (b["next"] for b in node.get("branches", []) if self.matches(b["when"], record)), None
            )
            self.log(node["id"], "branch", details={"next": chosen or node["default"]})
            self.leave(state, "branch" if chosen else "default", chosen or node["default"])
        elif kind == "split":
            self.leave(state)
        elif kind == "join":
            self._write_pending()  # the join reads the states of its branches
            self.save_state(state)
            self.join(state, node)
        elif kind in ("approval", "task"):
            self.runner.approvals.enter(self, {**state, "status": "waiting"}, node)  # sets it waiting
        elif kind == "wait":
            self.save_state(state, status="waiting")
            self.runner.timers.enter_wait(self, state, node)

    def join(self, state: dict[str, Any], node: dict[str, Any]) -> None:
        branch = list(state["data"].get("branch", []))
        split_nodes = {node["split"]}
        # the innermost branch opened by this join's split
        depth = max(
            (i for i, (sid, _n) in enumerate(branch) if self.state(sid)["node"] in split_nodes), default=None
        )
        if depth is None:
            self.leave(state)
            return
        split_state, _index = branch[depth]
        outer = branch[:depth]
        ns = t.node_states
        arrived = [
            s
            for s in self.conn.execute(
                sa.select(ns.c.id, ns.c.data).where(
                    ns.c.instance_id == self.id, ns.c.node == node["id"], ns.c.status.in_(("done", "waiting"))
                )
            )
            if any(b[0] == split_state for b in s.data.get("branch", []))
        ]
        width = len(self.flow.nodes[node["split"]]["next"])
        if node.get("mode", "all") == "any":
            if arrived:  # a branch already went through
                self.set_state(state["id"], status="done", outcome="late", left_at=self.now)
                return
            siblings = [
                s.id
                for s in self.conn.execute(
                    sa.select(ns.c.id, ns.c.data).where(
                        ns.c.instance_id == self.id,
                        ns.c.status.in_(("ready", "waiting")),
                        ns.c.id != state["id"],
                    )
                )
                if any(b[0] == split_state for b in s.data.get("branch", []))
            ]
            self.cancel_states(ids=siblings)
            self.set_state(state["id"], data={"branch": outer})
            self.leave({**state, "data": {"branch": outer}}, "joined")
            return
        if len(arrived) + 1 < width:
            self.set_state(state["id"], status="waiting", data={"branch": branch})
            return
        ns_ids = [s.id for s in arrived]
        self.conn.execute(ns.update().where(ns.c.id.in_(ns_ids)).values(status="done", left_at=self.now))
        self.leave({**state, "data": {"branch": outer}}, "joined")


def record_title(er: EntityRuntime, record: Mapping[str, Any]) -> str:
    """How a notification names a record: its title field, else its first text field, else #id."""
    name = er.entity.title_field or next((f.name for f in er.entity.fields if f.type == "text"), None)
    value = record.get(name) if name else None
    return str(value) if value not in (None, "") else f"#{record.get('id')}"


def fill(text: Mapping[str, str], record: Mapping[str, Any]) -> dict[str, str]:
    """``{field}`` placeholders of a zh/en text filled from the record (nothing else is read)."""
    out = {}
    for lang, template in text.items():
        value = str(template)
        for name, field_value in record.items():
            token = "{" + name + "}"
            if token in value:
                value = value.replace(token, "" if field_value is None else str(field_value))
        out[lang] = value
    return out


class Runner:
    """Starts and advances instances of one platform; ``clock`` is injectable for tests."""

    def __init__(self, platform: Platform, clock: Clock = real_clock) -> None:
        from flow_engine.approvals import Approvals
        from flow_engine.timers import Timers
        from flow_engine.triggers import Triggers

        self.platform = platform
        self.clock = clock
        self.versions = VersionCache()
        self._where: dict[int, tuple[str, str]] = {}
        #: task -> instance, as reads that hand task ids out (inbox, instance view) showed them
        self._task_instance: dict[int, int] = {}
        self.approvals: Approvals = Approvals()
        self.timers = Timers()
        self.triggers = Triggers(self)

    # -- transactions -------------------------------------------------------------------------
    def instance_row(self, conn: sa.Connection, instance_id: int, *, lock: bool = False) -> dict[str, Any]:
        query = q.select_by_id(t.instances, lock=lock and conn.dialect.name == "postgresql")
        row = conn.execute(query, {q.ROW: instance_id}).mappings().first()
        if row is None:
            raise FlowNotFound("instance_not_found", id=instance_id)
        return dict(row)

    def app_of(self, instance_id: int, conn: sa.Connection | None = None) -> tuple[str, str]:
        """The app and flow of an instance: facts that never change, so kept in memory (read
        on ``conn`` when given: the instance may be new in that transaction)."""
        found = self._where.get(instance_id)
        if found is None:
            if conn is not None:
                row = self.instance_row(conn, instance_id)
            else:
                with self.platform.db.connect() as own:
                    row = self.instance_row(own, instance_id)
            if len(self._where) > 100_000:
                self._where.clear()
            found = self._where[instance_id] = (row["app"], row["flow"])
        return found

    def instance_of_task(self, task_id: int, *, known: bool = True) -> int:
        """The instance a task belongs to (its app and flow remembered, as ``app_of`` does);
        with ``known``, as an earlier read showed it (``seen``): the step acting on the task
        checks it against the task's row, so a stale answer costs a retry, never a wrong act."""
        found = self._task_instance.get(task_id) if known else None
        if found is not None:
            return found
        with self.platform.db.connect() as conn:
            row = conn.execute(q.TASK_INSTANCE, {q.ROW: task_id}).first()
        if row is None:
            raise FlowNotFound("task_not_found", id=task_id)
        self.seen([(task_id, row.instance_id, row.app, row.flow)])
        return int(row.instance_id)

    def seen(self, tasks: Iterable[tuple[int, int, str, str]]) -> None:
        """Remember (task, instance, app, flow) facts a read showed: they never change."""
        if len(self._where) > 100_000:
            self._where.clear()
        if len(self._task_instance) > 100_000:
            self._task_instance.clear()
        for task_id, instance_id, app, flow in tasks:
            self._task_instance[task_id] = instance_id
            self._where[instance_id] = (app, flow)

    def with_instance(
        self, instance_id: int, work: Callable[[Run], T], depth: int = 0, conn: sa.Connection | None = None
    ) -> T:
        """``work`` on a locked instance in one write unit (its record changes included). With
        ``conn`` (a job's ``call.conn``), the unit joins that transaction: the step commits
        together with the job's completion, or not at all."""
        app, flow_name = self.app_of(instance_id, conn)

        def step(unit: WriteUnit) -> T:
            instance = self.instance_row(unit.conn, instance_id, lock=True)
            flow = self.versions.get(unit.conn, app, flow_name, instance["version"])
            run = Run(self, unit, instance, flow)
            result = work(run)
            run.flush()
            return result

        ctx = flow_context(flow_name, instance_id, depth)
        result = self.platform.records.write(ctx, app, step, conn=conn)
        self.triggers.drain(depth + 1, conn)  # what the step started (a start_flow action)
        return result

    # -- starting -----------------------------------------------------------------------------
    def create_instance(
        self,
        unit: WriteUnit,
        flow: Flow,
        record_id: int,
        *,
        starter: int | None,
        cause: str,
        start_key: str | None = None,
    ) -> int | None:
        """A new instance, not yet started (``starting``), plus the job that starts it; both in
        ``unit``'s transaction, so the start survives a crash right after the commit."""
        conn = unit.conn
        if start_key is not None and conn.execute(q.STARTED_UNDER, {"start_key": start_key}).scalar():
            return None
        instance = self._insert_instance(unit, flow, record_id, starter, cause, start_key)
        instance_id = int(instance["id"])
        delivery.enqueue(
            conn, ADVANCE_JOB, {"instance": instance_id}, run_at=self.clock(), key=f"flow-start:{instance_id}"
        )
        return instance_id

    def _insert_instance(
        self,
        unit: WriteUnit,
        flow: Flow,
        record_id: int,
        starter: int | None,
        cause: str,
        start_key: str | None,
        record: Mapping[str, Any] | object | None = _UNREAD,
    ) -> dict[str, Any]:
        """The new instance's row (``starting``), with the record as submitted; ``record`` is
        the stored row when the caller read it already."""
        er = unit.runtime.entity(flow.entity)
        if record is _UNREAD:
            record = unit.conn.execute(q.select_by_id(er.table), {q.ROW: record_id}).mappings().first()
        values = {
            "app": flow.app,
            "flow": flow.name,
            "version": flow.version,
            "entity": flow.entity,
            "record_id": record_id,
            "status": "starting",
            "started_by": starter,
            "started_at": self.clock(),
            "ended_at": None,
            "snapshot": er.to_json(dict(record)) if isinstance(record, Mapping) else None,
            "cause": cause,
            "start_key": start_key,
            "locked": False,
            "error": None,
        }
        instance_id = q.insert_one(unit.conn, t.instances, values)
        return {**values, "id": int(instance_id)}

    def begin(self, run: Run) -> None:
        """``starting`` -> ``running``: the start node becomes ready; done exactly once."""
        if run.instance["status"] != "starting":
            return
        run.set_instance(status="running")
        run.log(None, "started", actor=run.starter)
        run.activate(run.flow.start)

    def advance(self, instance_id: int, depth: int = 0, conn: sa.Connection | None = None) -> None:
        """Start the instance if it is new, then enter whatever is ready (in ``conn``'s
        transaction when given, see ``with_instance``)."""

        def step(run: Run) -> None:
            self.begin(run)
            self.timers.recheck(run)
            run.advance()

        try:
            self.with_instance(instance_id, step, depth, conn)
        except FlowNotFound:
            return
        except (FlowInputError, FlowConflict) as exc:
            self.fail(instance_id, exc.message("en"), conn)
            raise

    def fail(self, instance_id: int, reason: str, conn: sa.Connection | None = None) -> None:
        """Mark an instance failed (its step rolled back): in ``conn``'s transaction when given
        (a job's, so the mark and the job's completion commit together), else in one of its own."""
        if conn is None:
            with self.platform.db.begin() as own:
                self._mark_failed(own, instance_id, reason)
        else:
            self._mark_failed(conn, instance_id, reason)

    def _mark_failed(self, conn: sa.Connection, instance_id: int, reason: str) -> None:
        now = self.clock()
        conn.execute(
            t.instances.update()
            .where(t.instances.c.id == instance_id, t.instances.c.status.in_(("starting", "running")))
            .values(status="failed", error=reason, ended_at=now, locked=False)
        )
        failed = {"instance_id": instance_id, "at": now, "action": "failed", "details": {"error": reason}}
        conn.execute(q.insert(t.steps), failed)

    def running_on(
        self, conn: sa.Connection, app: str, entity: str, record_id: int, flow: str | None = None
    ) -> list[int]:
        params = {"app": app, "entity": entity, "record_id": record_id, "flow": flow}
        return list(conn.execute(q.RUNNING_ON if flow is None else q.RUNNING_ON_FLOW, params).scalars())

    def start_by_hand(
        self, ctx: Context, app: str, entity: str, record_id: int, flow_name: str, then: Callable[[Run], T]
    ) -> T:
        """A manual start ("submit for approval"): the caller must be able to read the record;
        the instance runs its first steps before this returns, in the same transaction (so it
        needs no job to start it, and a start the node policies refuse leaves nothing). What
        ``then`` makes of the started instance, read in that transaction too."""

        def create(unit: WriteUnit) -> T:
            records = self.platform.records
            found = records.readable_row(unit.conn, ctx, unit.runtime.entity(entity), record_id)
            flow = self.versions.latest(unit.conn, app, flow_name)
            if flow.trigger.get("type") != "manual":
                raise FlowInputError("flow_not_manual", flow=flow_name)
            if flow.entity != entity:
                raise FlowInputError("flow_wrong_entity", flow=flow_name, expected=flow.entity, entity=entity)
            if self.running_on(unit.conn, app, entity, record_id, flow_name):
                raise FlowConflict("flow_already_running", flow=flow_name)
            instance = self._insert_instance(unit, flow, record_id, ctx.user_id, "manual", None, found)
            run = Run(self, unit, instance, flow, dict(found))
            self.begin(run)
            run.advance()
            run.flush()
            return then(run)

        return self.platform.records.write(flow_context(flow_name), app, create)
