"""Benchmark of the flow engine against SpiffWorkflow (BPMN), on the same process:
start -> approval -> condition -> approval -> end.

Tangram: N instances through the Python API on SQLite, every user action (the start, each
approval) committed on its own, as a server does. SpiffWorkflow (PyPI ``spiffworkflow``,
installed apart in ``bench/.deps`` like the PyPI rule-engine): the same process in memory,
then with one JSON serialise/deserialise per instance, then persisted to SQLite with the same
three commits per instance (its JSON loaded, run, saved back each time).

Goals (issue 11): at least SpiffWorkflow's JSON-round-trip rate while committing every action,
and at least 10x its persisted rate.

Run: ``.venv/bin/python bench/flows.py [--instances 2000] [--smoke]`` from the repository root.
"""

from __future__ import annotations

import argparse
import gc
import importlib
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


def tangram(n: int, folder: str) -> float:
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
    # One more instance, outside the timing: the SQL statements it runs (BEGINs counted).
    statements = []
    sa.event.listen(platform.db, "before_cursor_execute", lambda *_a: statements.append(1))
    one(probe)
    print(f"{'tangram, SQL statements per instance':<48} {len(statements):>9}")
    with platform.db.connect() as conn:
        done = conn.execute(sa.text("SELECT count(*) FROM flow_instances WHERE status = 'approved'")).scalar()
    assert done == n + 1, f"{done} of {n + 1} instances approved"
    platform.close()
    return result


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
        ours = tangram(n, folder)
    print(f"tangram / SpiffWorkflow JSON round trip      {ours / json_rate:>6.2f}x  (goal >= 1)")
    print(f"tangram / SpiffWorkflow persisted            {ours / stored:>6.2f}x  (goal >= 10)")
    print(f"tangram / SpiffWorkflow in memory            {ours / memory:>6.2f}x")


if __name__ == "__main__":
    main()
