"""Benchmark of the flow engine against SpiffWorkflow (BPMN), on the same process:
start -> approval -> condition -> approval -> end.

Tangram: N instances through the Python API on SQLite, every user action (the start, each
approval) committed on its own, as a server does. SpiffWorkflow (PyPI ``spiffworkflow``,
installed apart in ``bench/.deps`` like the PyPI rule-engine): the same process in memory,
then with one JSON serialise/deserialise per instance, then persisted to SQLite with the same
three commits per instance (its JSON loaded, run, saved back each time).

Goals (issue 11): at least SpiffWorkflow's JSON-round-trip rate while committing every action,
and at least 10x its persisted rate.

Two floors put those goals against the stack: the same three commits with the fewest statements
a durable engine whose tasks are rows needs (24, the node states and step log as JSON on the
instance row) and no flow logic at all, once through SQLAlchemy Core and once on the sqlite3
connection itself. What Tangram cannot beat is the Core floor; the raw floor is what skipping
SQLAlchemy's execution layer would buy.

Run: ``.venv/bin/python bench/flows.py [--instances 2000] [--smoke]`` from the repository root.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
DEPS = ROOT / "bench" / ".deps"
sys.path.insert(0, str(ROOT))

import flow_engine  # noqa: E402
from engine import Context, Platform, Principal, Settings  # noqa: E402
from engine.apps.metadata_store import import_app  # noqa: E402
from engine.identity.users import create_user  # noqa: E402
from flow_engine import plugin  # noqa: E402

FLOW: dict[str, Any] = {
    "name": "two_step",
    "label": {"zh": "两级审批", "en": "Two-step approval"},
    "entity": "deal",
    "trigger": {"type": "manual"},
    "nodes": [
        {"id": "start", "type": "start", "next": "first"},
        {"id": "first", "type": "approval", "approvers": [{"user": "gm"}], "next": "big"},
        {
            "id": "big",
            "type": "condition",
            "branches": [{"when": "amount > 500000", "next": "second"}],
            "default": "second",
        },
        {"id": "second", "type": "approval", "approvers": [{"user": "cfo"}], "next": "end"},
        {"id": "end", "type": "end", "result": "approved"},
    ],
}
APP = {
    "name": "bench",
    "label": {"zh": "基准", "en": "Bench"},
    "entities": [
        {
            "name": "deal",
            "label": {"zh": "商机", "en": "Deal"},
            "fields": [
                {"name": "title", "type": "text", "label": {"zh": "标题", "en": "Title"}},
                {"name": "amount", "type": "number", "label": {"zh": "金额", "en": "Amount"}},
            ],
        }
    ],
    "roles": [
        {
            "name": "staff",
            "label": {"zh": "员工", "en": "Staff"},
            "everyone": True,
            "permissions": {"deal": {"read": True, "update": True}},
        }
    ],
}
BPMN = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
  targetNamespace="http://bpmn.io/schema/bpmn">
<bpmn:process id="two_step" isExecutable="true">
 <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
 <bpmn:userTask id="first"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
 <bpmn:exclusiveGateway id="big" default="f4"><bpmn:incoming>f2</bpmn:incoming>
  <bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
 <bpmn:userTask id="second"><bpmn:incoming>f3</bpmn:incoming><bpmn:incoming>f4</bpmn:incoming>
  <bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
 <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
 <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="first"/>
 <bpmn:sequenceFlow id="f2" sourceRef="first" targetRef="big"/>
 <bpmn:sequenceFlow id="f3" sourceRef="big" targetRef="second">
  <bpmn:conditionExpression>amount &gt; 500000</bpmn:conditionExpression></bpmn:sequenceFlow>
 <bpmn:sequenceFlow id="f4" sourceRef="big" targetRef="second"/>
 <bpmn:sequenceFlow id="f5" sourceRef="second" targetRef="end"/>
</bpmn:process></bpmn:definitions>"""


def rate(label: str, n: int, run: Callable[[], None]) -> float:
    gc.collect()
    began = time.perf_counter()
    run()
    per_second = n / (time.perf_counter() - began)
    print(f"{label:<48} {per_second:>9.0f} instances/s")
    return per_second


def tangram(n: int, folder: str) -> tuple[float, float, float]:
    settings = Settings(
        database_url=f"sqlite:///{folder}/tangram.db",
        data_dir=Path(folder) / "data",
        secret_key="bench",
        password_hash_cost=1,
    )
    platform = Platform(settings, plugins=[plugin], load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        ids = {
            name: create_user(conn, name, "bench-password", hash_cost=1) for name in ("owner", "gm", "cfo")
        }
        import_app(conn, APP, Context())
    ctx = {name: Context(user=Principal(i, name)) for name, i in ids.items()}
    admin = Context()
    service = flow_engine.FlowService(platform)
    service.put_flow(admin, "bench", "two_step", FLOW)
    service.publish(admin, "bench", "two_step")
    *records, probe = platform.records.bulk_create(
        admin, "bench", "deal", [{"title": f"deal {i}", "amount": 400_000 + 1000 * i} for i in range(n + 1)]
    )

    def one(record: dict[str, Any]) -> None:
        instance = service.start(ctx["owner"], "bench", "deal", record["id"], "two_step")
        first = next(t for t in instance["tasks"] if t["status"] == "open")
        service.act(ctx["gm"], first["id"], "approve", {})
        [second] = service.tasks(ctx["cfo"])
        service.act(ctx["cfo"], second["id"], "approve", {})

    def run() -> None:
        for record in records:
            one(record)

    result = rate("tangram, SQLite, 3 commits per instance", n, run)
    core, raw = floor(platform, [int(r["id"]) for r in records], ids)
    # One more instance, outside the timing: the SQL statements it runs (BEGINs counted).
    statements = []
    sa.event.listen(platform.db, "before_cursor_execute", lambda *_a: statements.append(1))
    one(probe)
    print(f"{'tangram, SQL statements per instance':<48} {len(statements):>9}")
    with platform.db.connect() as conn:
        done = conn.execute(sa.text("SELECT count(*) FROM flow_instances WHERE status = 'approved'")).scalar()
    assert done == n + 1, f"{done} of {n + 1} instances approved"
    platform.close()
    return result, core, raw


def floor(platform: Platform, records: list[int], users: dict[str, int]) -> tuple[float, float]:
    """The same three commits with the fewest statements a durable engine whose tasks are rows
    needs (the instance's node states and step log as JSON on its row), through SQLAlchemy Core
    with statements built once, and no flow logic at all: what the stack alone costs."""
    meta = sa.MetaData()
    inst = sa.Table(
        "floor_instances",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
    )
    task = sa.Table(
        "floor_tasks",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("instance_id", sa.Integer, nullable=False, index=True),
        sa.Column("assignee", sa.Integer, nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
    )
    meta.create_all(platform.db)
    tables = sa.MetaData()
    tables.reflect(platform.db, only=["tg_apps", "tg_users", "flow_versions", "bench__deal"])
    apps, users_t, versions, deal = (
        tables.tables[k] for k in ("tg_apps", "tg_users", "flow_versions", "bench__deal")
    )
    arg = sa.bindparam
    app_version = sa.select(apps.c.version).where(apps.c.name == arg("app"))
    record = sa.select(deal).where(deal.c.id == arg("id"))
    newest = sa.select(sa.func.max(versions.c.id)).where(versions.c.app == arg("app"))
    running = sa.select(inst.c.id).where(inst.c.record_id == arg("id"), inst.c.status == "running")
    user = sa.select(users_t.c.id).where(users_t.c.username == arg("name"))
    new_instance, new_task = inst.insert(), task.insert()
    set_state = inst.update().where(inst.c.id == arg("_id"))
    one_instance = sa.select(inst).where(inst.c.id == arg("id"))
    one_task = sa.select(task).where(task.c.id == arg("id"))
    decide = task.update().where(task.c.id == arg("_id")).values(status="approved")
    siblings = sa.select(task.c.id).where(task.c.instance_id == arg("id"), task.c.status == "open")
    inbox = sa.select(task).where(task.c.assignee == arg("user"), task.c.status == "open")

    def approval(conn: sa.Connection, instance: int, task_id: int) -> dict[str, Any]:
        conn.execute(app_version, {"app": "bench"}).scalar()
        row = conn.execute(one_instance, {"id": instance}).mappings().one()
        conn.execute(one_task, {"id": task_id}).one()
        conn.execute(decide, {"_id": task_id})
        conn.execute(siblings, {"id": instance}).all()
        return dict(row["state"])

    def one(record_id: int) -> None:
        with platform.db.begin() as conn:  # the start
            conn.execute(app_version, {"app": "bench"}).scalar()
            conn.execute(record, {"id": record_id}).one()
            conn.execute(newest, {"app": "bench"}).scalar()
            conn.execute(running, {"id": record_id}).first()
            gm = conn.execute(user, {"name": "gm"}).scalar_one()
            values = {"record_id": record_id, "status": "running", "state": {}}
            instance = _new_id(conn.execute(new_instance, values))
            first = _new_id(
                conn.execute(new_task, {"instance_id": instance, "assignee": gm, "status": "open"})
            )
            state = {"nodes": ["start", "first"], "log": ["started"]}
            conn.execute(set_state, {"_id": instance, "state": state})
        with platform.db.begin() as conn:  # the first approval, the condition, the next task
            state = approval(conn, instance, first)
            conn.execute(record, {"id": record_id}).one()
            cfo = conn.execute(user, {"name": "cfo"}).scalar_one()
            conn.execute(new_task, {"instance_id": instance, "assignee": cfo, "status": "open"})
            state = {"nodes": [*state["nodes"], "big", "second"], "log": [*state["log"], "approve"]}
            conn.execute(set_state, {"_id": instance, "state": state})
        with platform.db.connect() as conn:  # the second approver's inbox
            [second] = conn.execute(inbox, {"user": users["cfo"]}).all()
        with platform.db.begin() as conn:  # the second approval ends it
            state = approval(conn, instance, second.id)
            state = {"nodes": [*state["nodes"], "end"], "log": [*state["log"], "approve"]}
            conn.execute(set_state, {"_id": instance, "state": state, "status": "approved"})

    def run() -> None:
        for record_id in records:
            one(record_id)

    core = rate("floor: SQLAlchemy Core, 24 statements, no logic", len(records), run)
    with platform.db.begin() as conn:
        conn.execute(task.delete())
        conn.execute(inst.delete())
    raw_rate = raw_floor(platform, records, users)
    return core, raw_rate


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def raw_floor(platform: Platform, records: list[int], users: dict[str, int]) -> float:
    """``floor``'s statements on the driver's own connection (sqlite3): the same rows and
    commits without SQLAlchemy's execution layer."""
    raw = sqlite3.connect(platform.settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    raw.execute("PRAGMA synchronous=NORMAL")
    sql = raw.execute

    def approval(instance: int, task_id: int) -> dict[str, Any]:
        sql("SELECT version FROM tg_apps WHERE name = ?", ("bench",)).fetchone()
        state = sql("SELECT * FROM floor_instances WHERE id = ?", (instance,)).fetchone()[3]
        sql("SELECT * FROM floor_tasks WHERE id = ?", (task_id,)).fetchone()
        sql("UPDATE floor_tasks SET status = 'approved' WHERE id = ?", (task_id,))
        sql("SELECT id FROM floor_tasks WHERE instance_id = ? AND status = 'open'", (instance,)).fetchall()
        return dict(json.loads(state))

    def one(record_id: int) -> None:
        sql("BEGIN IMMEDIATE")
        sql("SELECT version FROM tg_apps WHERE name = ?", ("bench",)).fetchone()
        sql("SELECT * FROM bench__deal WHERE id = ?", (record_id,)).fetchone()
        sql("SELECT max(id) FROM flow_versions WHERE app = ?", ("bench",)).fetchone()
        sql(
            "SELECT id FROM floor_instances WHERE record_id = ? AND status = 'running'", (record_id,)
        ).fetchone()
        gm = sql("SELECT id FROM tg_users WHERE username = ?", ("gm",)).fetchone()[0]
        instance = int(
            sql(
                "INSERT INTO floor_instances (record_id, status, state) VALUES (?, 'running', '{}')",
                (record_id,),
            ).lastrowid
            or 0
        )
        first = sql(
            "INSERT INTO floor_tasks (instance_id, assignee, status) VALUES (?, ?, 'open')", (instance, gm)
        )
        state = {"nodes": ["start", "first"], "log": ["started"]}
        sql("UPDATE floor_instances SET state = ? WHERE id = ?", (json.dumps(state), instance))
        sql("COMMIT")
        sql("BEGIN IMMEDIATE")
        state = approval(instance, int(first.lastrowid or 0))
        sql("SELECT * FROM bench__deal WHERE id = ?", (record_id,)).fetchone()
        cfo = sql("SELECT id FROM tg_users WHERE username = ?", ("cfo",)).fetchone()[0]
        sql("INSERT INTO floor_tasks (instance_id, assignee, status) VALUES (?, ?, 'open')", (instance, cfo))
        state = {"nodes": [*state["nodes"], "big", "second"], "log": [*state["log"], "approve"]}
        sql("UPDATE floor_instances SET state = ? WHERE id = ?", (json.dumps(state), instance))
        sql("COMMIT")
        sql("BEGIN")
        [second] = sql(
            "SELECT * FROM floor_tasks WHERE assignee = ? AND status = 'open'", (users["cfo"],)
        ).fetchall()
        sql("COMMIT")
        sql("BEGIN IMMEDIATE")
        state = approval(instance, second[0])
        state = {"nodes": [*state["nodes"], "end"], "log": [*state["log"], "approve"]}
        sql(
            "UPDATE floor_instances SET state = ?, status = 'approved' WHERE id = ?",
            (json.dumps(state), instance),
        )
        sql("COMMIT")

    def run() -> None:
        for record_id in records:
            one(record_id)

    try:
        return rate("floor: raw sqlite3, the same statements", len(records), run)
    finally:
        raw.close()


def spiff(n: int, folder: str) -> tuple[float, float, float]:
    if not (DEPS / "SpiffWorkflow").is_dir():
        raise SystemExit(f"install SpiffWorkflow apart first: pip install --target {DEPS} spiffworkflow")
    sys.path.insert(0, str(DEPS))
    BpmnWorkflow = importlib.import_module("SpiffWorkflow.bpmn").BpmnWorkflow
    BpmnParser = importlib.import_module("SpiffWorkflow.bpmn.parser").BpmnParser
    BpmnWorkflowSerializer = importlib.import_module("SpiffWorkflow.bpmn.serializer").BpmnWorkflowSerializer
    TaskState = importlib.import_module("SpiffWorkflow.util.task").TaskState

    parser = BpmnParser()
    parser.add_bpmn_str(BPMN)
    spec = parser.get_spec("two_step")
    serializer = BpmnWorkflowSerializer()

    def approve(workflow: Any) -> None:
        [task] = workflow.get_tasks(state=TaskState.READY, manual=True)
        task.data["amount"] = workflow.data["amount"]  # the record the gateway's condition reads
        task.run()
        workflow.do_engine_steps()

    def start(i: int) -> Any:
        workflow = BpmnWorkflow(spec)
        workflow.data["amount"] = 400_000 + 1000 * i
        workflow.do_engine_steps()
        return workflow

    def in_memory() -> None:
        for i in range(n):
            workflow = start(i)
            approve(workflow)
            approve(workflow)
            assert workflow.is_completed()

    def round_trip() -> None:
        for i in range(n):
            workflow = start(i)
            approve(workflow)
            workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
            approve(workflow)
            assert workflow.is_completed()

    db = sa.create_engine(f"sqlite:///{folder}/spiff.db")
    meta = sa.MetaData()
    table = sa.Table(
        "workflows",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("done", sa.Boolean, nullable=False),
    )
    meta.create_all(db)

    def persisted() -> None:
        for i in range(n):
            with db.begin() as conn:  # the start
                workflow = start(i)
                key = conn.execute(
                    table.insert()
                    .values(state=serializer.serialize_json(workflow), done=False)
                    .returning(table.c.id)
                ).scalar_one()
            for _approval in range(2):  # each approval: load, run, save
                with db.begin() as conn:
                    state = conn.execute(sa.select(table.c.state).where(table.c.id == key)).scalar_one()
                    workflow = serializer.deserialize_json(state)
                    approve(workflow)
                    conn.execute(
                        table.update()
                        .where(table.c.id == key)
                        .values(state=serializer.serialize_json(workflow), done=workflow.is_completed())
                    )

    memory = rate("SpiffWorkflow, in memory", n, in_memory)
    json_rate = rate("SpiffWorkflow, one JSON round trip per instance", n, round_trip)
    stored = rate("SpiffWorkflow, SQLite, 3 commits per instance", n, persisted)
    db.dispose()
    return memory, json_rate, stored


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="a few instances: does it still run")
    args = parser.parse_args()
    n = 20 if args.smoke else args.instances
    with tempfile.TemporaryDirectory() as folder:
        memory, json_rate, stored = spiff(n, folder)
        ours, core, raw = tangram(n, folder)
    print(f"tangram / SpiffWorkflow JSON round trip      {ours / json_rate:>6.2f}x  (goal >= 1)")
    print(f"tangram / SpiffWorkflow persisted            {ours / stored:>6.2f}x  (goal >= 10)")
    print(f"tangram / SpiffWorkflow in memory            {ours / memory:>6.2f}x")
    # What the goals ask of the stack: the floor has the statements and commits, and no logic.
    print(f"Core floor / SpiffWorkflow JSON round trip   {core / json_rate:>6.2f}x")
    print(f"Core floor / SpiffWorkflow persisted         {core / stored:>6.2f}x")
    print(f"raw floor / SpiffWorkflow JSON round trip    {raw / json_rate:>6.2f}x")
    print(f"tangram / Core floor                         {ours / core:>6.2f}x")


if __name__ == "__main__":
    main()
