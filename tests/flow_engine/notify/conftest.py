"""Fixtures for notifications and webhooks: a platform with both plugins and the sample app,
a local HTTP server that records what it is sent, and a local SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from engine import SYSTEM, JobRunner, Platform, Settings
from engine.apps.metadata_store import import_app
from engine.http import create_app
from flow_engine import plugin as flow_plugin
from flow_engine.notify import NotifyPlugin, SmtpSettings
from flow_engine.webhooks import WebhookPlugin
from tests.engine.conftest import (  # noqa: F401 - the kernel's database fixtures, shared
    ADMIN,
    USER,
    postgres_system_ddl,
    running_platform,
    sales_app,
    settings,
    sign_in,
    sqlite_system_template,
    system_database_url,
)


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Received:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What a local HTTP server was sent; ``answers`` (status, JSON) are given in turn, the last
    one repeated."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=lambda: [(200, {"errcode": 0})])
    check: Any = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            item = Received(parts.path, query, {k.lower(): v for k, v in self.headers.items()}, raw)
            state.received.append(item)
            status, answer = state.answers.pop(0) if len(state.answers) > 1 else state.answers[0]
            if state.check is not None and status == 200:
                answer = state.check(item)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:  # a free port: aiosmtpd checks it is up by connecting to it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def smtp(mailbox: tuple[Mailbox, int]) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=mailbox[1], sender="crm@example.cn", sender_name="客户系统")


@pytest.fixture
def platform(settings: Settings, smtp: SmtpSettings) -> Iterator[Platform]:  # noqa: F811
    quick = settings.model_copy(update={"job_max_attempts": 3, "job_backoff_seconds": 60.0})
    with running_platform(quick, [flow_plugin, NotifyPlugin(smtp), WebhookPlugin()]) as platform:
        with platform.db.begin() as conn:
            import_app(conn, app_with_channels(), SYSTEM)
        yield platform


def app_with_channels() -> dict[str, Any]:
    app = sales_app()
    app["notify_channels"] = [
        {"name": "ceo_ding", "type": "dingtalk", "label": {"zh": "总裁钉钉群", "en": "CEO DingTalk group"}},
        {"name": "ops_wecom", "type": "wecom"},
        {"name": "sales_feishu", "type": "feishu"},
    ]
    return app


@pytest.fixture
def admin(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform=platform)) as client:
        client.headers.update(sign_in(client, *ADMIN))
        yield client


def user_id(platform: Platform, username: str) -> int:
    from engine.identity.users import find_user

    with platform.db.connect() as conn:
        return find_user(conn, username).id


def run_jobs(platform: Platform, now: datetime | None = None) -> int:
    return JobRunner(platform, clock=Clock(now or datetime.now(UTC))).run_pending()
