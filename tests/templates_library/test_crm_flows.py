"""The CRM template's own automations, installed from the template and run with the flow
engine's clock moved by the test, on SQLite and PostgreSQL: lead assignment and scoring,
lead conversion, contract and discount approvals, follow-up reminders, the quote follow-up
task, case routing and SLA, the closing survey and the public pool."""

from __future__ import annotations

import email
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import flow_engine
import templates_library
from engine import Context, InvalidInput, JobRunner, Platform, Principal, Settings
from engine.apps.template_upgrade import install_template
from engine.http import create_app
from engine.identity import departments, roles
from engine.identity.users import create_user, update_user
from flow_engine.notify import SmtpSettings
from flow_engine.notify.tables import notifications
from tests.conftest import TEST_HASH_COST
from tests.flow_engine.conftest import Clock, run_due
from tests.flow_engine.notify.conftest import Mailbox
from tests.templates_library.conftest import PUBLIC_URL, Snapshots, crm_plugins, snapshots

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
    "客户服务部": ("svc_lead", ["svc_lead", "svc1"]),
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


def _set_up_crm(platform: Platform) -> dict[str, int]:
    """The org chart, the CRM installed from its template, everyone's roles and every flow
    published, with the flows' clock at MONDAY; the users' ids by username."""
    flow_engine.runner_of(platform, Clock(now=MONDAY))
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
    return users


def _crm_set_up_on(url: str, data_dir: Path) -> dict[str, int]:
    """``_set_up_crm`` on the empty database at ``url``, by a platform closed at the end."""
    settings = Settings(
        database_url=url, data_dir=data_dir, secret_key="test-secret", password_hash_cost=TEST_HASH_COST
    )
    smtp = SmtpSettings(host="127.0.0.1", port=25, sender="crm@example.cn")  # sends nothing here
    platform = Platform(settings, plugins=crm_plugins(smtp), load_entry_points=False)
    try:
        platform.init_database()
        return _set_up_crm(platform)
    finally:
        platform.close()


@pytest.fixture(scope="session")
def crm_snapshots(request: pytest.FixtureRequest) -> Iterator[Snapshots[dict[str, int]]]:
    """The CRM as ``_set_up_crm`` leaves it, set up once per session and backend."""
    with snapshots(request, _crm_set_up_on) as found:
        yield found


@pytest.fixture
def crm_installed(
    database_url: str, crm_snapshots: Snapshots[dict[str, int]]
) -> Iterator[tuple[str, dict[str, int]]]:
    """This test's own copy of the set-up CRM (both backends), and the users' ids."""
    with crm_snapshots.copy(database_url) as found:
        yield found


@pytest.fixture
def system_database_url(crm_installed: tuple[str, dict[str, int]]) -> str:
    """The platform's database in this module: a copy of the set-up CRM (crm_platform runs on it)."""
    return crm_installed[0]


@pytest.fixture
def crm(crm_platform: Platform, crm_installed: tuple[str, dict[str, int]]) -> Crm:
    platform = crm_platform
    clock = Clock(now=MONDAY)
    flow_engine.runner_of(platform, clock)
    return Crm(platform, clock, crm_installed[1], flow_engine.FlowService(platform))


def _flow(name: str) -> dict[str, Any]:
    return next(f for f in _flows() if f["name"] == name)


def test_the_template_ships_its_flows_valid_and_its_calendar_as_the_state_council_set_it() -> None:
    package = templates_library.load("crm")
    names = {f["name"] for f in package["flows"]}
    assert names == {
        "lead_assignment", "lead_scoring", "lead_convert", "lead_nurture", "contract_approval",
        "quote_discount_approval", "quote_sent_follow_up", "activity_follow_up",
        "opportunity_follow_up_reminder", "case_routing", "case_sla", "case_knowledge_suggestions",
        "case_satisfaction_survey", "account_pool_return", "account_claim",
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
        crm,
        "宁波精工",
        rating=2,
        source="referral",
        industry="manufacturing",
        email="a@nbjg.cn",
        region="宁波",
    )
    assert _score(2, "referral", "manufacturing", True, True, False) < 80
    crm.update("lead", hot["id"], {"rating": 5, "job_title": "采购总监"})
    lead = crm.get("lead", hot["id"])
    assert lead["score"] == _score(5, "referral", "manufacturing", True, True, True) == 100
    assert lead["status"] == "converted"
    account = crm.get("account", lead["converted_account"])
    contact = crm.get("contact", lead["converted_contact"])
    deal = crm.get("opportunity", lead["converted_opportunity"])
    assert (account["name"], account["industry"], account["owner"]) == (
        "宁波精工",
        "manufacturing",
        lead["owner"],
    )
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


# -- contracts and quotes -----------------------------------------------------------------------
def _contract(crm: Crm, amount: int, grade: str, owner: str = "east1") -> dict[str, Any]:
    account = crm.create("account", {"name": f"客户{amount}{grade}", "grade": grade}, as_user=owner)
    values = {"name": f"合同{amount}{grade}", "account": account["id"], "amount": str(amount)}
    return crm.create("contract", values, as_user=owner)


def test_a_large_grade_a_contract_is_countersigned_and_a_rejection_returns_with_the_comment(
    crm: Crm,
) -> None:
    approved = _contract(crm, 600_000, "A")
    crm.update("contract", approved["id"], {"approval_status": "pending"}, as_user="east1")
    [gm_task], [cfo_task] = crm.tasks("gm"), crm.tasks("cfo")
    assert (gm_task["node"], cfo_task["node"]) == ("countersign", "countersign")
    assert crm.tasks("manager") == []
    crm.act("gm", gm_task["id"], "approve", comment="同意")
    assert crm.get("contract", approved["id"])["approval_status"] == "pending"  # 会签: both must
    crm.act("cfo", cfo_task["id"], "approve")
    assert crm.get("contract", approved["id"])["approval_status"] == "approved"
    name = approved["name"]
    assert f"合同 {name} 已审批通过" in crm.titles("east1")

    returned = _contract(crm, 800_000, "A")
    crm.update("contract", returned["id"], {"approval_status": "pending"}, as_user="east1")
    crm.act("gm", crm.tasks("gm")[0]["id"], "reject", comment="付款条件需修改")
    assert crm.tasks("cfo") == []  # one rejection rejects: the other task closes
    [back] = crm.tasks("east1")
    assert (back["node"], back["comment"]) == ("@starter", "付款条件需修改")


def test_an_ordinary_contract_goes_to_the_owners_manager(crm: Crm) -> None:
    for amount, grade in ((400_000, "A"), (900_000, "B")):
        contract = _contract(crm, amount, grade)
        crm.update("contract", contract["id"], {"approval_status": "pending"}, as_user="east1")
    assert crm.tasks("gm") == [] and crm.tasks("cfo") == []
    tasks = crm.tasks("manager")
    assert [t["node"] for t in tasks] == ["manager", "manager"]
    crm.act("manager", tasks[0]["id"], "approve")
    assert crm.get("contract", tasks[0]["record_id"])["approval_status"] == "approved"


def test_quote_discounts_go_to_the_manager_and_past_20_percent_then_the_director(crm: Crm) -> None:
    account = crm.create("account", {"name": "报价客户"}, as_user="east1")
    deal = crm.create("opportunity", {"name": "报价商机", "account": account["id"]}, as_user="east1")
    quotes = {}
    for discount in ("0.05", "0.15", "0.25"):
        values = {"name": f"报价{discount}", "opportunity": deal["id"], "discount": discount}
        quote = crm.create("quote", values, as_user="east1")
        crm.update("quote", quote["id"], {"status": "pending"}, as_user="east1")
        quotes[discount] = quote["id"]
    status = {d: crm.get("quote", q)["status"] for d, q in quotes.items()}
    assert status == {"0.05": "approved", "0.15": "pending", "0.25": "pending"}
    assert crm.tasks("director") == []  # 依次: the manager first
    for task in crm.tasks("manager"):
        crm.act("manager", task["id"], "approve")
    assert crm.get("quote", quotes["0.15"])["status"] == "approved"
    assert crm.get("quote", quotes["0.25"])["status"] == "pending"
    [task] = crm.tasks("director")
    assert task["record_id"] == quotes["0.25"]
    crm.act("director", task["id"], "approve")
    assert crm.get("quote", quotes["0.25"])["status"] == "approved"


def test_a_sent_quote_gives_its_owner_a_task_due_in_3_working_days_over_national_day(crm: Crm) -> None:
    crm.clock.now = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)  # Wednesday 30 Sep, 10:00 Beijing
    account = crm.create("account", {"name": "国庆客户"}, as_user="east2")
    deal = crm.create("opportunity", {"name": "国庆商机", "account": account["id"]}, as_user="east2")
    quote = crm.create("quote", {"name": "国庆报价", "opportunity": deal["id"]}, as_user="east2")
    crm.update("quote", quote["id"], {"status": "sent"}, as_user="east2")
    [task] = crm.tasks("east2")
    # 1-7 Oct are off; Thu 8 and Fri 9 are working days, and so is Saturday 10 (调休)
    assert task["due_at"] == "2026-10-10T02:00:00Z"
    crm.act("east2", task["id"], "complete", values={"follow_up_note": "客户确认下周签约"})
    assert crm.get("quote", quote["id"])["follow_up_note"] == "客户确认下周签约"


# -- follow-ups ---------------------------------------------------------------------------------
def _follow_up(crm: Crm, deal: dict[str, Any], as_user: str) -> None:
    at = crm.clock.now.isoformat()
    values = {"subject": "电话沟通", "type": "call", "opportunity": deal["id"], "occurred_at": at}
    crm.create("activity", values, as_user=as_user)


def test_no_follow_up_reminds_the_owner_at_3_days_and_the_director_at_7(crm: Crm) -> None:
    account = crm.create("account", {"name": "跟进客户"}, as_user="east1")
    quiet = crm.create("opportunity", {"name": "沉默商机", "account": account["id"]}, as_user="east1")
    busy = crm.create("opportunity", {"name": "活跃商机", "account": account["id"]}, as_user="east1")
    _follow_up(crm, quiet, "east1")
    _follow_up(crm, busy, "east1")
    assert crm.get("opportunity", quiet["id"])["last_follow_up"] is not None
    assert crm.get("account", account["id"])["last_follow_up"] is None  # only what it names

    crm.clock.advance(days=2)
    crm.run_due()
    _follow_up(crm, busy, "east1")  # a follow-up cancels the count and starts a new one
    crm.clock.advance(days=1, minutes=1)
    crm.run_due()
    assert crm.titles("east1") == ["商机 沉默商机 已 3 天未跟进"]
    crm.clock.advance(days=4)  # day 7 of the quiet one, day 5 of the busy one
    crm.run_due()
    assert crm.titles("director") == ["商机 沉默商机 已 7 天未跟进"]
    assert crm.titles("east1") == ["商机 沉默商机 已 3 天未跟进", "商机 活跃商机 已 3 天未跟进"]
    crm.update("opportunity", busy["id"], {"stage": "won", "amount": "10000"}, as_user="east1")
    crm.clock.advance(days=10)
    crm.run_due()
    assert crm.titles("director") == ["商机 沉默商机 已 7 天未跟进"]  # a won deal needs none


# -- service ------------------------------------------------------------------------------------
def test_cases_are_routed_by_type_and_a_late_p1_escalates_to_the_team_lead(crm: Crm) -> None:
    crm.clock.now = datetime(2026, 9, 24, 9, 30, tzinfo=UTC)  # Thursday 24 Sep 17:30: 中秋 follows
    late = crm.create("case", {"subject": "系统宕机", "type": "fault", "priority": "P1"})
    answered = crm.create("case", {"subject": "无法开票", "type": "fault", "priority": "P1"})
    asked = crm.create("case", {"subject": "如何导出", "type": "consultation", "priority": "P3"})
    u = crm.users
    team = sorted([u["tech_lead"], u["tech1"], u["tech2"]])
    assert [crm.get("case", c["id"])["owner"] for c in (late, answered)] == team[:2]
    assert crm.get("case", asked["id"])["owner"] == min(u["svc_lead"], u["svc1"])
    # 1 working hour: 30 minutes on Thursday, then 25-27 Sep are 中秋 (Friday to Sunday);
    # Monday 28 Sep 09:30 Beijing
    assert crm.get("case", late["id"])["response_due"] == datetime(2026, 9, 28, 1, 30, tzinfo=UTC)

    crm.clock.now = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)
    values = {
        "subject": "已回电",
        "type": "call",
        "case": answered["id"],
        "occurred_at": crm.clock.now.isoformat(),
    }
    crm.create("activity", values, as_user="admin")
    assert crm.get("case", answered["id"])["first_response_at"] is not None
    crm.clock.now = datetime(2026, 9, 28, 1, 31, tzinfo=UTC)
    crm.run_due()
    # the late case's owner is in 技术支持组, whose head is tech_lead; the answered one is quiet
    assert crm.titles("tech_lead") == ["已升级给你：系统宕机"]


def test_published_articles_whose_keywords_a_case_mentions_are_suggested_on_it(crm: Crm) -> None:
    articles = {
        "invoice": crm.create(
            "knowledge_article", {"title": "如何开具发票", "keywords": ["发票", "开票"], "published": True}
        ),
        "login": crm.create(
            "knowledge_article", {"title": "登录失败排查", "keywords": ["登录", "VPN"], "published": True}
        ),
        "draft": crm.create("knowledge_article", {"title": "草稿", "keywords": ["发票"], "published": False}),
    }
    case = crm.create(
        "case", {"subject": "客户无法登录系统", "type": "fault", "description": "连接 vpn 后报错"}
    )
    assert crm.get("case", case["id"])["suggested_articles"] == [articles["login"]["id"]]
    crm.update("case", case["id"], {"subject": "登录后无法开票"})
    expected = sorted(articles[k]["id"] for k in ("invoice", "login"))
    assert sorted(crm.get("case", case["id"])["suggested_articles"]) == expected


def test_closing_a_case_without_a_contact_email_asks_its_owner_for_the_survey(crm: Crm) -> None:
    case = crm.create("case", {"subject": "退货", "type": "return", "priority": "P2"})
    owner = crm.get("case", case["id"])["owner"]
    username = next(name for name, uid in crm.users.items() if uid == owner)
    crm.update("case", case["id"], {"status": "closed", "resolution": "已换新"})
    closed = crm.get("case", case["id"])
    assert closed["survey_sent_at"] is not None and closed["resolved_at"] is not None
    assert f"工单 {closed['number']} 已关闭，请邀请客户评价满意度" in crm.titles(username)


def _mails(mailbox: tuple[Mailbox, int]) -> list[tuple[str, EmailMessage]]:
    """(recipient, message with its headers decoded) of every e-mail the SMTP server accepted."""
    parsed = [
        (to[0], email.message_from_bytes(raw, policy=policy.default)) for _f, to, raw in mailbox[0].messages
    ]
    return [(to, m) for to, m in parsed if isinstance(m, EmailMessage)]


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def test_closing_a_case_emails_its_contact_a_public_survey_that_rates_the_case(
    crm: Crm, mailbox: tuple[Mailbox, int]
) -> None:
    account = crm.create("account", {"name": "满意度测试有限公司"})
    contact = crm.create("contact", {"name": "林女士", "account": account["id"], "email": "lin@example.cn"})
    values = {"subject": "无法开票", "type": "fault", "priority": "P2", "contact": contact["id"]}
    case = crm.create("case", values)
    crm.update("case", case["id"], {"status": "closed", "resolution": "已修复"})
    JobRunner(crm.platform, clock=lambda: crm.clock.now).run_pending()  # the e-mail job
    number = crm.get("case", case["id"])["number"]
    [(to, mail)] = _mails(mailbox)
    assert (to, str(mail["Subject"])) == ("lin@example.cn", f"工单 {number} 满意度调查")
    found = re.search(rf"{re.escape(PUBLIC_URL)}(/forms/[A-Za-z0-9_.\-]+)", _text(mail))
    assert found is not None, _text(mail)
    link = found.group(1)

    with TestClient(create_app(platform=crm.platform)) as browser:  # signed out: a customer
        page = browser.get(link)
        assert page.status_code == 200 and f"工单 {number} 满意度调查" in page.text
        assert 'name="satisfaction"' in page.text and "status" not in page.text
        stray = browser.post(link, data={"satisfaction": "4", "status": "new"})
        assert stray.status_code == 422, stray.text
        assert crm.get("case", case["id"])["status"] == "closed"
        bad = browser.post(link, data={"satisfaction": "9"})  # a rating is 0-5
        assert bad.status_code == 422, bad.text
        answered = browser.post(link, data={"satisfaction": "4"})
        assert answered.status_code == 200 and "感谢您的反馈" in answered.text
        again = browser.post(link, data={"satisfaction": "1"})
        assert again.status_code == 409, again.text
        token = link.rsplit("/", 1)[1]
        forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert browser.get(f"/forms/{forged}").status_code == 404
    rated = crm.get("case", case["id"])
    assert rated["satisfaction"] == 4
    history = crm.platform.records.history(crm.ctx("admin"), "crm", "case", case["id"])
    assert any(h["changes"].get("satisfaction") for h in history)


def _run_jobs(crm: Crm) -> None:
    """Every job due by the clock, of every engine (flow steps and timers, e-mails)."""
    runner = JobRunner(crm.platform, clock=lambda: crm.clock.now)
    while runner.run_pending():
        pass


def _link(mail: EmailMessage, kind: str) -> str:
    """The path of the e-mail's tracked link (``click``) or tracking pixel (``open``)."""
    html_part = mail.get_body(("html",))
    assert html_part is not None
    found = re.search(
        rf'{re.escape(PUBLIC_URL)}(/api/track/{kind}/[A-Za-z0-9_.\-]+)"', str(html_part.get_content())
    )  # type: ignore[attr-defined]
    assert found is not None
    return found.group(1)


def test_new_leads_get_a_nurture_sequence_branching_on_opens_and_clicks(
    crm: Crm, mailbox: tuple[Mailbox, int]
) -> None:
    leads = {
        who: _lead(crm, f"{who}科技有限公司", email=f"{who}@example.cn")
        for who in ("clicker", "opener", "silent")
    }
    _lead(crm, "无邮箱公司")  # no address: not enrolled
    _run_jobs(crm)
    welcome = {to: mail for to, mail in _mails(mailbox)}
    assert {to: str(m["Subject"]) for to, m in welcome.items()} == {
        f"{who}@example.cn": "欢迎了解我们的产品" for who in leads
    }
    with TestClient(create_app(platform=crm.platform)) as reader:  # a mail client: no sign-in
        click = reader.get(_link(welcome["clicker@example.cn"], "click"), follow_redirects=False)
        assert (click.status_code, click.headers["location"]) == (302, "https://www.example.cn/products")
        assert reader.get(_link(welcome["opener@example.cn"], "open")).status_code == 200

        crm.clock.advance(days=3, minutes=1)
        _run_jobs(crm)
        second = {to: m for to, m in _mails(mailbox)[3:]}
        assert {to: str(m["Subject"]) for to, m in second.items()} == {
            "clicker@example.cn": "预约一次产品演示",
            "opener@example.cn": "看看同行怎么做",
            "silent@example.cn": "别错过：产品介绍",
        }
        assert crm.get("lead", leads["clicker"]["id"])["interests"] == ["product"]
        assert crm.get("lead", leads["opener"]["id"])["interests"] in (None, [])
        # the case studies' link clicked: tagged by that interest four days later
        assert (
            reader.get(_link(second["opener@example.cn"], "click"), follow_redirects=False).status_code == 302
        )

    crm.clock.advance(days=4, minutes=1)
    _run_jobs(crm)
    assert crm.get("lead", leads["opener"]["id"])["interests"] == ["case_study"]
    assert len(_mails(mailbox)) == 6  # nothing more was sent
    assert [f for f, status in crm.instances("lead", leads["silent"]["id"]) if f == "lead_nurture"] == [
        "lead_nurture"
    ]


def test_a_p1_case_waiting_for_the_customer_breaches_only_after_the_time_left(crm: Crm) -> None:
    # Monday 2 Nov 2026, 10:00 Beijing; working hours 09:00-12:00 and 13:00-18:00 (8 a day)
    crm.clock.now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    case = crm.create("case", {"subject": "生产线停机", "type": "fault", "priority": "P1"})
    # 24 working hours: Mon 7 + Tue 8 + Wed 8 + Thu 1 -> Thursday 5 Nov 10:00
    assert crm.get("case", case["id"])["resolve_due"] == datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    # answered at once: the resolution clock runs from the first response
    answer = {
        "subject": "已回电",
        "type": "call",
        "case": case["id"],
        "occurred_at": crm.clock.now.isoformat(),
    }
    crm.create("activity", answer)
    crm.clock.now = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # Mon 14:00: 3 working hours used
    crm.update("case", case["id"], {"status": "waiting_customer"})
    crm.clock.now = datetime(2026, 11, 4, 6, 0, tzinfo=UTC)  # Wed 14:00: two working days later
    crm.run_due()
    crm.update("case", case["id"], {"status": "in_progress"})
    # 21 working hours left from Wed 14:00: Wed 4 + Thu 8 + Fri 8 + Mon 1 -> Monday 9 Nov 10:00
    crm.clock.now = datetime(2026, 11, 5, 2, 1, tzinfo=UTC)  # past the deadline first set
    crm.run_due()
    crm.clock.now = datetime(2026, 11, 9, 1, 59, tzinfo=UTC)
    crm.run_due()
    assert crm.titles("tech_lead") == []
    crm.clock.now = datetime(2026, 11, 9, 2, 1, tzinfo=UTC)
    crm.run_due()
    assert crm.titles("tech_lead") == ["已升级给你：生产线停机"]


def test_a_case_still_waiting_for_the_customer_never_breaches(crm: Crm) -> None:
    crm.clock.now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 Beijing
    case = crm.create("case", {"subject": "等客户回复", "type": "fault", "priority": "P0"})
    crm.update("case", case["id"], {"status": "waiting_customer"})  # before any answer
    crm.clock.now = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # two weeks on
    crm.run_due()
    assert crm.titles("tech_lead") == []
    assert ("case_sla", "running") in crm.instances("case", case["id"])


# -- public pool --------------------------------------------------------------------------------
def test_a_neglected_account_returns_to_the_pool_and_reps_claim_up_to_their_limit(crm: Crm) -> None:
    old = (crm.clock.now - timedelta(days=31)).isoformat()
    recent = (crm.clock.now - timedelta(days=5)).isoformat()
    neglected = crm.create("account", {"name": "久未跟进", "last_follow_up": old}, as_user="east1")
    kept = crm.create("account", {"name": "常跟进", "last_follow_up": recent}, as_user="east1")
    crm.clock.now = datetime(2026, 9, 28, 18, 1, tzinfo=UTC)  # after 02:00 Beijing, 29 Sep
    crm.run_due()
    pooled = crm.get("account", neglected["id"])
    # the pool is kept by the administrators: the rep no longer owns it
    assert (pooled["in_pool"], pooled["owner"], pooled["previous_owner"]) == (
        True,
        crm.users["admin"],
        crm.users["east1"],
    )
    assert crm.get("account", kept["id"])["owner"] == crm.users["east1"]
    assert crm.titles("east1") == ["客户 久未跟进 已 30 天未跟进，退回公海"]

    # east2 sees the pool, claims the account; it is theirs and out of the pool
    rep = crm.ctx("east2")
    listed = crm.platform.records.list_records(rep, "crm", "account")
    assert [a["name"] for a in listed.items] == ["久未跟进"]
    crm.start("east2", "account", neglected["id"], "account_claim")
    claimed = crm.get("account", neglected["id"])
    assert (claimed["owner"], claimed["in_pool"]) == (crm.users["east2"], False)

    # east3 holds as many accounts as the claim flow allows and is refused with the reason
    limit = next(
        a["limit"]["max"]
        for n in _flow("account_claim")["nodes"]
        for a in n.get("actions", [])
        if a["type"] == "assign_owner"
    )
    for i in range(limit):
        crm.create("account", {"name": f"东三客户{i}", "last_follow_up": recent}, as_user="east3")
    crm.update("account", claimed["id"], {"in_pool": True})
    with pytest.raises(InvalidInput) as refused:
        crm.start("east3", "account", claimed["id"], "account_claim")
    assert refused.value.message("zh") == f"east3 名下已有 {limit} 条记录，已达上限 {limit}，不能再分配"
    assert str(limit) in refused.value.message("en")
    assert crm.get("account", claimed["id"])["owner"] == crm.users["east2"]  # nothing changed


def test_dates_in_this_module_are_what_the_comments_say() -> None:
    assert MONDAY.date().weekday() == 0 and date(2026, 9, 30).weekday() == 2
    assert date(2026, 10, 10).weekday() == 5 and date(2026, 9, 24).weekday() == 3
    assert date(2026, 11, 2).weekday() == 0 and date(2026, 11, 9).weekday() == 0
    assert Decimal("0.25") > Decimal("0.2") > Decimal("0.15") > Decimal("0.1") > Decimal("0.05")
