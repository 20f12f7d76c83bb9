"""Approval modes and task actions: 或签, 会签, 比例, 依次; 加签, 转交, 退回, 撤回, 抄送; the
record lock while an approval runs; the HTTP answers for tasks that are not yours or done."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Conflict, Forbidden, InvalidInput
from tests.flow_engine.conftest import World, signed_in

L = {"zh": "审批", "en": "Approval"}


def approval_flow(name: str = "approve", **node: Any) -> dict[str, Any]:
    step = {"id": "review", "type": "approval", "approvers": [{"user": "gm"}], "next": "end", **node}
    return {
        "name": name,
        "label": L,
        "entity": "contract",
        "trigger": {"type": "manual"},
        "nodes": [
            {"id": "start", "type": "start", "next": "review"},
            step,
            {"id": "end", "type": "end", "result": "approved"},
        ],
    }


THREE = [{"user": "gm"}, {"user": "cfo"}, {"user": "director"}]


def start(world: World, flow: dict[str, Any], starter: str = "owner") -> tuple[int, int]:
    world.put_flows(flow)
    contract = world.create("contract", {"title": "合同", "amount": 100}, as_user=starter)
    instance = world.service.start(world.ctx(starter), "crm", "contract", contract["id"], flow["name"])
    return contract["id"], instance["id"]


def status(world: World, instance_id: int) -> str:
    return str(world.service.instance(world.ctx("admin"), instance_id)["status"])


def task_of(world: World, user: str) -> int:
    [task] = world.tasks(user)
    return int(task["id"])


def statuses(world: World, instance_id: int) -> dict[str, str]:
    tasks = world.service.instance(world.ctx("admin"), instance_id)["tasks"]
    names = {v: k for k, v in world.users.items()}
    return {names[t["assignee"]]: t["status"] for t in tasks}


def test_any_one_approves_and_the_others_tasks_close_as_not_needed(world: World) -> None:
    _c, instance = start(world, approval_flow(mode="any", approvers=THREE))
    world.act("cfo", task_of(world, "cfo"), "approve")
    assert status(world, instance) == "approved"
    assert statuses(world, instance) == {"gm": "cancelled", "cfo": "approved", "director": "cancelled"}
    assert world.tasks("gm") == []


def test_all_must_approve_and_one_rejection_rejects(world: World) -> None:
    _c, instance = start(world, approval_flow(mode="all", approvers=THREE))
    world.act("gm", task_of(world, "gm"), "approve")
    assert status(world, instance) == "running"
    world.act("director", task_of(world, "director"), "reject", comment="价格太低")
    assert status(world, instance) == "rejected"
    assert statuses(world, instance) == {"gm": "approved", "cfo": "cancelled", "director": "rejected"}


def test_percentage_approves_at_the_share_and_rejects_once_it_cannot_be_reached(world: World) -> None:
    _c, passing = start(world, approval_flow(mode="percent", percent=60, approvers=THREE))
    world.act("gm", task_of(world, "gm"), "approve")
    world.act("cfo", task_of(world, "cfo"), "reject")
    assert status(world, passing) == "running"  # 1 of 3 approved, 2 of 3 still possible
    world.act("director", task_of(world, "director"), "approve")
    assert status(world, passing) == "approved"  # 2 of 3 >= 60 %

    _c, failing = start(world, approval_flow("approve2", mode="percent", percent=60, approvers=THREE))
    world.act("gm", task_of(world, "gm"), "reject")
    world.act("cfo", task_of(world, "cfo"), "reject")
    assert status(world, failing) == "rejected"  # at most 1 of 3 left
    assert statuses(world, failing)["director"] == "cancelled"


def test_sequential_approvers_get_their_task_one_after_another(world: World) -> None:
    _c, instance = start(world, approval_flow(mode="sequential", approvers=THREE))
    assert (len(world.tasks("gm")), world.tasks("cfo"), world.tasks("director")) == (1, [], [])
    world.act("gm", task_of(world, "gm"), "approve")
    assert world.tasks("director") == []
    world.act("cfo", task_of(world, "cfo"), "approve")
    world.act("director", task_of(world, "director"), "approve")
    assert status(world, instance) == "approved"


def test_add_signer_before_decides_first_then_the_adder_again(world: World) -> None:
    _c, instance = start(world, approval_flow(mode="all"))
    world.act(
        "gm", task_of(world, "gm"), "add-signer", to="senior", position="before", comment="请先看技术条款"
    )
    assert world.tasks("gm") == []
    world.act("senior", task_of(world, "senior"), "approve")
    assert status(world, instance) == "running"
    world.act("gm", task_of(world, "gm"), "approve")
    assert status(world, instance) == "approved"


def test_add_signer_after_opens_once_the_adder_approved(world: World) -> None:
    _c, instance = start(world, approval_flow(mode="all"))
    world.act("gm", task_of(world, "gm"), "add-signer", to="cfo", position="after")
    assert world.tasks("cfo") == []
    world.act("gm", task_of(world, "gm"), "approve")
    assert status(world, instance) == "running"
    world.act("cfo", task_of(world, "cfo"), "approve")
    assert status(world, instance) == "approved"


def test_transfer_hands_the_task_over_and_keeps_the_original_assignee(world: World) -> None:
    _c, instance = start(world, approval_flow())
    world.act("gm", task_of(world, "gm"), "transfer", to="director", comment="出差，请代批")
    world.act("director", task_of(world, "director"), "transfer", to="cfo")
    [task] = world.tasks("cfo")
    assert task["transferred_from"] == world.users["gm"]
    world.act("cfo", task["id"], "approve")
    assert status(world, instance) == "approved"


def test_return_sends_the_instance_back_to_a_node_passed_before(world: World) -> None:
    flow = approval_flow(next="second")
    flow["nodes"].insert(
        2, {"id": "second", "type": "approval", "approvers": [{"user": "cfo"}], "next": "end"}
    )
    _c, instance = start(world, flow)
    with pytest.raises(InvalidInput):  # nothing before the first approval but the submitter
        world.act("gm", task_of(world, "gm"), "return", to="second")
    world.act("gm", task_of(world, "gm"), "approve")
    world.act("cfo", task_of(world, "cfo"), "return", to="review", comment="请总经理再确认金额")
    assert len(world.tasks("gm")) == 1 and world.tasks("cfo") == []
    world.act("gm", task_of(world, "gm"), "approve")
    world.act("cfo", task_of(world, "cfo"), "approve")
    assert status(world, instance) == "approved"
    log = [(s["node"], s["action"]) for s in world.service.instance(world.ctx("admin"), instance)["steps"]]
    assert ("second", "return") in log


def test_submitter_withdraws_until_someone_acted(world: World) -> None:
    _c, early = start(world, approval_flow(mode="all", approvers=THREE))
    with pytest.raises(Forbidden):
        world.service.withdraw(world.ctx("gm"), early)
    world.act("gm", task_of(world, "gm"), "comment", comment="看一下")  # a comment is no decision
    world.service.withdraw(world.ctx("owner"), early)
    assert status(world, early) == "withdrawn" and world.tasks("cfo") == []

    _c, late = start(world, approval_flow("approve2", mode="all", approvers=THREE))
    world.act("gm", task_of(world, "gm"), "approve")
    with pytest.raises(Conflict):
        world.service.withdraw(world.ctx("owner"), late)
    assert status(world, late) == "running"


def test_carbon_copy_node_leaves_a_read_only_inbox_item(world: World) -> None:
    flow = approval_flow(next="tell")
    flow["nodes"].insert(2, {"id": "tell", "type": "cc", "to": [{"user": "director"}], "next": "end"})
    _c, instance = start(world, flow)
    world.act("gm", task_of(world, "gm"), "approve")
    assert status(world, instance) == "approved"
    [copy] = world.tasks("director")
    assert copy["kind"] == "cc"
    with pytest.raises(InvalidInput):
        world.act("director", copy["id"], "approve")
    world.act("director", copy["id"], "read")
    assert world.tasks("director") == []


def test_the_record_is_locked_except_for_the_current_approver_and_the_fields_allowed(world: World) -> None:
    contract, instance = start(world, approval_flow(editable=["note"]))
    with pytest.raises(Conflict):
        world.update("contract", contract, {"amount": 1})
    with pytest.raises(Conflict):
        world.update("contract", contract, {"note": "owner may not"})
    world.update("contract", contract, {"note": "总经理批注"}, as_user="gm")
    with pytest.raises(Conflict):
        world.update("contract", contract, {"amount": 2}, as_user="gm")
    # the data as submitted is kept with the instance
    assert Decimal(world.service.instance(world.ctx("admin"), instance)["snapshot"]["amount"]) == 100
    world.act("gm", task_of(world, "gm"), "approve")
    assert world.update("contract", contract, {"amount": 3})["amount"] == 3


def test_approvers_that_resolve_to_nobody_follow_the_node_policy(world: World) -> None:
    nobody = [{"role": "ceo"}, {"department": "没有这个部门"}]
    with pytest.raises(InvalidInput):
        start(world, approval_flow("refuse", approvers=[{"department": "没有这个部门"}], if_nobody="refuse"))
    [refused] = world.platform.records.list_records(world.ctx("admin"), "crm", "contract").items
    assert world.instances("contract", refused["id"]) == []  # refused to start: nothing recorded
    _c, auto = start(world, approval_flow("auto", approvers=nobody[1:], if_nobody="approve"))
    assert status(world, auto) == "approved"
    _c, to_admin = start(world, approval_flow("admin", approvers=nobody[1:], if_nobody="admin"))
    world.act("admin", task_of(world, "admin"), "approve")
    assert status(world, to_admin) == "approved"


def test_http_task_actions_answer_403_for_others_and_409_when_done(world: World, http: TestClient) -> None:
    world.put_flows(approval_flow())
    contract = world.create("contract", {"title": "合同", "amount": 100})
    owner = signed_in(http, "owner")
    r = http.post(f"/api/apps/crm/records/contract/{contract['id']}/flows/approve", headers=owner)
    assert r.status_code == 201, r.text
    instance = r.json()
    assert [(n["id"], n["state"]) for n in instance["nodes"]] == [
        ("start", "done"),
        ("review", "waiting"),
        ("end", None),
    ]
    gm = signed_in(http, "gm")
    [task] = http.get("/api/tasks", headers=gm).json()
    r = http.post(f"/api/tasks/{task['id']}/approve", headers=owner, json={})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "forbidden"
    r = http.post(f"/api/tasks/{task['id']}/approve", headers=gm, json={"comment": "同意"})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    r = http.post(f"/api/tasks/{task['id']}/reject", headers=gm, json={})
    assert r.status_code == 409, r.text
    r = http.post("/api/tasks/999999/approve", headers=gm, json={})
    assert r.status_code == 404, r.text
    r = http.post(f"/api/tasks/{task['id']}/explode", headers=gm, json={})
    assert r.status_code == 422, r.text
    listed = http.get(f"/api/apps/crm/records/contract/{contract['id']}/flow-instances", headers=owner).json()
    assert [(i["flow"], i["status"]) for i in listed] == [("approve", "approved")]
    r = http.get(f"/api/flow-instances/{instance['id']}", headers=owner)
    assert [s["action"] for s in r.json()["steps"] if s["node"] == "review"][-2:] == ["approve", "approved"]
    r = http.post(f"/api/flow-instances/{instance['id']}/withdraw", headers=owner)
    assert r.status_code == 409, r.text


def test_http_manual_start_needs_a_readable_record_and_a_manual_flow(world: World, http: TestClient) -> None:
    world.put_flows(approval_flow())
    owner = signed_in(http, "owner")
    r = http.post("/api/apps/crm/records/contract/424242/flows/approve", headers=owner)
    assert r.status_code == 404, r.text
    contract = world.create("contract", {"title": "合同", "amount": 100})
    r = http.post(f"/api/apps/crm/records/contract/{contract['id']}/flows/nothing", headers=owner)
    assert r.status_code == 404, r.text
    assert (
        http.post(f"/api/apps/crm/records/contract/{contract['id']}/flows/approve", headers=owner).status_code
        == 201
    )
    r = http.post(f"/api/apps/crm/records/contract/{contract['id']}/flows/approve", headers=owner)
    assert r.status_code == 409, r.text


def test_admin_reassigns_a_task(world: World, http: TestClient) -> None:
    _c, instance = start(world, approval_flow())
    task = task_of(world, "gm")
    r = http.post(f"/api/tasks/{task}/reassign", headers=signed_in(http, "gm"), json={"to": "cfo"})
    assert r.status_code == 403, r.text
    r = http.post(f"/api/tasks/{task}/reassign", headers=signed_in(http, "admin"), json={"to": "cfo"})
    assert r.status_code == 200, r.text
    world.act("cfo", task_of(world, "cfo"), "approve")
    assert status(world, instance) == "approved"


def test_a_task_remembered_under_another_instance_is_still_acted_on_in_its_own(world: World) -> None:
    """The runner remembers which instance each task it showed belongs to; a wrong memory costs
    a lookup, never an act on the wrong instance nor a change to it."""
    world.put_flows(approval_flow())
    started = [
        world.service.start(
            world.ctx("owner"), "crm", "contract", world.create("contract", {"title": t})["id"], "approve"
        )
        for t in ("合同甲", "合同乙")
    ]
    [task] = started[0]["tasks"]
    world.service.runner.seen([(task["id"], started[1]["id"], "crm", "approve")])
    assert world.act("gm", task["id"], "approve")["status"] == "approved"
    assert status(world, started[0]["id"]) == "approved"
    assert status(world, started[1]["id"]) == "running"
    assert statuses(world, started[1]["id"]) == {"gm": "open"}
