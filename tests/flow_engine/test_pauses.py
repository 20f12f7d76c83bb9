"""A time limit's ``pause_while``: the clock stops while the rule holds for the record and runs
on with the time that was left, for waits and approvals, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.flow_engine.conftest import World, signed_in

T0 = datetime(2024, 11, 4, 2, 0, tzinfo=UTC)
LIMIT = {"after": {"hours": 10}, "policy": "remind", "pause_while": "priority == 'normal'"}


def _flow(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "watch",
        "label": {"zh": "时限", "en": "Limit"},
        "entity": "ticket",
        "trigger": {"type": "record", "on": ["created"]},
        "nodes": [
            {"id": "start", "type": "start", "next": "watch"},
            {**node, "id": "watch", "next": "end"},
            {"id": "end", "type": "end"},
        ],
    }


WAIT = _flow({"type": "wait", "until": "responded_at is not null", "limit": LIMIT})
APPROVAL = _flow(
    {"type": "approval", "approvers": [{"user": "gm"}], "editable": ["priority"], "limit": LIMIT}
)


def _overdue(world: World, username: str) -> list[str]:
    return [
        n["title"]["zh"] for n in world.notifications(username) if n["title"]["zh"].startswith("待办已超时")
    ]


def _iso(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _at(world: World, hours: float) -> None:
    world.clock.now = T0 + timedelta(hours=hours)
    world.run_due()


def test_a_paused_wait_reminds_only_after_the_time_left(world: World) -> None:
    world.put_flows(WAIT)
    world.clock.now = T0
    running = world.create("ticket", {"title": "计时", "priority": "high"})
    parked = world.create("ticket", {"title": "暂停起步", "priority": "normal"})  # paused from the start
    _at(world, 4)
    world.update("ticket", running["id"], {"priority": "normal"})  # 6 of 10 hours left
    _at(world, 20)
    assert _overdue(world, "owner") == []  # both deadlines first set (T0 + 10 h) have passed
    world.update("ticket", running["id"], {"priority": "high"})  # due at 20 + 6
    world.update("ticket", parked["id"], {"priority": "high"})  # due at 20 + 10
    _at(world, 25.98)
    assert _overdue(world, "owner") == []
    _at(world, 26.02)
    assert _overdue(world, "owner") == ["待办已超时：计时"]
    _at(world, 30.02)
    assert _overdue(world, "owner") == ["待办已超时：计时", "待办已超时：暂停起步"]


def test_an_approvals_task_has_no_due_time_while_paused_and_a_new_one_after(world: World) -> None:
    world.put_flows(APPROVAL)
    world.clock.now = T0
    ticket = world.create("ticket", {"title": "审批", "priority": "high"})
    [task] = world.tasks("gm")
    assert task["due_at"] == _iso(10)
    _at(world, 3)
    world.update("ticket", ticket["id"], {"priority": "normal"}, as_user="gm")  # the approver may
    assert world.tasks("gm")[0]["due_at"] is None
    _at(world, 12)
    world.update("ticket", ticket["id"], {"priority": "high"}, as_user="gm")
    assert world.tasks("gm")[0]["due_at"] == _iso(19)
    _at(world, 19.02)
    assert _overdue(world, "gm") == ["待办已超时：审批"]


def test_a_pause_rule_that_does_not_compile_is_refused_at_save(world: World, http: TestClient) -> None:
    flow = _flow({"type": "wait", "for": {"hours": 1}, "limit": {**LIMIT, "pause_while": "prority == 'x'"}})
    r = http.put("/api/apps/crm/flows/watch", headers=signed_in(http, "admin"), json=flow)
    assert r.status_code == 422, r.text
    [problem] = r.json()["error"]["problems"]
    assert (problem["code"], problem["pointer"]) == ("flow_dsl", "/flows/0/nodes/1/limit/pause_while")
