"""The app and people of the adversarial review (``reviews/adversarial-test.md``, appendix A),
trimmed to what its leak probes need: a customer entity whose phone a rep sees masked, whose
note and salary are hidden from reps, with a unique email, a ``block`` duplicate rule on the
phone and files; reps alice and bob (own scope), manager carol (everything)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine import SYSTEM, Platform
from engine.apps.metadata_store import import_app
from engine.identity.roles import set_roles
from engine.identity.users import create_user, issue_token

from ..fields.conftest import field, label

APP = "crm"
CUSTOMERS = f"/api/apps/{APP}/records/customer"
PASSWORD = "probe-password-1"
OWN = {"scope": "own"}


def package(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The package; ``extra`` adds to it: ``fields`` and ``forms`` of the customer, ``entities``
    and the rep's ``permissions`` on them."""
    extra = extra or {}
    return {
        "name": APP,
        "label": label("客户管理", "CRM"),
        "entities": [
            {
                "name": "customer",
                "label": label("客户", "Customer"),
                "fields": [
                    field("name", "text"),
                    field("phone", "phone"),
                    field("email", "email", unique=True),
                    field("mobile", "phone"),
                    field("secret_note", "text"),
                    field("salary", "number", scale=2),
                    field("region", "text"),
                    field("docs", "attachment"),
                    field("photos", "image"),
                    field("contract", "attachment"),
                    field("scan", "attachment"),
                    *extra.get("fields", []),
                ],
                "forms": extra.get("forms", []),
                "duplicate_rules": [
                    {"name": "same_phone", "fields": ["phone"], "policy": "block"},
                    {"name": "same_mobile", "fields": ["mobile"], "policy": "warn"},
                ],
            },
            *extra.get("entities", []),
        ],
        "roles": [
            {
                "name": "rep",
                "label": label("销售", "Rep"),
                "permissions": {
                    "customer": {
                        "create": True,
                        "read": OWN,
                        "update": OWN,
                        "delete": OWN,
                        "fields": {
                            "phone": {"access": "masked", "mask": "phone"},
                            "secret_note": {"access": "hidden"},
                            "salary": {"access": "hidden"},
                            "contract": {"access": "hidden"},
                            "scan": {"access": "masked", "mask": "all"},
                        },
                    },
                    **extra.get("permissions", {}),
                },
            },
            {
                "name": "manager",
                "label": label("经理", "Manager"),
                "permissions": {
                    name: {"create": True, "read": True, "update": True, "delete": True}
                    for name in ["customer", *(e["name"] for e in extra.get("entities", []))]
                },
            },
        ],
    }


ROLES = {"alice": ["rep"], "bob": ["rep"], "dave": ["rep"], "erin": ["rep"], "carol": ["manager"]}


@dataclass
class Probe:
    platform: Platform
    app: FastAPI
    users: dict[str, int]
    tokens: dict[str, str]

    def client(self, who: str) -> TestClient:
        client = TestClient(self.app)
        client.headers["Authorization"] = f"Bearer {self.tokens[who]}"
        return client

    def customer(self, owner: str, **values: Any) -> dict[str, Any]:
        """A customer stored by the system for ``owner`` (raw, as stored)."""
        return self.record("customer", owner, **values)

    def record(self, entity: str, owner: str, **values: Any) -> dict[str, Any]:
        return self.platform.records.create(SYSTEM, APP, entity, {**values, "owner": self.users[owner]})


def build_probe(platform: Platform, app: FastAPI, extra: dict[str, Any] | None = None) -> Probe:
    cost = platform.settings.password_hash_cost
    with platform.db.begin() as conn:
        users = {"admin": create_user(conn, "root", PASSWORD, is_admin=True, hash_cost=cost)}
        imported = import_app(conn, package(extra), SYSTEM)
        for name, roles in ROLES.items():
            users[name] = create_user(conn, name, PASSWORD, hash_cost=cost)
            set_roles(conn, SYSTEM, imported, users[name], roles)
        tokens = {
            name: issue_token(conn, uid, name="probe", kind="api", ttl=timedelta(hours=1)).token
            for name, uid in users.items()
        }
    return Probe(platform, app, users, tokens)
