"""Browser tests: the real app (kernel + report engine + builder_ui) served by uvicorn in a thread
on a SQLite file, driven by pytest-playwright on Debian's chromium (never a downloaded browser).

One server and one database for the session; each test signs in on a fresh page and works on
records it makes itself, so tests do not depend on each other's order.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

import builder_ui.plugin
import report_engine.plugin
from engine import Platform, Settings
from engine.http import create_app
from engine.identity.users import create_user
from tests.conftest import TEST_HASH_COST

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APP = "biz"
ADMIN = ("admin", "admin-password-1")
REP = ("rep", "rep-password-1")
OTHER_REP = ("rep2", "rep2-password-1")
PACKAGE = Path(__file__).with_name("app_package.json")
#: Screenshots of the main pages, zh and en (a CI artifact; the README shows two of them).
SCREENSHOTS = Path(os.environ.get("TANGRAM_SCREENSHOTS", Path(__file__).parents[2] / "screenshots"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Point pytest-playwright at Debian's chromium; Playwright's own browser download cannot work here."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium fonts-wqy-microhei", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A browser that asks for Chinese (Accept-Language: zh-CN), as most of our users' do."""
    return {**browser_context_args, "locale": "zh-CN"}


@pytest.fixture(scope="session")
def ui_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """The platform with the test app installed, an admin and two reps, and a few records."""
    folder = tmp_path_factory.mktemp("ui")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'tangram.db'}",
        data_dir=folder / "data",
        secret_key="ui-test-secret",
        password_hash_cost=TEST_HASH_COST,
    )
    platform = Platform(settings, plugins=[report_engine.plugin, builder_ui.plugin], load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        create_user(conn, *ADMIN, is_admin=True, hash_cost=TEST_HASH_COST)
        rep = create_user(conn, *REP, display_name="李娜", hash_cost=TEST_HASH_COST)
        other = create_user(conn, *OTHER_REP, display_name="王伟", hash_cost=TEST_HASH_COST)
    with TestClient(create_app(platform=platform)) as client:
        token = client.post("/api/auth/token", json=dict(zip(("username", "password"), ADMIN, strict=True)))
        client.headers["Authorization"] = "Bearer " + token.json()["access_token"]
        r = client.post("/api/apps", json=json.loads(PACKAGE.read_text("utf-8")))
        assert r.status_code == 201, r.text
        for name in ["华为技术", "阿里巴巴", "比亚迪"]:
            values = {"name": name, "grade": "A", "phone": "13800138000"}
            r = client.post(f"/api/apps/{APP}/records/account", json=values)
            assert r.status_code == 201, r.text
        for user_id in (rep, other):
            r = client.put(f"/api/apps/{APP}/users/{user_id}/roles", json={"roles": ["rep"]})
            assert r.status_code == 200, r.text
    try:
        yield platform
    finally:
        platform.close()


@pytest.fixture(scope="session")
def live_server(ui_platform: Platform) -> Iterator[str]:
    """Serve the app on a free loopback port for the whole session; yields its base URL."""
    yield from serve(ui_platform)


def serve(platform: Platform) -> Iterator[str]:
    """Serve ``platform``'s app with uvicorn in a thread until the generator is closed."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(platform=platform)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def base_url(live_server: str) -> str:
    """Replaces pytest-playwright's base_url, which raises a PytestRemovedIn10Warning under pytest 9."""
    return live_server


@pytest.fixture(scope="session")
def api(live_server: str, ui_platform: Platform) -> Iterator[Callable[..., Any]]:
    """``api(method, path, user=ADMIN, **kw)``: the HTTP API as one of the test users, to set up
    and check records behind the browser's back."""
    yield from api_caller(ui_platform)


def api_caller(platform: Platform) -> Generator[Callable[..., Any]]:
    """``call(method, path, user=ADMIN, **kw)`` on ``platform``'s API, tokens kept per user."""
    tokens: dict[str, str] = {}
    with TestClient(create_app(platform=platform)) as client:

        def call(method: str, path: str, user: tuple[str, str] = ADMIN, **kw: Any) -> Any:
            if user[0] not in tokens:
                r = client.post("/api/auth/token", json={"username": user[0], "password": user[1]})
                tokens[user[0]] = r.json()["access_token"]
            r = client.request(method, path, headers={"Authorization": "Bearer " + tokens[user[0]]}, **kw)
            assert r.status_code < 300, r.text
            return r.json()

        yield call


@pytest.fixture
def problems(page: Page) -> Iterator[list[str]]:
    """Console errors, page errors and failed requests of the test's page; asserted empty after
    the test (a test expecting a 4xx from the API removes it from the list itself)."""
    seen: list[str] = []
    page.on("pageerror", lambda exc: seen.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: seen.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on(
        "requestfailed",
        lambda req: None if _abandoned(req.failure) else seen.append(f"failed: {req.url} {req.failure}"),
    )
    page.on("response", lambda r: seen.append(f"{r.status}: {r.url}") if r.status >= 400 else None)
    yield seen


def _abandoned(failure: str | None) -> bool:
    """A request the page itself gave up, because it navigated away (signing in, changing the
    language) while the request was in flight: chromium reports it as ``net::ERR_ABORTED``. The user
    sees nothing of it, so it is not a problem; every other network failure is."""
    return failure == "net::ERR_ABORTED"


def sign_in(page: Page, user: tuple[str, str], next_path: str = "/ui/") -> None:
    page.goto(next_path)
    expect(page.locator("#login-form")).to_be_visible()
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login-form button[type=submit]")
    expect(page.locator("#sign-out")).to_be_visible()


def shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
