"""A small organisation and an app with roles: the fixture every access test shares.

```
HQ (director)
├── East (head: head; reps: rep_e)
└── West (rep_w)
```
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import SYSTEM, Platform
from engine.apps.metadata_store import import_app
from engine.http import create_app
from engine.identity.departments import create_department
from engine.identity.roles import set_roles
from engine.identity.users import create_user, issue_token

APP = "crm"
URL = f"/api/apps/{APP}/records/customer"
PASSWORD = "access-password-1"

CRM_APP: dict[str, Any] = {
    "name": APP,
    "label": {"zh": "客户管理", "en": "CRM"},
    "entities": [
        {
            "name": "customer",
            "label": {"zh": "客户", "en": "Customer"},
            "fields": [
                {"name": "name", "type": "text", "label": {"zh": "名称", "en": "Name"}},
                {"name": "region", "type": "text", "label": {"zh": "区域", "en": "Region"}},
                {"name": "phone", "type": "text", "label": {"zh": "电话", "en": "Phone"}},
                {"name": "id_number", "type": "text", "label": {"zh": "身份证号", "en": "ID number"}},
                {"name": "credit", "type": "integer", "label": {"zh": "授信额度", "en": "Credit"}},
                {"name": "grade", "type": "text", "label": {"zh": "等级", "en": "Grade"}},
            ],
        }
    ],
    "roles": [
        {
            "name": "rep",
            "label": {"zh": "销售代表", "en": "Sales rep"},
            "permissions": {
                "customer": {
                    "create": True,
                    "read": {"scope": "own"},
                    "update": {"scope": "own"},
                    "fields": {
                        "phone": {"access": "masked", "mask": "phone"},
                        "id_number": {"access": "masked", "mask": "id_number"},
                        "credit": {"access": "hidden"},
                        "grade": {"access": "readonly"},
                    },
                }
            },
        },
        {
            "name": "manager",
            "label": {"zh": "销售经理", "en": "Sales manager"},
            "permissions": {
                "customer": {
                    "create": True,
                    "read": {"scope": "department"},
                    "update": {"scope": "department"},
                    "delete": {"scope": "department"},
                    "fields": {"id_number": {"access": "masked", "mask": "id_number"}},
                }
            },
        },
        {
            "name": "director",
            "label": {"zh": "销售总监", "en": "Sales director"},
            "permissions": {
                "customer": {
                    "read": {"scope": "department_tree"},
                    "update": {"scope": "department_tree"},
                    "export": True,
                }
            },
        },
        {
            "name": "east_viewer",
            "label": {"zh": "华东查看", "en": "East viewer"},
            "permissions": {"customer": {"read": {"condition": "region == '华东'"}}},
        },
    ],
}


@dataclass
class Org:
    platform: Platform
    users: dict[str, int]
    departments: dict[str, int]
    tokens: dict[str, str]

    def client(self, app: Any, who: str) -> TestClient:
        client = TestClient(app)
        client.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return client


ROLES = {
    "rep_e": ["rep"],
    "rep_w": ["rep"],
    "head": ["manager"],
    "director": ["director"],
    "viewer": ["east_viewer"],
    "stranger": [],
}


def build_org(platform: Platform) -> Org:
    cost = platform.settings.password_hash_cost
    with platform.db.begin() as conn:
        users = {"admin": create_user(conn, "boss", PASSWORD, is_admin=True, hash_cost=cost)}
        hq = create_department(conn, "总部 HQ")
        east = create_department(conn, "华东 East", parent_id=hq)
        west = create_department(conn, "华西 West", parent_id=hq)
        homes = {"rep_e": east, "rep_w": west, "head": east, "director": hq, "viewer": None, "stranger": None}
        for name, dept in homes.items():
            users[name] = create_user(conn, name, PASSWORD, department_id=dept, hash_cost=cost)
        from engine.schema import system_tables as st

        conn.execute(st.departments.update().where(st.departments.c.id == east).values(head_id=users["head"]))
        package = import_app(conn, CRM_APP, SYSTEM)
        for name, roles in ROLES.items():
            set_roles(conn, SYSTEM, package, users[name], roles)
        tokens = {
            name: issue_token(conn, uid, name="test", kind="api", ttl=timedelta(hours=1)).token
            for name, uid in users.items()
        }
    return Org(platform, users, {"hq": hq, "east": east, "west": west}, tokens)


@pytest.fixture
def org(platform: Platform) -> Org:
    return build_org(platform)


@pytest.fixture
def api(platform: Platform) -> Iterator[Any]:
    """The FastAPI app (each test makes one client per user from it)."""
    app = create_app(platform=platform)
    with TestClient(app):
        yield app


#: name -> (owner, region); the owner is a key of ``Org.users`` or None (a system record)
RECORDS = {
    "r1": ("rep_e", "华东"),
    "r2": ("rep_e", "华南"),
    "r3": ("rep_w", "华东"),
    "r4": ("rep_w", "华北"),
    "r5": ("head", "华南"),
    "r6": ("director", "华北"),
    "r7": (None, "华东"),
}


@pytest.fixture
def records(org: Org) -> dict[str, int]:
    """The seven sample customers, name -> id."""
    ids = {}
    for name, (owner, region) in RECORDS.items():
        record = org.platform.records.create(
            SYSTEM,
            APP,
            "customer",
            {
                "name": name,
                "region": region,
                "phone": "13812341234",
                "id_number": "11010119900307123X",
                "credit": 5000,
                "grade": "A",
                "owner": org.users[owner] if owner else None,
            },
        )
        ids[name] = record["id"]
    return ids
