"""Parallel branches, schedules and the actions not covered by the scenarios, run end to end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from engine.schema.system_tables import jobs as kernel_jobs
from tests.flow_engine.conftest import World

L = {"zh": "流程", "en": "Flow"}


def parallel(mode: str) -> dict[str, Any]:
    return {
        "name": f"parallel_{mode}",
        "label": L,
        "entity": "contract",
        "trigger": {"type": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "next": "fork"},
            {"id": "fork", "type": "split", "next": ["legal", "money"]},
            {"id": "legal", "type": "approval", "approvers": [{"user": "gm"}], "next": "meet"},
            {"id": "money", "type": "approval", "approvers": [{"user": "cfo"}], "next": "meet"},
            {"id": "meet", "type": "join", "split": "fork", "mode": mode, "next": "mark"},
            {
                "id": "mark",
                "type": "action",
                "actions": [{"type": "set_fields", "values": {"status": "已审批"}}],
                "next": "end",
            },
            {"id": "end", "type": "end", "result": "approved"},
        ],
    }


def _start(world: World, flow: dict[str, Any]) -> tuple[int, int]:
    world.put_flows(flow)
    contract = world.create("contract", {"title": "并行", "amount": 1, "status": "草稿"})
    instance = world.service.start(world.ctx("owner"), "crm", "contract", contract["id"], flow["name"])
    return contract["id"], instance["id"]


def test_a_join_of_all_waits_for_every_branch(world: World) -> None:
    contract, instance = _start(world, parallel("all"))
    assert (len(world.tasks("gm")), len(world.tasks("cfo"))) == (1, 1)
    world.act("gm", world.tasks("gm")[0]["id"], "approve")
    assert world.get("contract", contract)["status"] == "草稿"
    world.act("cfo", world.tasks("cfo")[0]["id"], "approve")
    assert world.get("contract", contract)["status"] == "已审批"
    view = world.service.instance(world.ctx("admin"), instance)
    assert view["status"] == "approved"
    assert [s["action"] for s in view["steps"]].count("action:set_fields") == 1  # joined once


def test_a_join_of_any_goes_on_with_the_first_branch_and_cancels_the_other(world: World) -> None:
    contract, instance = _start(world, parallel("any"))
    world.act("cfo", world.tasks("cfo")[0]["id"], "approve")
    assert world.get("contract", contract)["status"] == "已审批"
    assert world.tasks("gm") == []
    assert world.service.instance(world.ctx("admin"), instance)["status"] == "approved"


def test_a_schedule_starts_one_instance_per_matching_record_at_each_firing(world: World) -> None:
    flow = {
        "name": "weekday_nudge",
        "label": L,
        "entity": "opportunity",
        "trigger": {
            "type": "schedule",
            "cron": "0 9 * * 1-5",
            "timezone": "Asia/Shanghai",
            "filter": "stage == '报价'",
        },
        "nodes": [
            {"id": "start", "type": "start", "next": "tell"},
            {
                "id": "tell",
                "type": "action",
                "actions": [
                    {
                        "type": "notify",
                        "to": [{"field": "owner"}],
                        "title": {"zh": "跟进 {title}", "en": "Follow up {title}"},
                    }
                ],
                "next": "end",
            },
            {"id": "end", "type": "end"},
        ],
    }
    world.create("opportunity", {"title": "报价中", "stage": "报价"})
    world.create("opportunity", {"title": "刚接洽", "stage": "初步接洽"})
    world.clock.now = datetime(2024, 9, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 Beijing
    world.put_flows(flow)
    world.clock.now = datetime(2024, 9, 29, 12, 0, tzinfo=UTC)  # the weekend: no firing yet
    assert world.run_due() == 0
    world.clock.now = datetime(2024, 10, 1, 2, 0, tzinfo=UTC)  # Monday 09:00 and Tuesday 09:00 passed
    world.run_due()
    assert [n["title"]["zh"] for n in world.notifications("owner")] == ["跟进 报价中", "跟进 报价中"]
    world.run_due()  # nothing fires twice
    assert len(world.notifications("owner")) == 2


def test_actions_update_related_records_start_flows_and_queue_webhooks(world: World) -> None:
    follow = {
        "name": "follow",
        "label": L,
        "entity": "account",
        "trigger": {"type": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "next": "end"},
            {"id": "end", "type": "end"},
        ],
    }
    main = {
        "name": "cascade",
        "label": L,
        "entity": "account",
        "trigger": {"type": "record", "on": ["updated"], "when": "changed(grade) and grade == 'A'"},
        "nodes": [
            {"id": "start", "type": "start", "next": "act"},
            {
                "id": "act",
                "type": "action",
                "actions": [
                    {
                        "type": "update_related",
                        "entity": "contract",
                        "via": "account",
                        "values": {"note": {"expr": "'客户升级为 ' + grade"}},
                    },
                    {
                        "type": "call_webhook",
                        "url": "https://example.com/hook",
                        "body": {"event": "upgraded"},
                    },
                    {"type": "cc", "to": [{"user": "director"}]},
                    {"type": "start_flow", "flow": "follow"},
                ],
                "next": "end",
            },
            {"id": "end", "type": "end"},
        ],
    }
    world.put_flows(follow, main)
    account = world.create("account", {"name": "甲", "grade": "B"})
    contracts = [world.create("contract", {"title": f"合同{i}", "account": account["id"]}) for i in range(2)]
    world.update("account", account["id"], {"grade": "A"})
    assert [world.get("contract", c["id"])["note"] for c in contracts] == ["客户升级为 A"] * 2
    with world.platform.db.connect() as conn:
        hooks = list(
            conn.execute(
                sa.select(kernel_jobs.c.payload).where(kernel_jobs.c.kind == "webhook.deliver")
            ).scalars()
        )
    assert [(h["url"], h["body"]["record"]["name"], h["body"]["data"]) for h in hooks] == [
        ("https://example.com/hook", "甲", {"event": "upgraded"})
    ]
    assert hooks[0]["idempotency_key"]
    [copy] = world.tasks("director")
    assert copy["kind"] == "cc"
    assert world.act("director", copy["id"], "read")["status"] == "read"
    assert world.tasks("director") == []
    assert sorted((i["flow"], i["status"]) for i in world.instances("account", account["id"])) == [
        ("cascade", "done"),
        ("follow", "done"),
    ]
