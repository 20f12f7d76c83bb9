"""The CRM template's own automations, installed from the template and run with the flow
engine's clock moved by the test, on SQLite and PostgreSQL: lead assignment and scoring,
lead conversion, contract and discount approvals, follow-up reminders, the quote follow-up
task, case routing and SLA, the closing survey and the public pool."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import flow_engine
import templates_library
from engine import Context, InvalidInput, Platform, Principal
from engine.apps.template_upgrade import install_template
from engine.identity import departments, roles
from engine.identity.users import create_user, update_user
from flow_engine.notify.tables import notifications
from tests.flow_engine.conftest import Clock, flow_platform, run_due  # noqa: F401 - fixtures

#: Monday 28 September 2026, 10:00 in Beijing.
MONDAY = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)
PASSWORD = "crm-flows-password-1"
MOBILES = itertools.count(1)

#: department: (head, members); parents by name
ORG: dict[str, tuple[str | None, list[str]]] = {
    "销售中心": ("director", ["director"]),
    "华东销售部": ("manager", ["manager", "east1", "east2", "east3"]),
    "华北销售部": (None, ["north1"]),
    "制造业行业组": ("senior", ["senior"]),
    "总经办": ("gm", ["gm"]),
    "财务部": ("cfo", ["cfo"]),
    "技术支持组": ("tech_lead", ["tech_lead", "tech1", "tech2"]),
    "客服组": ("svc_lead", ["svc_lead", "svc1"]),
}
PARENT = {"华东销售部": "销售中心", "华北销售部": "销售中心", "制造业行业组": "销售中心"}
ROLES = {
    "east1": ["sales_rep"], "east2": ["sales_rep"], "east3": ["sales_rep"], "north1": ["sales_rep"],
    "senior": ["sales_rep"], "manager": ["sales_manager"], "director": ["sales_director"],
    "tech1": ["service_agent"], "tech2": ["service_agent"], "svc1": ["service_agent"],
    "tech_lead": ["service_lead"], "svc_lead": ["service_lead"],
}  # fmt: skip


@dataclass
class Crm:
    """The CRM installed from its template with every flow published, its people by username,
    and the clock its flows run on."""

    platform: Platform
    clock: Clock
    users: dict[str, int]
    service: flow_engine.FlowService

    def ctx(self, username: str) -> Context:
        user_id = self.users[username]
        with self.platform.db.connect() as conn:
            held = roles.user_roles(conn, user_id)
        return Context(user=Principal(user_id, username, username == "admin", roles=held), locale="zh")

    def create(self, entity: str, values: dict[str, Any], as_user: str = "admin") -> dict[str, Any]:
        return self.platform.records.create(self.ctx(as_user), "crm", entity, values)

    def update(self, entity: str, record_id: int, values: dict[str, Any], as_user: str = "admin") -> None:
        self.platform.records.update(self.ctx(as_user), "crm", entity, record_id, values)

    def get(self, entity: str, record_id: int) -> dict[str, Any]:
        return self.platform.records.get(self.ctx("admin"), "crm", entity, record_id)

    def tasks(self, username: str) -> list[dict[str, Any]]:
        return self.service.tasks(self.ctx(username))

    def act(self, username: str, task_id: int, action: str, **body: Any) -> None:
        self.service.act(self.ctx(username), task_id, action, body)

    def start(self, username: str, entity: str, record_id: int, flow: str) -> dict[str, Any]:
        return self.service.start(self.ctx(username), "crm", entity, record_id, flow)

    def instances(self, entity: str, record_id: int) -> list[tuple[str, str]]:
        found = self.service.record_instances(self.ctx("admin"), "crm", entity, record_id)
        return [(i["flow"], i["status"]) for i in found]

    def titles(self, username: str) -> list[str]:
        n = notifications
        query = sa.select(n.c.title).where(n.c.user_id == self.users[username]).order_by(n.c.id)
        with self.platform.db.connect() as conn:
            return [title["zh"] for title in conn.execute(query).scalars()]

    def run_due(self) -> None:
        run_due(self.platform, self.clock)


def _flows() -> list[dict[str, Any]]:
    flows: list[dict[str, Any]] = templates_library.load("crm")["flows"]
    return flows


@pytest.fixture
def crm(flow_platform: Platform) -> Crm:  # noqa: F811 - the fixture imported above
    platform = flow_platform
    clock = Clock(now=MONDAY)
    flow_engine.runner_of(platform, clock)
    people = ["admin", *dict.fromkeys(m for _, members in ORG.values() for m in members)]
    users: dict[str, int] = {}
    cost = platform.settings.password_hash_cost
    with platform.db.begin() as conn:
        for name in people:
            users[name] = create_user(conn, name, PASSWORD, is_admin=name == "admin", hash_cost=cost)
        made: dict[str, int] = {}
        for dept, (head, members) in ORG.items():
            parent = made.get(PARENT.get(dept, ""))
            head_id = users[head] if head else None
            made[dept] = departments.create_department(conn, dept, parent_id=parent, head_id=head_id)
            for member in members:
                update_user(conn, users[member], {"department_id": made[dept]})
        for rep in ("east1", "east2", "east3", "north1"):
            update_user(conn, users[rep], {"manager_id": users["manager"]})
        package = install_template(conn, "crm", Context())
        for username, held in ROLES.items():
            roles.set_roles(conn, Context(), package, users[username], held)
    service = flow_engine.FlowService(platform)
    admin = Context(user=Principal(users["admin"], "admin", True), locale="zh")
    for flow in _flows():
        service.publish(admin, "crm", flow["name"])
    return Crm(platform, clock, users, service)


def _flow(name: str) -> dict[str, Any]:
    return next(f for f in _flows() if f["name"] == name)


def test_the_template_ships_its_flows_valid_and_its_calendar_as_the_state_council_set_it() -> None:
    package = templates_library.load("crm")
    names = {f["name"] for f in package["flows"]}
    assert names == {
        "lead_assignment", "lead_scoring", "lead_convert", "contract_approval",
        "quote_discount_approval", "quote_sent_follow_up", "activity_follow_up",
        "opportunity_follow_up_reminder", "case_routing", "case_sla", "case_satisfaction_survey",
        "account_pool_return", "account_claim",
    }  # fmt: skip
    for flow in package["flows"]:
        assert flow["label"]["zh"] and flow["label"]["en"], flow["name"]
    [calendar] = package["calendars"]
    # The kernel's own holiday data (transcribed from the State Council's notices) for 2026.
    source = json.loads(Path("rule_engine/data/cn_calendar.json").read_text("utf-8"))
    assert calendar["holidays"] == [d for d, _ in source["holidays"] if d.startswith("2026")]
    assert "2026-10-01" in calendar["holidays"] and "2026-10-10" in calendar["workdays"]


# -- leads --------------------------------------------------------------------------------------
def _lead(crm: Crm, company: str, **values: Any) -> dict[str, Any]:
    mobile = f"1380000{next(MOBILES):04d}"
    return crm.create("lead", {"company": company, "contact_name": "张先生", "mobile": mobile, **values})


def test_leads_go_round_robin_by_region_and_manufacturing_to_the_senior_rep(crm: Crm) -> None:
    east = [_lead(crm, f"上海客户{i}", region="上海") for i in range(5)]
    north = _lead(crm, "北京客户", region="北京")
    factory = _lead(crm, "苏州工厂", region="苏州", industry="manufacturing")
    west = _lead(crm, "成都客户", region="成都")
    u = crm.users
    team = sorted([u["manager"], u["east1"], u["east2"], u["east3"]])
    assert [crm.get("lead", x["id"])["owner"] for x in east] == [*team, team[0]]
    assert crm.get("lead", north["id"])["owner"] == u["north1"]
    assert crm.get("lead", factory["id"])["owner"] == u["senior"]
    # no region rule: the sales rep (not the manager) with the fewest open leads, the lowest id
    # on a tie; every rep holds one open lead by now
    holding = {u[name]: 1 for name in ("east1", "east2", "east3", "north1", "senior")}
    expected = min(holding, key=lambda user: (holding[user], user))
    assert crm.get("lead", west["id"])["owner"] == expected


def _score(rating: int, source: str, industry: str, mobile: bool, email: bool, title: bool) -> int:
    """The template's scoring table, as its README states it."""
    points = rating * 10
    points += {"referral": 25, "exhibition": 15, "campaign": 15, "website": 10, "partner": 10}.get(source, 5)
    points += 15 if industry in ("manufacturing", "finance", "it") else 5
    points += (10 if mobile else 0) + (5 if email else 0) + (5 if title else 0)
    return min(points, 100)


def test_a_lead_is_scored_and_past_80_converted_with_its_links(crm: Crm) -> None:
    cool = _lead(crm, "杭州零售", rating=2, source="website", industry="retail", region="杭州")
    assert crm.get("lead", cool["id"])["score"] == _score(2, "website", "retail", True, False, False)
    assert crm.get("lead", cool["id"])["status"] == "new"

    hot = _lead(
        crm, "宁波精工", rating=2, source="referral", industry="manufacturing", email="a@nbjg.cn", region="宁波"
    )
    assert _score(2, "referral", "manufacturing", True, True, False) < 80
    crm.update("lead", hot["id"], {"rating": 5, "job_title": "采购总监"})
    lead = crm.get("lead", hot["id"])
    assert lead["score"] == _score(5, "referral", "manufacturing", True, True, True) == 100
    assert lead["status"] == "converted"
    account = crm.get("account", lead["converted_account"])
    contact = crm.get("contact", lead["converted_contact"])
    deal = crm.get("opportunity", lead["converted_opportunity"])
    assert (account["name"], account["industry"], account["owner"]) == ("宁波精工", "manufacturing", lead["owner"])
    assert (contact["name"], contact["account"], contact["title"]) == ("张先生", account["id"], "采购总监")
    assert (deal["account"], deal["contact"], deal["stage"]) == (account["id"], contact["id"], "initial")
    assert lead["owner"] == crm.users["senior"]
    # converting again by hand changes nothing: it ends as not convertible
    crm.start("admin", "lead", hot["id"], "lead_convert")
    assert crm.get("lead", hot["id"])["converted_account"] == account["id"]
    assert crm.instances("lead", hot["id"])[-1] == ("lead_convert", "rejected")


def test_a_rep_converts_a_lead_by_hand(crm: Crm) -> None:
    lead = _lead(crm, "无锡物流", rating=1, source="cold_call", industry="logistics", region="无锡")
    owner = crm.get("lead", lead["id"])["owner"]
    rep = next(name for name, uid in crm.users.items() if uid == owner)
    crm.start(rep, "lead", lead["id"], "lead_convert")
    done = crm.get("lead", lead["id"])
    assert done["status"] == "converted"
    assert crm.get("opportunity", done["converted_opportunity"])["name"] == "无锡物流"
    assert "线索 无锡物流 已转化为客户、联系人和商机" in crm.titles(rep)
