"""Nothing lost, nothing twice: a process killed right after a record commit still starts its
flow once; a step re-run after a crash (its job not marked done) changes nothing more."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

import flow_engine
from engine.schema.system_tables import jobs as kernel_jobs
from tests.flow_engine.conftest import JobCall, World

ROOT = Path(__file__).resolve().parents[2]

AUTOMATION = {
    "name": "welcome",
    "label": {"zh": "欢迎", "en": "Welcome"},
    "entity": "lead",
    "trigger": {"type": "record", "on": ["created"]},
    "nodes": [
        {"id": "start", "type": "start", "next": "make"},
        {
            "id": "make",
            "type": "action",
            "actions": [
                {
                    "type": "create_record",
                    "entity": "opportunity",
                    "values": {"title": {"field": "name"}, "stage": "初步接洽"},
                }
            ],
            "next": "review",
        },
        {"id": "review", "type": "approval", "approvers": [{"user": "gm"}], "next": "end"},
        {"id": "end", "type": "end"},
    ],
}

#: Writes one lead as the platform does, and dies (SIGKILL) the moment the write committed,
#: before anything after the commit could run.
KILLED_WRITER = textwrap.dedent(
    """
    import json, os, signal, sys
    from engine import Context, Platform, Principal, Settings, hookimpl
    from flow_engine import plugin

    class DieAfterCommit:
        @hookimpl(tryfirst=True)
        def tangram_record_event(self, event, platform):
            os.kill(os.getpid(), signal.SIGKILL)

    options = json.loads(sys.argv[1])
    settings = Settings(**options["settings"])
    platform = Platform(settings, plugins=[plugin, DieAfterCommit()], load_entry_points=False)
    platform.init_database()
    owner = Context(user=Principal(options["user"], "owner"))
    platform.records.create(owner, "crm", "lead", {"name": "杀不死的线索"})
    print("not killed")
    """
)


def _opportunities(world: World) -> list[str]:
    return [
        r["title"]
        for r in world.platform.records.list_records(world.ctx("admin"), "crm", "opportunity").items
    ]


def _jobs(world: World) -> list[Any]:
    with world.platform.db.connect() as conn:
        return list(conn.execute(sa.select(kernel_jobs).order_by(kernel_jobs.c.id)).mappings())


def test_a_process_killed_after_the_record_commit_still_starts_the_flow_once(world: World) -> None:
    world.put_flows(AUTOMATION)
    settings = world.platform.settings
    options = {
        "settings": {
            "database_url": settings.database_url,
            "data_dir": str(settings.data_dir),
            "secret_key": "test-secret",
        },
        "user": world.users["owner"],
    }
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, json.dumps(options)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    [lead] = world.platform.records.list_records(world.ctx("admin"), "crm", "lead").items
    # committed with the lead: the instance, not yet started, and the job that starts it
    [instance] = world.instances("lead", lead["id"])
    assert instance["status"] == "starting"
    assert [j["kind"] for j in _jobs(world)] == ["flow.advance"]
    assert _opportunities(world) == []

    world.clock.now = datetime.now(UTC)  # the killed process ran on the wall clock
    assert world.run_due() == 1  # the worker, after the restart
    assert world.run_due() == 0
    assert _opportunities(world) == ["杀不死的线索"]
    assert [i["status"] for i in world.instances("lead", lead["id"])] == ["running"]
    assert len(world.tasks("gm")) == 1


def test_a_step_run_again_after_a_crash_creates_nothing_twice(world: World) -> None:
    world.put_flows(AUTOMATION)
    lead = world.create("lead", {"name": "重复的线索"})  # started at once, in this process
    [instance] = world.instances("lead", lead["id"])
    [job] = _jobs(world)
    handler = flow_engine.job_handlers(world.platform)["flow.advance"]
    # a worker that ran the job but died before marking it done: the job runs again
    for attempt in (1, 2):
        with world.platform.transaction() as conn:  # a job's own transaction, as the runner opens
            handler(JobCall(world.platform, conn, job["payload"], attempt, job["id"]))
    assert _opportunities(world) == ["重复的线索"]
    assert len(world.tasks("gm")) == 1
    steps = world.service.instance(world.ctx("admin"), instance["id"])["steps"]
    assert [s["action"] for s in steps].count("started") == 1


def test_a_timer_fired_twice_acts_once(world: World) -> None:
    flow = {
        "name": "chase",
        "label": {"zh": "催办", "en": "Chase"},
        "entity": "contract",
        "trigger": {"type": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "next": "review"},
            {
                "id": "review",
                "type": "approval",
                "approvers": [{"user": "gm"}],
                "limit": {"after": {"hours": 4}, "policy": "approve"},
                "next": "end",
            },
            {"id": "end", "type": "end", "result": "approved"},
        ],
    }
    world.put_flows(flow)
    contract = world.create("contract", {"title": "合同", "amount": 1})
    instance = world.service.start(world.ctx("owner"), "crm", "contract", contract["id"], "chase")
    [timer] = [j for j in _jobs(world) if j["kind"] == "flow.timer"]
    world.clock.advance(hours=5)
    handler = flow_engine.job_handlers(world.platform)["flow.timer"]
    for attempt in (1, 2):
        with world.platform.transaction() as conn:
            handler(JobCall(world.platform, conn, timer["payload"], attempt, timer["id"]))
    view = world.service.instance(world.ctx("admin"), instance["id"])
    assert view["status"] == "approved"
    assert [s["action"] for s in view["steps"]].count("overdue:approve") == 1
