"""Fixtures for the flow engine: a platform with the flow plugin, a small CRM app, people in
departments and roles, a clock the test moves, and a job runner that fires what is due."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

import flow_engine
from engine import Context, JobRunner, Platform, Principal, Settings, put_section
from engine.apps.metadata_store import import_app
from engine.http import create_app
from engine.identity import departments, roles
from engine.identity.users import create_user, update_user
from flow_engine import plugin
from flow_engine.notify.plugin import NotifyPlugin
from flow_engine.notify.tables import notifications
from flow_engine.webhooks.plugin import WebhookPlugin
from tests.engine.conftest import (  # noqa: F401 - the kernel's database fixtures, shared
    postgres_system_ddl,
    settings,
    sign_in,
    sqlite_system_template,
    system_database_url,
)

PASSWORD = "flow-password-1"


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


def _select(name: str, values: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "select",
        "label": _label(name, name),
        "options": [{"value": v, "label": _label(v, v)} for v in values],
    }


def _f(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "label": _label(name, name), **extra}


CRM: dict[str, Any] = {
    "name": "crm",
    "label": _label("客户关系", "CRM"),
    "entities": [
        {
            "name": "account",
            "label": _label("客户", "Account"),
            "fields": [_f("name", "text"), _select("grade", ["A", "B", "C"]), _f("region", "text")],
        },
        {
            "name": "contract",
            "label": _label("合同", "Contract"),
            "fields": [
                _f("title", "text"),
                _f("amount", "number"),
                _f("account", "lookup", entity="account"),
                _select("status", ["草稿", "审批中", "已审批", "已退回"]),
                _f("note", "text"),
            ],
        },
        {
            "name": "opportunity",
            "label": _label("商机", "Opportunity"),
            "fields": [
                _f("title", "text"),
                _f("amount", "number"),
                _select("stage", ["初步接洽", "报价", "合同审批", "赢单"]),
                _f("last_follow_up", "date"),
                _f("next_step", "text"),
            ],
        },
        {
            "name": "lead",
            "label": _label("线索", "Lead"),
            "fields": [_f("name", "text"), _f("region", "text"), _f("industry", "text")],
        },
        {
            "name": "ticket",
            "label": _label("工单", "Case"),
            "fields": [
                _f("title", "text"),
                _select("kind", ["billing", "technical"]),
                _select("priority", ["high", "normal"]),
                _f("team", "text"),
                _f("responded_at", "datetime"),
            ],
        },
    ],
    "roles": [
        {
            "name": "staff",
            "label": _label("员工", "Staff"),
            "everyone": True,
            "permissions": {
                e: {"create": True, "read": True, "update": True}
                for e in ("account", "contract", "opportunity", "lead", "ticket")
            },
        },
        {"name": "finance_head", "label": _label("财务负责人", "Finance head"), "permissions": {}},
        {"name": "ceo", "label": _label("总经理", "CEO"), "permissions": {}},
    ],
}


def crm_app(**sections: Any) -> dict[str, Any]:
    return {**copy.deepcopy(CRM), **copy.deepcopy(sections)}


@dataclass
class Clock:
    """The flow engine's clock, moved by the test (never slept on)."""

    now: datetime = field(default_factory=lambda: datetime(2024, 9, 27, 2, 0, tzinfo=UTC))  # Fri 10:00 +08

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass(frozen=True)
class JobCall:
    """What a job handler receives (the kernel's runner passes its own, with the same fields)."""

    platform: Platform
    conn: Any
    payload: dict[str, Any]
    attempt: int
    job_id: int


def run_due(platform: Platform, clock: Clock, kinds: set[str] | None = None) -> int:
    """Run every job due by the clock until none is left, as ``tangram worker --once`` does,
    with the kernel's job runner; ``kinds`` limits it to those job kinds. Returns how many ran."""
    handlers = flow_engine.job_handlers(platform)
    handlers = {kind: handler for kind, handler in handlers.items() if kinds is None or kind in kinds}
    runner = JobRunner(platform, clock=lambda: clock.now, handlers=handlers)
    ran = 0
    while done := runner.run_pending():
        ran += done
    return ran


@dataclass
class World:
    """The platform, its clock and the people of the tests, by username."""

    platform: Platform
    clock: Clock
    users: dict[str, int]
    service: flow_engine.FlowService

    def ctx(self, username: str) -> Context:
        user_id = self.users[username]
        with self.platform.db.connect() as conn:
            held = roles.user_roles(conn, user_id)
        return Context(user=Principal(user_id, username, username == "admin", roles=held), locale="zh")

    def create(self, entity: str, values: dict[str, Any], as_user: str = "owner") -> dict[str, Any]:
        return self.platform.records.create(self.ctx(as_user), "crm", entity, values)

    def update(
        self, entity: str, record_id: int, values: dict[str, Any], as_user: str = "owner"
    ) -> dict[str, Any]:
        return self.platform.records.update(self.ctx(as_user), "crm", entity, record_id, values)

    def get(self, entity: str, record_id: int) -> dict[str, Any]:
        return self.platform.records.get(self.ctx("admin"), "crm", entity, record_id)

    def put_flows(self, *flows: dict[str, Any], calendars: list[dict[str, Any]] | None = None) -> None:
        admin = self.ctx("admin")
        if calendars is not None:
            with self.platform.db.begin() as conn:
                put_section(conn, "crm", "calendars", calendars, admin)
        for flow in flows:
            self.service.put_flow(admin, "crm", flow["name"], flow)
            self.service.publish(admin, "crm", flow["name"])

    def tasks(self, username: str, **filters: Any) -> list[dict[str, Any]]:
        return self.service.tasks(self.ctx(username), **filters)

    def act(self, username: str, task_id: int, action: str, **body: Any) -> dict[str, Any]:
        return self.service.act(self.ctx(username), task_id, action, body)

    def instances(self, entity: str, record_id: int) -> list[dict[str, Any]]:
        return self.service.record_instances(self.ctx("admin"), "crm", entity, record_id)

    def notifications(self, username: str | None = None) -> list[dict[str, Any]]:
        n = notifications
        query = sa.select(n).order_by(n.c.id)
        if username is not None:
            query = query.where(n.c.user_id == self.users[username])
        with self.platform.db.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def run_due(self) -> int:
        return run_due(self.platform, self.clock)


PEOPLE = [
    "admin",
    "owner",
    "gm",
    "cfo",
    "ceo",
    "director",
    "senior",
    "sh1",
    "sh2",
    "sh3",
    "bj1",
    "lead_sup",
    "other",
]


@pytest.fixture
def flow_platform(database_url: str, request: pytest.FixtureRequest) -> Iterator[Platform]:
    """A platform on the per-test database (both backends, hence ``database_url``) with the
    flow plugin installed."""
    configured: Settings = request.getfixturevalue("settings")
    plugins = [plugin, NotifyPlugin(), WebhookPlugin()]
    platform = Platform(configured, plugins=plugins, load_entry_points=False)
    platform.init_database()
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture
def world(flow_platform: Platform) -> World:
    platform = flow_platform
    cost = platform.settings.password_hash_cost
    clock = Clock()
    flow_engine.runner_of(platform, clock)
    users: dict[str, int] = {}
    with platform.db.begin() as conn:
        for name in PEOPLE:
            users[name] = create_user(conn, name, PASSWORD, is_admin=name == "admin", hash_cost=cost)
        sales = departments.create_department(conn, "销售部", head_id=users["director"])
        shanghai = departments.create_department(conn, "上海团队", parent_id=sales, head_id=users["sh1"])
        support = departments.create_department(conn, "技术支持", head_id=users["lead_sup"])
        members = (
            ("owner", sales),
            ("sh1", shanghai),
            ("sh2", shanghai),
            ("sh3", shanghai),
            ("bj1", sales),
            ("lead_sup", support),
            ("other", support),
        )
        for name, dept in members:
            update_user(conn, users[name], {"department_id": dept})
        update_user(conn, users["owner"], {"manager_id": users["director"]})
        package = import_app(conn, crm_app(), Context())
        roles.set_roles(conn, Context(), package, users["cfo"], ["finance_head"])
        roles.set_roles(conn, Context(), package, users["ceo"], ["ceo"])
    return World(platform, clock, users, flow_engine.FlowService(platform))


@pytest.fixture
def http(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(platform=world.platform)) as client:
        yield client


def signed_in(client: TestClient, username: str) -> dict[str, str]:
    return sign_in(client, username, PASSWORD)
