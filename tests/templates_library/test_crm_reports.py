"""The CRM template's reports and dashboards, run through the HTTP API over a small set of
records made in the test, each number checked against the same figure worked out here in plain
Python from the rows created; row scopes, every dashboard for its roles, and a sample-data demo.

```
销售中心 (director)
├── 华东销售部 (manager, rep1, rep2)
└── 华南销售部 (rep3)
客户服务部 (agent, service_lead)
```
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

import report_engine.plugin
import templates_library
from engine import SYSTEM, Platform, Settings, parse_package
from engine.apps import metadata_store
from engine.apps.sections import sections
from engine.http import create_app
from engine.identity.users import create_user
from engine.records.sample_data import SampleData
from report_engine.sections import SECTIONS
from tests.engine.conftest import sign_in

APP = "/api/apps/crm"
CRM = f"{APP}/records"
ADMIN = ("boss", "boss-password-1")
PASSWORD = "password-123"
#: a range holding every date below, and today (cases are created now)
EVERYTHING = {"period": {"from": "2025-01-01", "to": (date.today() + timedelta(days=2)).isoformat()}}

PROBABILITY = {
    "initial": Decimal("0.1"),
    "analysis": Decimal("0.3"),
    "proposal": Decimal("0.6"),
    "negotiation": Decimal("0.8"),
    "won": Decimal("1"),
    "lost": Decimal("0"),
}
OPEN = ["initial", "analysis", "proposal", "negotiation"]
FUNNEL = [*OPEN, "won"]
STAGE_ORDER = [*OPEN, "won", "lost"]
INDUSTRY_ORDER = ["manufacturing", "it", "finance"]  # the option order of those used below

#: who -> (department, role)
PEOPLE = {
    "rep1": ("east", "sales_rep"),
    "rep2": ("east", "sales_rep"),
    "rep3": ("south", "sales_rep"),
    "manager": ("east", "sales_manager"),
    "director": ("sales", "sales_director"),
    "agent": ("service", "service_agent"),
    "service_lead": ("service", "service_lead"),
}
#: key -> (industry, owner)
ACCOUNTS = {
    "acme": ("manufacturing", "rep1"),
    "byte": ("it", "rep1"),
    "fin": ("finance", "rep2"),
    "nowhere": (None, "rep3"),
}
#: (account, owner, amount, stage, close date); amounts in tens of fen so amount x probability
#: needs no rounding
OPPORTUNITIES = [
    ("acme", "rep1", "100000.00", "won", "2025-01-15"),
    ("acme", "rep1", "50000.50", "won", "2025-03-02"),
    ("byte", "rep1", "80000.00", "lost", "2025-02-10"),
    ("byte", "rep1", "30000.10", "negotiation", "2025-04-20"),
    ("acme", "rep1", "12000.00", "initial", "2025-05-05"),
    ("acme", "rep1", "15000.00", "analysis", "2025-04-30"),
    ("fin", "rep2", "200000.00", "won", "2025-01-28"),
    ("fin", "rep2", "45000.30", "proposal", "2025-04-11"),
    ("fin", "rep2", "60000.00", "lost", "2025-03-15"),
    ("fin", "rep2", "7000.70", "analysis", "2025-05-18"),
    ("nowhere", "rep3", "75000.20", "won", "2025-02-14"),
    ("nowhere", "rep3", "9000.00", "analysis", "2025-05-30"),
    ("nowhere", "rep3", "33000.00", "won", "2025-04-03"),
]
#: key -> (account, owner, amount, sign date, approval status, status)
CONTRACTS = {
    "c1": ("acme", "rep1", "150000.00", "2025-01-20", "approved", "active"),
    "c2": ("fin", "rep2", "200000.00", "2025-01-30", "approved", "active"),
    "c3": ("nowhere", "rep3", "75000.20", "2025-02-16", "approved", "completed"),
    "c4": ("byte", "rep1", "30000.00", "2025-02-20", "draft", "not_started"),
}
#: (contract, due date, amount, status)
PLANS = [
    ("c1", "2025-02-01", "75000.00", "paid"),
    ("c1", "2025-04-01", "75000.00", "pending"),
    ("c2", "2025-02-15", "100000.00", "paid"),
    ("c2", "2025-03-15", "100000.00", "overdue"),
    ("c3", "2025-03-01", "75000.20", "paid"),
    ("c4", "2025-03-10", "30000.00", "pending"),
]
#: (contract, amount, paid on)
PAYMENTS = [
    ("c1", "75000.00", "2025-02-03"),
    ("c2", "100000.00", "2025-02-14"),
    ("c2", "20000.55", "2025-03-20"),
    ("c3", "75000.20", "2025-03-02"),
]


def at(text: str | None) -> datetime | None:
    """A moment of March 2025 in UTC from ``"DD HH:MM"`` (the year 2099 for ``"far"``)."""
    if text is None:
        return None
    if text == "far":
        return datetime(2099, 1, 1, tzinfo=UTC)
    day, clock = text.split()
    hour, minute = clock.split(":")
    return datetime(2025, 3, int(day), int(hour), int(minute), tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Case:
    owner: str
    priority: str
    status: str
    respond_by: datetime | None
    responded: datetime | None
    resolve_by: datetime | None
    resolved: datetime | None

    @property
    def resolved_in_time(self) -> bool:  # unknown (no deadline) is not in time, as in SQL
        return self.resolved is not None and self.resolve_by is not None and self.resolved <= self.resolve_by

    @property
    def responded_in_time(self) -> bool:
        return (
            self.responded is not None and self.respond_by is not None and self.responded <= self.respond_by
        )

    @property
    def open(self) -> bool:
        return self.status in ("new", "in_progress", "waiting_customer")


#: (owner, priority, status, respond by, first response, resolve by, resolved at)
CASES = [
    Case(o, p, s, at(rb), at(r), at(sb), at(sd))
    for o, p, s, rb, r, sb, sd in [
        ("agent", "P0", "resolved", "01 09:00", "01 08:30", "01 12:00", "01 10:00"),
        ("agent", "P0", "closed", "02 09:00", "02 09:30", "02 12:00", "02 13:00"),
        ("service_lead", "P1", "resolved", "04 09:00", "04 08:00", "05 09:00", "04 18:00"),
        ("agent", "P2", "in_progress", "08 09:00", "08 10:00", "10 09:00", None),
        ("agent", "P2", "resolved", "06 09:00", "06 08:00", None, "06 15:00"),
        ("service_lead", "P3", "waiting_customer", None, None, "far", None),
        ("agent", "P3", "resolved", "18 09:00", None, "20 09:00", "19 09:00"),
    ]
]


@dataclasses.dataclass(frozen=True)
class Opp:
    account: str
    owner: str
    amount: Decimal
    stage: str
    close: date

    @property
    def month(self) -> str:
        return self.close.replace(day=1).isoformat()

    @property
    def expected(self) -> Decimal:
        return self.amount * PROBABILITY[self.stage]


OPPS = [Opp(a, o, Decimal(m), s, date.fromisoformat(d)) for a, o, m, s, d in OPPORTUNITIES]


def ratio(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return None if not whole else (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def total(values: list[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) if values else None


def month(text: str) -> str:
    return text[:7] + "-01"


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:
    """A platform with the report engine plugged in and no users yet (the demo makes its own)."""
    platform = Platform(settings, plugins=[report_engine.plugin], load_entry_points=False)
    platform.init_database()
    try:
        yield platform
    finally:
        platform.close()


@dataclasses.dataclass
class Crm:
    admin: TestClient
    users: dict[str, int]
    headers: dict[str, dict[str, str]]
    ids: dict[str, int]

    def run(self, report: str, who: str | None = None, params: dict[str, Any] | None = None) -> Any:
        r = self.admin.post(
            f"{APP}/reports/{report}/run",
            json={"params": params or {}},
            headers=self.headers.get(who or "", {}),
        )
        assert r.status_code == 200, r.text
        return r.json()

    def dashboard(self, name: str, who: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{APP}/dashboards/{name}"
        r = self.admin.get(
            url, params={"params": json.dumps(params)} if params else None, headers=self.headers[who]
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        for item in body["items"]:
            assert "result" in item, (name, who, item)
        return body


def create(client: TestClient, entity: str, data: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"{CRM}/{entity}", json=data)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def crm(platform: Platform) -> Iterator[Crm]:
    """The CRM installed over HTTP, its people, and the records above (owned by them)."""
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True, hash_cost=platform.settings.password_hash_cost)
    with TestClient(create_app(platform=platform)) as client:
        client.headers.update(sign_in(client, *ADMIN))
        r = client.post("/api/apps", json=templates_library.load("crm"))
        assert r.status_code == 201, r.text
        depts: dict[str, int] = {}
        for key, name, parent in (
            ("sales", "销售中心", None),
            ("east", "华东销售部", "sales"),
            ("south", "华南销售部", "sales"),
            ("service", "客户服务部", None),
        ):
            body = {"name": name, "parent_id": depts[parent] if parent else None}
            r = client.post("/api/departments", json=body)
            assert r.status_code == 201, r.text
            depts[key] = r.json()["id"]
        users: dict[str, int] = {}
        headers: dict[str, dict[str, str]] = {}
        for who, (dept, role) in PEOPLE.items():
            r = client.post(
                "/api/users", json={"username": who, "password": PASSWORD, "department_id": depts[dept]}
            )
            assert r.status_code == 201, r.text
            users[who] = r.json()["id"]
            r = client.put(f"{APP}/users/{users[who]}/roles", json={"roles": [role]})
            assert r.status_code == 200, r.text
            headers[who] = sign_in(client, who, PASSWORD)
        ids: dict[str, int] = {}
        for key, (industry, owner) in ACCOUNTS.items():
            data = {"name": f"{key} 有限公司", "industry": industry, "owner": users[owner]}
            ids[key] = create(client, "account", data)["id"]
        for i, o in enumerate(OPPS):
            data = {
                "name": f"商机 {i}",
                "account": ids[o.account],
                "owner": users[o.owner],
                "amount": str(o.amount),
                "stage": o.stage,
                "close_date": o.close.isoformat(),
            }
            if o.stage == "lost":
                data["loss_reason"] = "price"
            create(client, "opportunity", data)
        for key, (account, owner, amount, signed, approval, status) in CONTRACTS.items():
            data = {
                "name": f"合同 {key}",
                "account": ids[account],
                "owner": users[owner],
                "amount": amount,
                "sign_date": signed,
                "approval_status": approval,
                "status": status,
            }
            ids[key] = create(client, "contract", data)["id"]
        for i, (contract, due, amount, status) in enumerate(PLANS):
            data = {
                "name": f"第 {i} 期",
                "contract": ids[contract],
                "due_date": due,
                "amount": amount,
                "status": status,
                "owner": users[CONTRACTS[contract][1]],
            }
            create(client, "payment_plan", data)
        for contract, amount, paid_on in PAYMENTS:
            holder = users[CONTRACTS[contract][1]]
            data = {"contract": ids[contract], "amount": amount, "paid_on": paid_on, "owner": holder}
            create(client, "payment", data)
        for i, c in enumerate(CASES):
            moments = {
                "response_due": c.respond_by,
                "first_response_at": c.responded,
                "resolve_due": c.resolve_by,
                "resolved_at": c.resolved,
            }
            data = {
                "subject": f"工单 {i}",
                "type": "fault",
                "priority": c.priority,
                "status": c.status,
                "owner": users[c.owner],
                **{k: v.isoformat() if v else None for k, v in moments.items()},
            }
            if c.status in ("resolved", "closed"):
                data["resolution"] = "已处理"
            create(client, "case", data)
        yield Crm(client, users, headers, ids)


def visible(opps: list[Opp], who: str | None) -> list[Opp]:
    """The opportunities ``who`` may read: their own (rep), their department's (manager), all of
    the sales tree (director, admin)."""
    if who in ("rep1", "rep2", "rep3"):
        return [o for o in opps if o.owner == who]
    if who == "manager":
        return [o for o in opps if PEOPLE[o.owner][0] == "east"]
    return list(opps)


# -- the package ------------------------------------------------------------------------------------
def test_the_reports_and_dashboards_validate_with_the_report_engine() -> None:
    for section in SECTIONS:
        sections.register(section)
    package = parse_package(templates_library.load("crm"))
    reports = {r["name"]: r for r in package.section("reports")}
    assert set(reports) >= {
        "pipeline_by_stage", "opportunity_funnel", "win_rate", "sales_by_month_industry", "sales_forecast",
        "owner_ranking", "payment_collection", "case_sla", "customer_ltv",
    }  # fmt: skip
    for report in reports.values():
        assert report["label"]["zh"] and report["label"]["en"]
        for measure in report.get("measures", []):
            assert measure["label"]["zh"] and measure["label"]["en"], (report["name"], measure["name"])
    boards = {d["name"]: d for d in package.section("dashboards")}
    defaults = {role: name for name, d in boards.items() for role in d["default_for"]}
    assert defaults == {
        "sales_rep": "sales_rep_home",
        "sales_director": "sales_director_home",
        "sales_manager": "sales_director_home",
        "service_lead": "service_lead_home",
        "service_agent": "service_lead_home",
    }


# -- each report's numbers -----------------------------------------------------------------------------
def check_pipeline_by_stage_sums_open_deals(crm: Crm) -> None:
    body = crm.run("pipeline_by_stage")
    open_opps = [o for o in OPPS if o.stage in OPEN]
    grand = sum((o.amount for o in open_opps), Decimal(0))
    assert [r["stage"] for r in body["rows"]] == [s for s in OPEN if any(o.stage == s for o in open_opps)]
    for row in body["rows"]:
        members = [o for o in open_opps if o.stage == row["stage"]]
        amount = sum((o.amount for o in members), Decimal(0))
        assert row["deals"] == len(members)
        assert dec(row["amount"]) == amount
        assert dec(row["expected_revenue"]) == sum((o.expected for o in members), Decimal(0))
        assert dec(row["amount_pct"]) == (amount / grand).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    assert body["totals"]["deals"] == len(open_opps)
    assert dec(body["totals"]["amount"]) == grand
    assert body["rows"][0]["stage@label"] == "Initial contact 10%"


def check_funnel_reaches_down_the_stages_without_lost_deals(crm: Crm) -> None:
    body = crm.run("opportunity_funnel")
    counts = [sum(1 for o in OPPS if o.stage == s) for s in FUNNEL]
    reached = [sum(counts[i:]) for i in range(len(FUNNEL))]
    assert [r["stage"] for r in body["rows"]] == FUNNEL
    for i, row in enumerate(body["rows"]):
        stage = FUNNEL[i]
        assert row["count"] == counts[i]
        assert dec(row["amount"]) == total([o.amount for o in OPPS if o.stage == stage])
        assert row["reached"] == reached[i]
        nxt = ratio(reached[i + 1], reached[i]) if i + 1 < len(FUNNEL) else None
        assert dec(row["conversion_next"]) == nxt
        assert dec(row["conversion_overall"]) == ratio(reached[i], reached[0])
    assert body["totals"]["count"] == sum(1 for o in OPPS if o.stage != "lost")


def check_win_rate(crm: Crm) -> None:
    for who in (None, "rep1", "manager"):
        opps = visible(OPPS, who)
        won = [o for o in opps if o.stage == "won"]
        closed = [o for o in opps if o.stage in ("won", "lost")]
        row = crm.run("win_rate", who)["rows"][0]
        assert (row["won"], row["closed"]) == (len(won), len(closed)), who
        assert dec(row["win_rate"]) == ratio(len(won), len(closed))
        won_amount = sum((o.amount for o in won), Decimal(0))
        closed_amount = sum((o.amount for o in closed), Decimal(0))
        assert dec(row["won_amount"]) == won_amount
        assert dec(row["amount_win_rate"]) == ratio(won_amount, closed_amount)


def check_sales_by_month_and_customer_industry(crm: Crm) -> None:
    body = crm.run("sales_by_month_industry")
    won = [o for o in OPPS if o.stage == "won"]
    cells: dict[tuple[str, str | None], list[Decimal]] = defaultdict(list)
    for o in won:
        cells[(o.month, ACCOUNTS[o.account][0])].append(o.amount)
    assert [r["close_date:month"] for r in body["rows"]] == sorted({m for m, _i in cells})
    industries = [i for i in INDUSTRY_ORDER if any(k[1] == i for k in cells)] + [None]
    assert [k["key"] for k in body["column_keys"]] == [str(i) for i in industries]
    seen = 0
    for row in body["rows"]:
        for key, values in row["cells"].items():
            industry = None if key == "None" else key
            assert dec(values["won_amount"]) == total(cells[(row["close_date:month"], industry)])
            seen += 1
        in_month = [o.amount for o in won if o.month == row["close_date:month"]]
        assert dec(row["total"]["won_amount"]) == total(in_month)
    assert seen == len(cells)
    assert dec(body["totals"]["won_amount"]) == total([o.amount for o in won])


def check_forecast_sums_expected_revenue_by_close_month(crm: Crm) -> None:
    body = crm.run("sales_forecast")
    kept = [o for o in OPPS if o.stage != "lost"]
    months = sorted({o.month for o in kept})
    assert [r["close_date:month"] for r in body["rows"]] == months
    running = Decimal(0)
    for row in body["rows"]:
        members = [o for o in kept if o.month == row["close_date:month"]]
        expected = sum((o.expected for o in members), Decimal(0))
        running += expected
        assert dec(row["expected_revenue"]) == expected
        assert dec(row["expected_revenue_running"]) == running
        assert dec(row["won_amount"]) == total([o.amount for o in members if o.stage == "won"])
        assert dec(row["weighted_open"]) == total([o.expected for o in members if o.stage in OPEN])
    assert dec(body["totals"]["expected_revenue"]) == sum((o.expected for o in kept), Decimal(0))


def check_owner_ranking_adds_up_won_amounts_per_owner(crm: Crm) -> None:
    body = crm.run("owner_ranking")
    by_owner: dict[int, list[Decimal]] = defaultdict(list)
    for o in OPPS:
        if o.stage == "won":
            by_owner[crm.users[o.owner]].append(o.amount)
    assert len(body["rows"]) <= 10
    assert {r["owner"] for r in body["rows"]} == set(by_owner)
    for row in body["rows"]:
        amounts = by_owner[row["owner"]]
        assert dec(row["won_amount"]) == sum(amounts, Decimal(0))
        assert row["won_count"] == len(amounts)
        average = (sum(amounts, Decimal(0)) / len(amounts)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        assert dec(row["avg_deal"]) == average
        assert row["owner@label"] in PEOPLE


def test_payment_collection_compares_received_with_planned(crm: Crm) -> None:
    body = crm.run("payment_collection")
    counted = {k: c for k, c in CONTRACTS.items() if c[4] == "approved" and c[5] != "terminated"}
    months = sorted({month(c[3]) for c in counted.values()})
    assert [r["sign_date:month"] for r in body["rows"]] == months
    for row in body["rows"]:
        keys = [k for k, c in counted.items() if month(c[3]) == row["sign_date:month"]]
        planned = sum((Decimal(p[2]) for p in PLANS if p[0] in keys), Decimal(0))
        received = sum((Decimal(p[1]) for p in PAYMENTS if p[0] in keys), Decimal(0))
        amount = sum((Decimal(counted[k][2]) for k in keys), Decimal(0))
        assert row["contracts"] == len(keys)
        assert dec(row["contract_amount"]) == amount
        assert dec(row["planned"]) == planned
        assert dec(row["received"]) == received
        assert dec(row["collection_rate"]) == ratio(received, planned)
        assert dec(row["outstanding"]) == amount - received

    plans = crm.run("payments_planned_by_month")["rows"]
    assert [r["due_date:month"] for r in plans] == sorted({month(p[1]) for p in PLANS})
    for row in plans:
        members = [p for p in PLANS if month(p[1]) == row["due_date:month"]]
        assert dec(row["planned"]) == sum((Decimal(p[2]) for p in members), Decimal(0))
        assert dec(row["paid"]) == total([Decimal(p[2]) for p in members if p[3] == "paid"])
        assert dec(row["overdue"]) == total([Decimal(p[2]) for p in members if p[3] == "overdue"])

    received_rows = crm.run("payments_received_by_month")["rows"]
    assert [r["paid_on:month"] for r in received_rows] == sorted({month(p[2]) for p in PAYMENTS})
    running = Decimal(0)
    for row in received_rows:
        amounts = [Decimal(p[1]) for p in PAYMENTS if month(p[2]) == row["paid_on:month"]]
        running += sum(amounts, Decimal(0))
        assert (dec(row["received"]), row["payments"]) == (sum(amounts, Decimal(0)), len(amounts))
        assert dec(row["received_running"]) == running


def test_case_sla_counts_cases_resolved_in_time_by_priority(crm: Crm) -> None:
    body = crm.run("case_sla")
    resolved = [c for c in CASES if c.resolved is not None]
    priorities = sorted({c.priority for c in resolved})  # P0-P3 is also the option order
    assert [r["priority"] for r in body["rows"]] == priorities
    for row in body["rows"]:
        members = [c for c in resolved if c.priority == row["priority"]]
        in_time = sum(1 for c in members if c.resolved_in_time)
        responded = sum(1 for c in members if c.responded_in_time)
        assert row["resolved"] == len(members)
        assert row["resolved_in_time"] == in_time
        assert dec(row["sla_rate"]) == ratio(in_time, len(members))
        assert row["responded_in_time"] == responded
        assert dec(row["response_rate"]) == ratio(responded, len(members))
    assert body["totals"]["resolved"] == len(resolved)

    now = datetime.now(UTC)
    for who in (None, "agent", "service_lead"):
        still_open = [c for c in CASES if c.open and (who != "agent" or c.owner == "agent")]
        row = crm.run("open_cases", who)["rows"][0]
        assert row["open"] == len(still_open), who
        assert row["overdue"] == sum(1 for c in still_open if c.resolve_by is not None and c.resolve_by < now)
        assert row["waiting_customer"] == sum(1 for c in still_open if c.status == "waiting_customer")

    matrix = crm.run("cases_by_priority_status")
    assert matrix["totals"]["cases"] == len(CASES)
    for row in matrix["rows"]:
        for status, values in row["cells"].items():
            assert values["cases"] == sum(
                1 for c in CASES if (c.priority, c.status) == (row["priority"], status)
            )


def test_lifetime_value_cohorts_accounts_by_first_won_month(crm: Crm) -> None:
    body = crm.run("customer_ltv")
    won = [o for o in OPPS if o.stage == "won"]
    first: dict[str, date] = {}
    for o in sorted(won, key=lambda o: o.close):
        first.setdefault(o.account, o.close.replace(day=1))
    cohorts = sorted(set(first.values()))
    assert [r["cohort"] for r in body["rows"]] == [c.isoformat() for c in cohorts]
    for row in body["rows"]:
        start = date.fromisoformat(row["cohort"])
        accounts = {a for a, m in first.items() if m == start}
        assert row["size"] == len(accounts)
        running = Decimal(0)
        for cell in row["cells"]:
            age = cell["age"]
            members = [
                o for o in won
                if o.account in accounts
                and (o.close.year - start.year) * 12 + o.close.month - start.month == age
            ]  # fmt: skip
            running += sum((o.amount for o in members), Decimal(0))
            assert cell["subjects"] == len({o.account for o in members})
            assert dec(cell["cumulative_value"]) == running
            assert dec(cell["value_per_subject"]) == ratio(running, len(accounts))
        assert len(row["cells"]) == 12


def test_pipeline_funnel_and_win_rate(crm: Crm) -> None:
    check_pipeline_by_stage_sums_open_deals(crm)
    check_funnel_reaches_down_the_stages_without_lost_deals(crm)
    check_win_rate(crm)


def test_sales_by_month_forecast_and_ranking(crm: Crm) -> None:
    check_sales_by_month_and_customer_industry(crm)
    check_forecast_sums_expected_revenue_by_close_month(crm)
    check_owner_ranking_adds_up_won_amounts_per_owner(crm)


# -- dashboards and row scopes --------------------------------------------------------------------------
def test_a_reps_dashboard_counts_only_the_reps_records(crm: Crm) -> None:
    for who in ("rep1", "rep3", "manager", "director"):
        board = crm.dashboard("sales_rep_home", who, EVERYTHING)
        results = {item["report"]: item["result"] for item in board["items"]}
        opps = visible(OPPS, who)
        won = [o for o in opps if o.stage == "won"]
        open_opps = [o for o in opps if o.stage in OPEN]
        kpi = results["won_revenue"]["rows"][0]
        assert dec(kpi["won_amount"]) == total([o.amount for o in won]), who
        assert kpi["won_count"] == len(won)
        pipeline = results["open_pipeline"]["rows"][0]
        assert pipeline["open_count"] == len(open_opps), who
        assert dec(pipeline["open_amount"]) == total([o.amount for o in open_opps])
        assert dec(pipeline["weighted"]) == total([o.expected for o in open_opps])
        closed = [o for o in opps if o.stage in ("won", "lost")]
        assert dec(results["win_rate"]["rows"][0]["win_rate"]) == ratio(len(won), len(closed))
        stages = {r["stage"]: r["deals"] for r in results["pipeline_by_stage"]["rows"]}
        assert stages == {s: n for s in OPEN if (n := sum(1 for o in open_opps if o.stage == s))}
        funnel = [r["count"] for r in results["opportunity_funnel"]["rows"]]
        assert funnel == [sum(1 for o in opps if o.stage == s) for s in FUNNEL]
        forecast = results["sales_forecast"]["totals"]["expected_revenue"]
        assert dec(forecast) == total([o.expected for o in opps if o.stage != "lost"])
    # the rep's own figure really is a part: the whole is bigger
    assert visible(OPPS, "rep1") != visible(OPPS, "director")
    check_a_rep_sees_only_their_own_ranking_payments_and_cases(crm)


def check_a_rep_sees_only_their_own_ranking_payments_and_cases(crm: Crm) -> None:
    ranking = crm.run("owner_ranking", "rep2")["rows"]
    assert [r["owner"] for r in ranking] == [crm.users["rep2"]]
    rows = crm.run("payment_collection", "rep1")["rows"]
    assert sum(r["contracts"] for r in rows) == sum(
        1 for c in CONTRACTS.values() if c[1] == "rep1" and c[4] == "approved" and c[5] != "terminated"
    )
    assert crm.run("case_sla", "agent")["totals"]["resolved"] == sum(
        1 for c in CASES if c.owner == "agent" and c.resolved is not None
    )


def test_every_dashboard_runs_for_its_roles(crm: Crm) -> None:
    package = templates_library.load("crm")
    holders = {role: who for who, (_dept, role) in PEOPLE.items()}
    for board in package["dashboards"]:
        for role in board["default_for"]:
            who = holders[role]
            r = crm.admin.get(f"{APP}/dashboards", headers=crm.headers[who])
            assert r.status_code == 200, r.text
            assert r.json()["default"] == board["name"], role
            crm.dashboard(board["name"], who)  # the dashboard's own filters
            crm.dashboard(board["name"], who, EVERYTHING)
    service = crm.dashboard("service_lead_home", "service_lead", EVERYTHING)
    results = {item["report"]: item["result"] for item in service["items"]}
    assert results["case_sla"]["totals"]["resolved"] == sum(1 for c in CASES if c.resolved is not None)


# -- the demo --------------------------------------------------------------------------------------------
def test_every_report_and_dashboard_runs_over_the_demo_data(platform: Platform) -> None:
    plan = templates_library.demo_plan("crm")
    assert plan is not None
    with platform.db.begin() as conn:
        package = metadata_store.import_app(conn, templates_library.load("crm"), SYSTEM)
    sample = SampleData(platform.records, package.name, plan, scale=0.02)
    people = sample.create_people(hash_cost=platform.settings.password_hash_cost)
    counts = sample.create_records()
    assert counts["opportunity"] > 0 and counts["case"] > 0
    reports = [r["name"] for r in package.section("reports")]
    boards = package.section("dashboards")
    with TestClient(create_app(platform=platform)) as client:
        for person in people:
            headers = sign_in(client, person.username, person.password)
            if "crm_admin" in person.roles:
                for name in reports:
                    r = client.post(f"{APP}/reports/{name}/run", json={}, headers=headers)
                    assert r.status_code == 200, (name, r.text)
                for board in boards:
                    r = client.get(f"{APP}/dashboards/{board['name']}", headers=headers)
                    assert r.status_code == 200, r.text
                    assert all("result" in item for item in r.json()["items"]), r.text
                continue
            default = client.get(f"{APP}/dashboards", headers=headers).json()["default"]
            r = client.get(f"{APP}/dashboards/{default}", headers=headers)
            assert r.status_code == 200, r.text
            for item in r.json()["items"]:
                assert "result" in item, (person.username, item)
