"""Fixtures for marketing automation: a shop app whose accounts have order lines and activities,
a platform with the flow, notify and marketing plugins, a local SMTP server (aiosmtpd), and a
clock the test moves to run what is due."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

import flow_engine
from engine import SYSTEM, Context, JobRunner, Platform, Principal, Settings
from engine.apps.metadata_store import import_app
from engine.http import create_app
from engine.identity import roles
from engine.identity.users import find_user
from flow_engine import plugin as flow_plugin
from flow_engine.marketing import MarketingPlugin, MarketingSettings
from flow_engine.notify import NotifyPlugin, SmtpSettings
from flow_engine.webhooks import WebhookPlugin
from tests.engine.conftest import (  # noqa: F401 - the kernel's database fixtures, shared
    ADMIN,
    USER,
    postgres_system_ddl,
    running_platform,
    settings,
    sign_in,
    sqlite_system_template,
    system_database_url,
)
from tests.flow_engine.notify.conftest import Mailbox, mailbox, smtp  # noqa: F401

PUBLIC_URL = "http://testserver"


def _label(text: str) -> dict[str, str]:
    return {"zh": text, "en": text}


def _f(name: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "label": _label(name), **extra}


def _select(name: str, values: list[str], kind: str = "select") -> dict[str, Any]:
    return _f(name, kind, options=[{"value": v, "label": _label(v)} for v in values])


def shop_app(**sections: Any) -> dict[str, Any]:
    """Accounts (with an e-mail address, interests and the engagement fields a journey fills),
    their order lines and activities. The ``rep`` role reads only the accounts and order lines
    it owns, every activity."""
    return {
        "name": "shop",
        "label": _label("shop"),
        "entities": [
            {
                "name": "account",
                "label": _label("account"),
                "fields": [
                    _f("name", "text"),
                    _f("email", "text"),
                    _select("interests", ["product_a", "product_b", "newsletter"], "multi_select"),
                    _f("email_opened_at", "datetime"),
                    _f("email_clicked_at", "datetime"),
                ],
            },
            {
                "name": "order_line",
                "label": _label("order line"),
                "fields": [_f("account", "lookup", entity="account"), _select("product", ["A", "B", "C"])],
            },
            {
                "name": "activity",
                "label": _label("activity"),
                "fields": [
                    _f("account", "lookup", entity="account"),
                    _select("kind", ["visit", "enquiry", "call"]),
                    _f("at", "datetime"),
                ],
            },
        ],
        "roles": [
            {
                "name": "rep",
                "label": _label("rep"),
                "everyone": True,
                "permissions": {
                    "account": {"read": {"scope": "own"}},
                    "order_line": {"read": {"scope": "own"}},
                    "activity": {"read": True},
                },
            }
        ],
        **sections,
    }


@dataclass
class Clock:
    """The flow engine's clock, moved by the test (never slept on)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Shop:
    platform: Platform
    clock: Clock
    mailbox: Mailbox

    def ctx(self, username: str) -> Context:
        with self.platform.db.connect() as conn:
            user = find_user(conn, username)
            held = roles.user_roles(conn, user.id)
        return Context(user=Principal(user.id, username, user.is_admin, roles=held), locale="zh")

    def user_id(self, username: str) -> int:
        with self.platform.db.connect() as conn:
            return int(find_user(conn, username).id)

    def create(self, entity: str, values: dict[str, Any]) -> dict[str, Any]:
        return self.platform.records.create(self.ctx("admin"), "shop", entity, values)

    def get(self, entity: str, record_id: int) -> dict[str, Any]:
        return self.platform.records.get(self.ctx("admin"), "shop", entity, record_id)

    def run_due(self) -> int:
        """Run every job due by the clock until none is left, as ``tangram worker --once``."""
        runner = JobRunner(self.platform, clock=lambda: self.clock.now)
        ran = 0
        while done := runner.run_pending():
            ran += done
        return ran


def shop_platform(settings: Settings, smtp: SmtpSettings, package: dict[str, Any]) -> Iterator[Platform]:  # noqa: F811
    plugins = [
        flow_plugin,
        NotifyPlugin(smtp),
        WebhookPlugin(),
        MarketingPlugin(MarketingSettings(public_url=PUBLIC_URL), smtp),
    ]
    with running_platform(settings, plugins) as platform:
        with platform.db.begin() as conn:
            import_app(conn, package, SYSTEM)
        yield platform


@pytest.fixture
def shop_factory(
    settings: Settings,  # noqa: F811
    smtp: SmtpSettings,  # noqa: F811
    mailbox: tuple[Mailbox, int],  # noqa: F811
) -> Iterator[Any]:
    """``make(**sections)``: the shop app with those package sections, on a running platform."""
    made: list[Iterator[Platform]] = []

    def make(**sections: Any) -> Shop:
        running = shop_platform(settings, smtp, shop_app(**sections))
        made.append(running)
        platform = next(running)
        clock = Clock(datetime(2024, 6, 3, 1, 0, tzinfo=UTC))
        flow_engine.runner_of(platform, clock)
        return Shop(platform, clock, mailbox[0])

    yield make
    for running in made:
        next(running, None)


@pytest.fixture
def http_for() -> Iterator[Any]:
    """``http_for(shop, user)``: a TestClient on the shop's platform, signed in as ``user``
    (None: anonymous)."""
    clients: list[TestClient] = []

    def make(shop: Shop, user: tuple[str, str] | None = ADMIN) -> TestClient:
        client = TestClient(create_app(platform=shop.platform), follow_redirects=False)
        client.__enter__()
        clients.append(client)
        if user is not None:
            client.headers.update(sign_in(client, *user))
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
