"""What people do with flows, checked for who they are: their inbox, acting on a task,
withdrawing, reading an instance, and (admins) editing, publishing and migrating flows."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from fastapi import UploadFile
from fastapi.responses import FileResponse

from engine import (
    Context,
    InvalidPackage,
    Platform,
    directory,
    file_download,
    load_app,
    parse_package,
    receive_upload,
)
from flow_engine import definitions
from flow_engine import statements as q
from flow_engine import tables as t
from flow_engine.messages import FlowConflict, FlowForbidden, FlowInputError, FlowNotFound
from flow_engine.registry import runner_of
from flow_engine.runtime import Run, Runner, flow_context

#: The largest file an approver may attach (bytes).
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024


def _iso(value: Any) -> Any:
    return value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else value


def _json(row: Any) -> dict[str, Any]:
    return {k: _iso(v) for k, v in row.items()}


def _definition(name: str, body: Any) -> dict[str, Any]:
    """The flow a request body holds, named as its address says."""
    if not isinstance(body, dict):
        raise FlowInputError("flow_not_object")
    if body.get("name", name) != name:
        raise FlowInputError("flow_name_mismatch", body_name=body.get("name"), url_name=name)
    return {**body, "name": name}


def _user_id(ctx: Context) -> int:
    if ctx.user_id is None:
        raise FlowForbidden("task_not_yours", id=0)
    return ctx.user_id


@lru_cache(maxsize=16)
def _inbox(app: bool, flow: bool, kind: bool, overdue: bool) -> sa.Select[Any]:
    """The inbox query with the filters asked for (built once per combination; parameters
    ``user``, ``app``, ``flow``, ``kind``, ``now``)."""
    tk, i = t.tasks, t.instances
    # a carbon copy stays until it is read, however the instance ended
    live = sa.or_(i.c.status == "running", tk.c.kind == "cc")
    where = [tk.c.assignee == sa.bindparam("user"), tk.c.status == "open", live]
    if app:
        where.append(i.c.app == sa.bindparam("app"))
    if flow:
        where.append(i.c.flow == sa.bindparam("flow"))
    if kind:
        where.append(tk.c.kind == sa.bindparam("kind"))
    if overdue:
        where += [tk.c.due_at.is_not(None), tk.c.due_at < sa.bindparam("now", type_=tk.c.due_at.type)]
    return (
        sa.select(tk, i.c.app, i.c.flow, i.c.entity, i.c.record_id)
        .join(i, i.c.id == tk.c.instance_id)
        .where(*where)
        .order_by(tk.c.id)
    )


class FlowService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @property
    def runner(self) -> Runner:
        return runner_of(self.platform)

    # -- tasks --------------------------------------------------------------------------------
    def tasks(
        self,
        ctx: Context,
        *,
        app: str | None = None,
        flow: str | None = None,
        overdue: bool = False,
        kind: str | None = None,
    ) -> list[dict[str, Any]]:
        """The caller's open tasks (carbon copies included until read), oldest first."""
        query = _inbox(bool(app), bool(flow), bool(kind), overdue)
        params = {"user": _user_id(ctx), "app": app, "flow": flow, "kind": kind, "now": self.runner.clock()}
        with self.platform.db.connect() as conn:
            rows = [dict(r) for r in conn.execute(query, params).mappings()]
        self.runner.seen((r["id"], r["instance_id"], r["app"], r["flow"]) for r in rows)
        return [_json(r) for r in rows]

    def act(self, ctx: Context, task_id: int, action: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Act on a task; the task as it is after. Its instance is known from the read that
        showed the task, else looked up; the step checks it against the task's row."""
        user = _user_id(ctx)

        def work(run: Run) -> dict[str, Any]:
            row = run.conn.execute(q.TASK_AND_STATE, {q.ROW: task_id}).mappings().first()
            if row is None or row["instance_id"] != run.id:
                raise _TaskElsewhere
            task = {c.name: row[c.name] for c in t.tasks.c}
            state = {c.name: row[f"state__{c.name}"] for c in t.node_states.c}
            found = state if state["id"] is not None else None
            return _json(run.runner.approvals.act(run, task, found, user, action, body))

        try:
            return self.runner.with_instance(self.runner.instance_of_task(task_id), work)
        except _TaskElsewhere:
            pass
        try:
            return self.runner.with_instance(self.runner.instance_of_task(task_id, known=False), work)
        except _TaskElsewhere:
            raise FlowNotFound("task_not_found", id=task_id) from None

    def attach(self, ctx: Context, task_id: int, file: UploadFile) -> dict[str, Any]:
        """Store a file the task's assignee will attach when they act on it (a comment, an
        approval...); its descriptor. Only theirs to attach, and only to this task."""
        user = _user_id(ctx)
        with self.platform.db.connect() as conn:
            row = conn.execute(q.TASK_INSTANCE, {q.ROW: task_id}).first()
        if row is None:
            raise FlowNotFound("task_not_found", id=task_id)
        if row.assignee != user:
            raise FlowForbidden("task_not_yours", id=task_id)
        if row.status != "open":
            raise FlowConflict("task_done", id=task_id, status=row.status)
        return receive_upload(
            self.platform.files,
            row.app,
            ctx,
            file,
            max_size=ATTACHMENT_MAX_BYTES,
            accept=[],
            about={"flow_task": task_id, "flow_instance": row.instance_id},
            label={"zh": "审批附件", "en": "approval attachment"},
        )

    def attachment(self, ctx: Context, instance_id: int, file_id: str) -> FileResponse:
        """A file attached in the instance's step log, to whoever may see the instance."""
        view = self.instance(ctx, instance_id)
        attached = {
            a.get("id") for step in view["steps"] for a in (step["details"] or {}).get("attachments", [])
        }
        if file_id not in attached:
            raise FlowNotFound("file_not_attached", id=instance_id, file_id=file_id[:64])
        path, descriptor = self.platform.files.path(view["app"], file_id)
        return file_download(path, descriptor)

    def reassign(self, ctx: Context, task_id: int, to: int | str) -> dict[str, Any]:
        """An administrator hands an open task to someone else (recorded like a transfer)."""
        instance_id = self._instance_of_task(task_id)

        def work(run: Run) -> None:
            task = run.runner.approvals.task(run, task_id)
            if task["status"] != "open":
                raise FlowConflict("task_done", id=task_id, status=task["status"])
            run.runner.approvals._transfer(run, task, _user_id(ctx), {"to": to, "comment": "reassigned"})

        self.runner.with_instance(instance_id, work)
        return self.task(task_id)

    def task(self, task_id: int) -> dict[str, Any]:
        with self.platform.db.connect() as conn:
            row = conn.execute(q.select_by_id(t.tasks), {q.ROW: task_id}).mappings().first()
        if row is None:
            raise FlowNotFound("task_not_found", id=task_id)
        return _json(row)

    def _instance_of_task(self, task_id: int) -> int:
        return self.runner.instance_of_task(task_id)

    # -- instances ----------------------------------------------------------------------------
    def start(self, ctx: Context, app: str, entity: str, record_id: int, flow: str) -> dict[str, Any]:
        """Start ``flow`` on a record by hand; the instance as ``instance`` shows it (read in
        the start's own transaction)."""
        view = self.runner.start_by_hand(
            ctx, app, entity, record_id, flow, lambda run: self._view(run.conn, run.id)
        )
        self._seen(view)
        return view

    def withdraw(self, ctx: Context, instance_id: int) -> dict[str, Any]:
        user = _user_id(ctx)
        self.runner.with_instance(instance_id, lambda run: run.runner.approvals.withdraw(run, user))
        return self.instance(ctx, instance_id)

    def instance(self, ctx: Context, instance_id: int, *, checked: bool = False) -> dict[str, Any]:
        """The instance with each node's state, its tasks and its step log. Needs read access
        to the record, or a task of the instance (``checked``: the caller was just checked)."""
        with self.platform.db.connect() as conn:
            view = self._view(conn, instance_id)
        if not checked and not any(x["assignee"] == ctx.user_id for x in view["tasks"]):
            self.platform.records.get(
                ctx, view["app"], view["entity"], view["record_id"], include_deleted=True
            )
        self._seen(view)
        return view

    def _seen(self, view: Mapping[str, Any]) -> None:
        """The runner remembers which instance the tasks a view shows belong to."""
        self.runner.seen((x["id"], view["id"], view["app"], view["flow"]) for x in view["tasks"])

    def _view(self, conn: sa.Connection, instance_id: int) -> dict[str, Any]:
        """The instance with each node's state, its tasks and its step log, read on ``conn``."""
        row = self.runner.instance_row(conn, instance_id)
        of_it = {q.ROW: instance_id}
        states = [dict(s) for s in conn.execute(q.by_instance(t.node_states), of_it).mappings()]
        tasks = [_json(r) for r in conn.execute(q.by_instance(t.tasks), of_it).mappings()]
        steps = [_json(r) for r in conn.execute(q.by_instance(t.steps), of_it).mappings()]
        flow = self.runner.versions.get(conn, row["app"], row["flow"], row["version"])
        latest: dict[str, dict[str, Any]] = {}
        for s in states:
            latest[s["node"]] = s
        nodes = [
            {
                "id": n["id"],
                "type": n["type"],
                "label": n.get("label"),
                "next": n.get("next"),
                "fields": n.get("fields"),  # a fill-in task's: what the assignee completes
                "state": latest[n["id"]]["status"] if n["id"] in latest else None,
                "outcome": latest[n["id"]]["outcome"] if n["id"] in latest else None,
            }
            for n in flow.definition["nodes"]
        ]
        return {
            **_json(row),
            "nodes": nodes,
            "states": [_json(s) for s in states],
            "tasks": tasks,
            "steps": steps,
        }

    def record_instances(self, ctx: Context, app: str, entity: str, record_id: int) -> list[dict[str, Any]]:
        self.platform.records.get(ctx, app, entity, record_id, include_deleted=True)
        i = t.instances
        with self.platform.db.connect() as conn:
            rows = conn.execute(
                sa.select(i)
                .where(i.c.app == app, i.c.entity == entity, i.c.record_id == record_id)
                .order_by(i.c.id)
            ).mappings()
            return [_json(r) for r in rows]

    # -- definitions (administrators) ---------------------------------------------------------
    def get_flow(self, app: str, name: str) -> dict[str, Any]:
        with self.platform.db.connect() as conn:
            return definitions.draft(conn, app, name)

    def put_flow(self, ctx: Context, app: str, name: str, body: Any) -> dict[str, Any]:
        definition = _definition(name, body)
        with self.platform.db.begin() as conn:
            return definitions.save_draft(conn, app, definition, ctx)

    def validate(self, app: str, name: str, body: Any) -> dict[str, Any]:
        """Check a definition against the app as it is, without saving it."""
        definition = _definition(name, body)
        with self.platform.db.connect() as conn:
            package = load_app(conn, app).package.export()
        items = [f for f in package.get("flows", []) if f.get("name") != name] + [definition]
        index = len(items) - 1
        try:
            parse_package({**package, "flows": items})
        except InvalidPackage as exc:
            prefix = f"/flows/{index}"
            exc.problems = [
                p for p in exc.problems if (p.pointer or "").startswith(prefix + "/") or p.pointer == prefix
            ] or exc.problems
            raise
        return {"valid": True}

    def publish(self, ctx: Context, app: str, name: str) -> dict[str, Any]:
        from flow_engine.jobs import schedule_next

        now = self.runner.clock()
        with self.platform.db.begin() as conn:
            version = definitions.publish(conn, app, name, ctx, now)
            flow = definitions.Flow(app, name, version, definitions.draft(conn, app, name))
            if flow.trigger["type"] == "schedule":
                schedule_next(conn, flow, now)
        return {"flow": name, "version": version}

    def versions(self, app: str, name: str) -> list[dict[str, Any]]:
        with self.platform.db.connect() as conn:
            return [_json(v) for v in definitions.list_versions(conn, app, name)]

    def migrate(self, ctx: Context, app: str, name: str, to: int | None, dry_run: bool) -> dict[str, Any]:
        """Move running instances to version ``to`` (the newest by default) where every node
        they are at exists there with the same type; list the others and why."""
        i, ns = t.instances, t.node_states
        with self.platform.db.begin() as conn:
            target = (
                self.runner.versions.latest(conn, app, name)
                if to is None
                else self.runner.versions.get(conn, app, name, to)
            )
            rows = conn.execute(
                sa.select(i.c.id, i.c.version)
                .where(
                    i.c.app == app, i.c.flow == name, i.c.status == "running", i.c.version != target.version
                )
                .order_by(i.c.id)
            ).all()
            movable, refused = [], []
            for row in rows:
                at = list(
                    conn.execute(
                        sa.select(ns.c.node).where(
                            ns.c.instance_id == row.id, ns.c.status.in_(("ready", "waiting"))
                        )
                    ).scalars()
                )
                old = self.runner.versions.get(conn, app, name, row.version)
                missing = [
                    n
                    for n in at
                    if not n.startswith("@")
                    and (n not in target.nodes or target.nodes[n]["type"] != old.nodes[n]["type"])
                ]
                if missing:
                    refused.append({"instance": row.id, "version": row.version, "missing_nodes": missing})
                else:
                    movable.append(row.id)
            if not dry_run and movable:
                conn.execute(i.update().where(i.c.id.in_(movable)).values(version=target.version))
                for instance_id in movable:
                    conn.execute(
                        t.steps.insert().values(
                            instance_id=instance_id,
                            at=self.runner.clock(),
                            actor=ctx.user_id,
                            action="migrated",
                            details={"to": target.version},
                        )
                    )
        return {"version": target.version, "dry_run": dry_run, "movable": movable, "refused": refused}


class _TaskElsewhere(Exception):
    """The task is not (or no longer) of the instance a step was opened for."""


def usernames(platform: Platform, ids: list[int]) -> dict[int, str]:
    with platform.db.connect() as conn:
        return directory.usernames(conn, ids)


__all__ = ["FlowService", "flow_context"]
