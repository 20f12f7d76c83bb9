"""The product brief's five scenarios, end to end through the record service, on SQLite and
PostgreSQL, with the flow engine's clock moved by the test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from tests.flow_engine.conftest import World

L = {"zh": "流程", "en": "Flow"}
CN_CALENDAR = {
    "name": "cn",
    "timezone": "Asia/Shanghai",
    "hours": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    # National Day 2024: 1-7 October off, with Sunday 29 September and Saturday 12 October worked.
    "holidays": [f"2024-10-0{d}" for d in range(1, 8)],
    "workdays": ["2024-09-29", "2024-10-12"],
}


# -- 1. contract countersign --------------------------------------------------------------------
CONTRACT_APPROVAL = {
    "name": "big_contract",
    "label": {"zh": "大额合同审批", "en": "Large contract approval"},
    "entity": "contract",
    "trigger": {
        "type": "record",
        "on": ["updated"],
        "when": "changed(status) and status == '审批中' and amount > 500000 and account.grade == 'A'",
    },
    "nodes": [
        {"id": "start", "type": "start", "next": "countersign"},
        {
            "id": "countersign",
            "type": "approval",
            "mode": "all",
            "approvers": [{"user": "gm"}, {"role": "finance_head"}],
            "if_nobody": "admin",
            "on_reject": "starter",
            "next": "approved",
        },
        {
            "id": "approved",
            "type": "action",
            "actions": [
                {"type": "set_fields", "values": {"status": "已审批"}},
                {
                    "type": "notify",
                    "to": [{"field": "owner"}],
                    "title": {"zh": "合同 {title} 已审批", "en": "Contract {title} approved"},
                },
            ],
            "next": "end",
        },
        {"id": "end", "type": "end", "result": "approved"},
    ],
}

BIG_DEAL = {
    "name": "big_deal_alert",
    "label": L,
    "entity": "opportunity",
    "trigger": {
        "type": "record",
        "on": ["updated"],
        "when": "changed(stage) and stage == '合同审批' and amount > 1000000",
    },
    "nodes": [
        {"id": "start", "type": "start", "next": "tell"},
        {
            "id": "tell",
            "type": "action",
            "actions": [
                {
                    "type": "notify",
                    "to": [{"role": "ceo"}],
                    "title": {
                        "zh": "大单进入合同审批：{title}",
                        "en": "Large deal in contract approval: {title}",
                    },
                    "channels": ["email", "dingtalk"],
                }
            ],
            "next": "end",
        },
        {"id": "end", "type": "end"},
    ],
}


def _contract(world: World, amount: int, grade: str) -> dict[str, Any]:
    account = world.create("account", {"name": f"客户{amount}{grade}", "grade": grade})
    return world.create(
        "contract", {"title": f"合同{amount}", "amount": amount, "account": account["id"], "status": "草稿"}
    )


def test_large_grade_a_contract_is_countersigned_then_approved_and_owner_told(world: World) -> None:
    world.put_flows(CONTRACT_APPROVAL)
    contract = _contract(world, 600_000, "A")
    world.update("contract", contract["id"], {"status": "审批中"})

    gm, cfo = world.tasks("gm"), world.tasks("cfo")
    assert [(t["node"], t["kind"], t["record_id"]) for t in gm + cfo] == [
        ("countersign", "approval", contract["id"])
    ] * 2
    world.act("gm", gm[0]["id"], "approve", comment="同意")
    assert world.get("contract", contract["id"])["status"] == "审批中"  # 会签: one is not enough
    world.act("cfo", cfo[0]["id"], "approve")

    assert world.get("contract", contract["id"])["status"] == "已审批"
    [instance] = world.instances("contract", contract["id"])
    assert instance["status"] == "approved"
    told = world.notifications("owner")
    assert [(n["title"]["zh"], n["entity"], n["record_id"]) for n in told] == [
        ("合同 合同600000 已审批", "contract", contract["id"])
    ]


def test_rejected_contract_returns_to_the_owner_with_the_comment(world: World) -> None:
    world.put_flows(CONTRACT_APPROVAL)
    contract = _contract(world, 900_000, "A")
    world.update("contract", contract["id"], {"status": "审批中"})
    world.act("cfo", world.tasks("cfo")[0]["id"], "reject", comment="付款条件需修改")

    # the general manager's task closed, the owner has the contract back with the comment
    assert world.tasks("gm") == []
    [back] = world.tasks("owner")
    assert (back["node"], back["comment"]) == ("@starter", "付款条件需修改")
    assert [n["body"]["zh"] for n in world.notifications("owner")] == ["付款条件需修改"]
    # while it is back with the owner the record may be edited; resubmitting asks again
    world.update("contract", contract["id"], {"note": "已修改付款条件"})
    world.act("owner", back["id"], "approve")
    assert len(world.tasks("gm")) == 1 and len(world.tasks("cfo")) == 1


def test_small_or_grade_b_contracts_start_nothing(world: World) -> None:
    world.put_flows(CONTRACT_APPROVAL)
    for amount, grade in ((400_000, "A"), (900_000, "B")):
        contract = _contract(world, amount, grade)
        world.update("contract", contract["id"], {"status": "审批中"})
        assert world.instances("contract", contract["id"]) == []


def test_a_deal_over_a_million_entering_contract_approval_tells_the_ceo(world: World) -> None:
    world.put_flows(BIG_DEAL)
    big = world.create("opportunity", {"title": "大单", "amount": 1_500_000, "stage": "报价"})
    small = world.create("opportunity", {"title": "小单", "amount": 900_000, "stage": "报价"})
    for deal in (big, small):
        world.update("opportunity", deal["id"], {"stage": "合同审批"})
    world.update("opportunity", big["id"], {"title": "大单2"})  # no stage change: nothing new
    told = world.notifications("ceo")
    assert [(n["title"]["zh"], n["record_id"]) for n in told] == [("大单进入合同审批：大单", big["id"])]
    assert world.notifications("owner") == []


# -- 2. lead assignment -------------------------------------------------------------------------
LEAD_ROUTING = {
    "name": "lead_routing",
    "label": L,
    "entity": "lead",
    "trigger": {"type": "record", "on": ["created"]},
    "nodes": [
        {"id": "start", "type": "start", "next": "assign"},
        {
            "id": "assign",
            "type": "action",
            "actions": [
                {
                    "type": "assign_owner",
                    "rules": [
                        {"when": "industry == '制造业'", "to": [{"user": "senior"}]},
                        {"when": "region == '华东'", "round_robin": [{"department": "上海团队"}]},
                    ],
                }
            ],
            "next": "end",
        },
        {"id": "end", "type": "end"},
    ],
}


def test_east_china_leads_go_round_robin_and_manufacturing_to_the_senior_rep(world: World) -> None:
    world.put_flows(LEAD_ROUTING)
    east = [world.create("lead", {"name": f"华东线索{i}", "region": "华东"}) for i in range(4)]
    factory = world.create("lead", {"name": "工厂", "region": "华东", "industry": "制造业"})
    north = world.create("lead", {"name": "华北线索", "region": "华北"})
    u = world.users
    team = [u["sh1"], u["sh2"], u["sh3"]]
    assert [world.get("lead", x["id"])["owner"] for x in east] == [*team, team[0]]
    assert world.get("lead", factory["id"])["owner"] == u["senior"]
    assert world.get("lead", north["id"])["owner"] == u["owner"]  # no rule: stays with its creator


# -- 3. follow-up reminders ---------------------------------------------------------------------
FOLLOW_UP = {
    "name": "follow_up_watch",
    "label": L,
    "entity": "opportunity",
    "trigger": {"type": "date", "field": "last_follow_up", "offset": {"days": 3}, "when": "stage != '赢单'"},
    "nodes": [
        {"id": "start", "type": "start", "next": "remind"},
        {
            "id": "remind",
            "type": "action",
            "actions": [
                {
                    "type": "notify",
                    "to": [{"field": "owner"}],
                    "title": {"zh": "3 天未跟进：{title}", "en": "No follow-up for 3 days: {title}"},
                }
            ],
            "next": "wait",
        },
        {
            "id": "wait",
            "type": "wait",
            "until_field": "last_follow_up",
            "offset": {"days": 7},
            "next": "warn",
        },
        {
            "id": "warn",
            "type": "action",
            "actions": [
                {
                    "type": "notify",
                    "to": [{"head_of": "owner"}],
                    "title": {"zh": "7 天未跟进：{title}", "en": "No follow-up for 7 days: {title}"},
                }
            ],
            "next": "end",
        },
        {"id": "end", "type": "end"},
    ],
}


def _titles(world: World, user: str) -> list[str]:
    return [n["title"]["zh"] for n in world.notifications(user)]


def test_no_follow_up_reminds_the_owner_after_3_days_and_the_director_after_7(world: World) -> None:
    world.put_flows(FOLLOW_UP)
    today = world.clock.now.date()
    quiet = world.create(
        "opportunity", {"title": "沉默", "stage": "报价", "last_follow_up": today.isoformat()}
    )
    busy = world.create(
        "opportunity", {"title": "活跃", "stage": "报价", "last_follow_up": today.isoformat()}
    )

    world.clock.advance(days=2)
    world.run_due()
    world.update("opportunity", busy["id"], {"last_follow_up": world.clock.now.date().isoformat()})
    assert _titles(world, "owner") == []

    world.clock.advance(days=1)  # day 3: only the quiet one is due
    world.run_due()
    assert _titles(world, "owner") == ["3 天未跟进：沉默"]

    world.clock.advance(days=2)  # day 5: three days since the busy one's follow-up
    world.run_due()
    assert _titles(world, "owner") == ["3 天未跟进：沉默", "3 天未跟进：活跃"]
    world.update("opportunity", busy["id"], {"last_follow_up": world.clock.now.date().isoformat()})

    world.clock.advance(days=2)  # day 7
    world.run_due()
    assert _titles(world, "director") == ["7 天未跟进：沉默"]
    assert world.instances("opportunity", quiet["id"])[0]["status"] == "done"
    # the busy one's first watch stopped when its date moved; its next one started a new count
    assert [i["status"] for i in world.instances("opportunity", busy["id"])] == ["cancelled"]
    world.clock.advance(days=30)
    world.run_due()
    assert _titles(world, "director") == ["7 天未跟进：沉默", "7 天未跟进：活跃"]


# -- 4. business-day task -----------------------------------------------------------------------
QUOTE_FOLLOW_UP = {
    "name": "quote_follow_up",
    "label": L,
    "entity": "opportunity",
    "calendar": "cn",
    "trigger": {"type": "record", "on": ["updated"], "when": "changed(stage) and stage == '报价'"},
    "nodes": [
        {"id": "start", "type": "start", "next": "call"},
        {
            "id": "call",
            "type": "task",
            "title": {"zh": "报价后跟进", "en": "Follow up the quote"},
            "assignee": [{"field": "owner"}],
            "if_nobody": "admin",
            "fields": ["next_step"],
            "due": {"days": 3, "business": True},
            "next": "end",
        },
        {"id": "end", "type": "end"},
    ],
}


def test_quote_sent_creates_a_task_due_in_3_business_days_over_a_holiday(world: World) -> None:
    world.put_flows(QUOTE_FOLLOW_UP, calendars=[CN_CALENDAR])
    world.clock.now = datetime(2024, 9, 30, 2, 0, tzinfo=UTC)  # Monday 30 Sep, 10:00 Beijing
    deal = world.create("opportunity", {"title": "报价单", "stage": "初步接洽"})
    world.update("opportunity", deal["id"], {"stage": "报价"})
    [task] = world.tasks("owner")
    # 1-7 Oct are holidays (with a weekend inside): Tue 8, Wed 9, Thu 10 -> due Thu 10 Oct, 10:00
    assert task["due_at"] == "2024-10-10T02:00:00Z"
    assert task["kind"] == "fill"
    world.clock.now = datetime(2024, 10, 10, 3, 0, tzinfo=UTC)
    assert [t["id"] for t in world.tasks("owner", overdue=True)] == [task["id"]]
    world.act("owner", task["id"], "complete", values={"next_step": "周五电话确认"})
    assert world.get("opportunity", deal["id"])["next_step"] == "周五电话确认"
    assert world.instances("opportunity", deal["id"])[0]["status"] == "done"


# -- 5. case routing and response SLA -------------------------------------------------------------
CASE_ROUTING = {
    "name": "case_routing",
    "label": L,
    "entity": "ticket",
    "trigger": {"type": "record", "on": ["created"]},
    "nodes": [
        {"id": "start", "type": "start", "next": "by_kind"},
        {
            "id": "by_kind",
            "type": "condition",
            "branches": [
                {"when": "kind == 'technical'", "next": "support"},
                {"when": "kind == 'billing'", "next": "billing"},
            ],
            "default": "end",
        },
        {
            "id": "support",
            "type": "action",
            "actions": [
                {"type": "set_fields", "values": {"team": "技术支持"}},
                {"type": "assign_owner", "round_robin": [{"department": "技术支持"}]},
            ],
            "next": "end",
        },
        {
            "id": "billing",
            "type": "action",
            "actions": [{"type": "set_fields", "values": {"team": "财务"}}],
            "next": "end",
        },
        {"id": "end", "type": "end"},
    ],
}

RESPONSE_SLA = {
    "name": "response_sla",
    "label": {"zh": "响应时限", "en": "Response SLA"},
    "entity": "ticket",
    "calendar": "cn",
    "trigger": {"type": "record", "on": ["created"], "when": "priority == 'high'"},
    "nodes": [
        {"id": "start", "type": "start", "next": "answer"},
        {
            "id": "answer",
            "type": "wait",
            "until": "responded_at is not null",
            "limit": {
                "after": {"hours": 1, "business": True},
                "warn_before": {"minutes": 15, "business": True},
                "policy": "escalate",
                "to": [{"head_of": "技术支持"}],
            },
            "next": "end",
        },
        {"id": "end", "type": "end"},
    ],
}


def test_cases_are_routed_by_type_and_a_late_high_priority_one_escalates(world: World) -> None:
    world.put_flows(CASE_ROUTING, RESPONSE_SLA, calendars=[CN_CALENDAR])
    world.clock.now = datetime(2024, 9, 27, 9, 30, tzinfo=UTC)  # Friday 17:30 Beijing
    late = world.create("ticket", {"title": "无法登录", "kind": "technical", "priority": "high"})
    quick = world.create("ticket", {"title": "发票", "kind": "billing", "priority": "high"})
    calm = world.create("ticket", {"title": "咨询", "kind": "technical", "priority": "normal"})
    u = world.users
    assert [world.get("ticket", t["id"])["team"] for t in (late, quick, calm)] == [
        "技术支持",
        "财务",
        "技术支持",
    ]
    assert [world.get("ticket", t["id"])["owner"] for t in (late, calm)] == [u["lead_sup"], u["other"]]

    world.clock.now = datetime(2024, 9, 27, 11, 0, tzinfo=UTC)  # Fri 19:00: an hour, but not a working one
    world.run_due()
    assert world.notifications("lead_sup") == []
    world.update("ticket", quick["id"], {"responded_at": "2024-09-27T11:00:00Z"})

    world.clock.now = datetime(2024, 9, 29, 1, 16, tzinfo=UTC)  # Sunday 29th is a make-up day: 09:16
    world.run_due()
    assert [n["title"]["zh"] for n in world.notifications("lead_sup")] == ["待办即将超时：无法登录"]

    world.clock.now = datetime(2024, 9, 29, 1, 31, tzinfo=UTC)  # 09:31: 30 min Fri + 30 min Sun
    world.run_due()
    titles = [n["title"]["zh"] for n in world.notifications("lead_sup")]
    assert titles == ["待办即将超时：无法登录", "已升级给你：无法登录"]
    assert [t["kind"] for t in world.tasks("lead_sup")] == ["cc"]
    # answered in time: its watch ended without a word to anyone
    assert [(i["flow"], i["status"]) for i in world.instances("ticket", quick["id"])] == [
        ("case_routing", "done"),
        ("response_sla", "done"),
    ]
    assert [i["flow"] for i in world.instances("ticket", calm["id"])] == ["case_routing"]


def test_dates_in_this_module_are_what_the_comments_say() -> None:
    assert date(2024, 9, 27).weekday() == 4 and date(2024, 9, 29).weekday() == 6
    assert date(2024, 9, 30).weekday() == 0 and date(2024, 10, 10).weekday() == 3
