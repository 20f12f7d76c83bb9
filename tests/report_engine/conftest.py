"""A small sales-like app with the report engine plugged in, an organisation with roles, and
generated records created through the record service (never raw SQL).

```
HQ (director)
├── East (head; rep_e)
└── West (rep_w)
```
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

import report_engine.plugin
from engine import SYSTEM, Platform, Settings
from engine.apps.metadata_store import import_app
from engine.http import create_app
from engine.identity.departments import create_department
from engine.identity.roles import set_roles
from engine.identity.users import create_user, issue_token
from engine.schema import system_tables as st
from tests.engine.conftest import (  # noqa: F401 - fixtures shared with the kernel's tests
    postgres_system_ddl,
    settings,
    sqlite_system_template,
    system_database_url,
)

APP = "biz"
PASSWORD = "report-password-1"
STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
STAGE_LABELS = {
    "lead": ("线索", "Lead"),
    "qualified": ("已确认", "Qualified"),
    "proposal": ("方案", "Proposal"),
    "negotiation": ("谈判", "Negotiation"),
    "won": ("赢单", "Won"),
    "lost": ("输单", "Lost"),
}
REGIONS = ["华东", "华南", "华北", "西南"]


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh": zh, "en": en}


APP_PACKAGE: dict[str, Any] = {
    "name": APP,
    "label": _label("业务", "Business"),
    "entities": [
        {
            "name": "account",
            "label": _label("客户", "Account"),
            "fields": [
                {"name": "name", "type": "text", "label": _label("名称", "Name")},
                {"name": "region", "type": "text", "label": _label("区域", "Region")},
                {"name": "parent", "type": "lookup", "label": _label("上级", "Parent"), "entity": "account"},
                {"name": "credit", "type": "integer", "label": _label("授信", "Credit")},
            ],
        },
        {
            "name": "deal",
            "label": _label("商机", "Deal"),
            "fields": [
                {"name": "title", "type": "text", "label": _label("标题", "Title")},
                {"name": "amount", "type": "currency", "label": _label("金额", "Amount")},
                {
                    "name": "probability",
                    "type": "percent",
                    "label": _label("赢率", "Probability"),
                    "scale": 2,
                },
                {
                    "name": "stage",
                    "type": "select",
                    "label": _label("阶段", "Stage"),
                    "options": [{"value": v, "label": _label(*STAGE_LABELS[v])} for v in STAGES],
                },
                {"name": "close_date", "type": "date", "label": _label("成交日期", "Close date")},
                {"name": "signed_at", "type": "datetime", "label": _label("签约时间", "Signed at")},
                {"name": "quantity", "type": "integer", "label": _label("数量", "Quantity")},
                {"name": "notes", "type": "long_text", "label": _label("备注", "Notes")},
                {"name": "secret", "type": "integer", "label": _label("底价", "Floor price")},
                {"name": "contact_phone", "type": "text", "label": _label("电话", "Phone")},
                {
                    "name": "account",
                    "type": "lookup",
                    "label": _label("客户", "Account"),
                    "entity": "account",
                },
            ],
        },
    ],
    "roles": [
        {
            "name": "rep",
            "label": _label("销售代表", "Rep"),
            "permissions": {
                "deal": {
                    "create": True,
                    "read": {"scope": "own"},
                    "update": {"scope": "own"},
                    "fields": {
                        "secret": {"access": "hidden"},
                        "contact_phone": {"access": "masked", "mask": "phone"},
                    },
                },
                "account": {"read": {"scope": "all"}},
            },
        },
        {
            "name": "manager",
            "label": _label("经理", "Manager"),
            "permissions": {
                "deal": {"read": {"scope": "department"}, "export": True},
                "account": {"read": {"scope": "all"}},
            },
        },
        {
            "name": "director",
            "label": _label("总监", "Director"),
            "permissions": {
                "deal": {"read": {"scope": "department_tree"}, "export": True},
                "account": {"read": {"scope": "all"}},
            },
        },
    ],
}

#: who -> roles
ROLES = {"rep_e": ["rep"], "rep_w": ["rep"], "head": ["manager"], "director": ["director"], "stranger": []}


@dataclass
class Org:
    platform: Platform
    users: dict[str, int]
    departments: dict[str, int]
    tokens: dict[str, str]
    api: Any

    def client(self, who: str, locale: str = "en") -> TestClient:
        client = TestClient(self.api)
        client.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        client.headers["Accept-Language"] = locale
        return client


@pytest.fixture
def platform(settings: Settings) -> Iterator[Platform]:  # noqa: F811 - the plugin is loaded here
    platform = Platform(settings, plugins=[report_engine.plugin], load_entry_points=False)
    platform.init_database()
    try:
        yield platform
    finally:
        platform.close()


def install(platform: Platform, package: dict[str, Any]) -> Org:
    cost = platform.settings.password_hash_cost
    with platform.db.begin() as conn:
        users = {"admin": create_user(conn, "boss", PASSWORD, is_admin=True, hash_cost=cost)}
        hq = create_department(conn, "总部 HQ")
        east = create_department(conn, "华东 East", parent_id=hq)
        west = create_department(conn, "华西 West", parent_id=hq)
        homes = {"rep_e": east, "rep_w": west, "head": east, "director": hq, "stranger": None}
        for name, dept in homes.items():
            users[name] = create_user(conn, name, PASSWORD, department_id=dept, hash_cost=cost)
        conn.execute(st.departments.update().where(st.departments.c.id == east).values(head_id=users["head"]))
        imported = import_app(conn, package, SYSTEM)
        for name, roles in ROLES.items():
            set_roles(conn, SYSTEM, imported, users[name], roles)
        tokens = {
            name: issue_token(conn, uid, name="test", kind="api", ttl=timedelta(hours=1)).token
            for name, uid in users.items()
        }
    return Org(platform, users, {"hq": hq, "east": east, "west": west}, tokens, create_app(platform=platform))


@pytest.fixture
def org(platform: Platform) -> Org:
    return install(platform, APP_PACKAGE)


#: awkward money: binary floating point cannot hold these, their sums must still be exact
AMOUNTS = ["0.10", "0.20", "0.30", "1234567.89", "0.01", "99999.99", "5.55", "2.67", "1.05", "333.33"]
OWNERS = ["rep_e", "rep_w", "head", "director", None]


def generate(org: Org, count: int = 60, seed: int = 7) -> list[dict[str, Any]]:
    """Accounts and deals made through the record service; returns the deals as stored
    (Python values), each with its owner's name and its account's region for the tests."""
    rng = random.Random(seed)
    service = org.platform.records
    accounts = []
    for i in range(6):
        region = REGIONS[i % len(REGIONS)] if i != 5 else None
        record = service.create(
            SYSTEM, APP, "account", {"name": f"客户{i}", "region": region, "credit": 1000 * i}
        )
        accounts.append(record)
    deals = []
    for i in range(count):
        owner = OWNERS[i % len(OWNERS)]
        account = accounts[rng.randrange(len(accounts))] if i % 9 else None
        close = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 540))
        values: dict[str, Any] = {
            "title": f"商机 {i}",
            "amount": AMOUNTS[i % len(AMOUNTS)] if i % 11 else None,
            "probability": f"0.{rng.randrange(0, 100):02d}",
            "stage": STAGES[rng.randrange(len(STAGES))] if i % 13 else None,
            "close_date": close.isoformat(),
            "signed_at": (
                datetime(2024, 1, 1, 15, 30)
                + timedelta(days=rng.randrange(0, 400), hours=rng.randrange(0, 24))
            ).isoformat()
            + "Z",
            "quantity": rng.randrange(1, 20),
            "secret": rng.randrange(100, 900),
            "contact_phone": "13812341234",
            "account": account["id"] if account else None,
            "owner": org.users[owner] if owner else None,
        }
        record = service.create(SYSTEM, APP, "deal", values)
        record["_owner"] = owner
        record["_region"] = account["region"] if account else None
        record["_account"] = account
        deals.append(record)
    return deals


def put_reports(
    org: Org, reports: list[dict[str, Any]], dashboards: list[dict[str, Any]] | None = None
) -> None:
    from engine import put_section

    with org.platform.db.begin() as conn:
        put_section(conn, APP, "reports", reports, SYSTEM)
        if dashboards is not None:
            put_section(conn, APP, "dashboards", dashboards, SYSTEM)


def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
