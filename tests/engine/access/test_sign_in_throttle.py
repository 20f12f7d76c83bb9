"""Sign-in throttling under parallel bursts, per username and address, behind proxies, and an
administrator's unlock (HTTP and CLI), on both databases."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine import Platform, Settings
from engine.cli import create_cli
from engine.http import create_app
from engine.http.proxies import TrustedProxies
from tests.conftest import TEST_HASH_COST

from .conftest import PASSWORD, Org, build_org

LIMIT = 3
WRONG = {"username": "rep_e", "password": "wrong-password"}
RIGHT = {"username": "rep_e", "password": PASSWORD}
ATTACKER = ("203.0.113.66", 4000)
USER_HOME = ("198.51.100.7", 4000)


@pytest.fixture
def throttled(system_database_url: str, tmp_path: Path) -> Iterator[tuple[Platform, Org, FastAPI]]:
    settings = Settings(
        database_url=system_database_url,
        data_dir=tmp_path / "d",
        secret_key="k",
        login_max_failures=LIMIT,
        password_hash_cost=TEST_HASH_COST,
        trusted_proxies=(ip_network("10.0.0.0/8"), ip_network("192.0.2.1")),
    )
    platform = Platform(settings, load_entry_points=False)
    platform.init_database()
    org = build_org(platform)
    try:
        yield platform, org, create_app(platform=platform)
    finally:
        platform.close()


def _from(app: FastAPI, address: tuple[str, int], **headers: str) -> TestClient:
    return TestClient(app, client=address, headers=headers)


def _burst(app: FastAPI, body: dict[str, str], size: int) -> Counter[int]:
    """``size`` sign-ins sent at the same moment from as many threads (one client each)."""
    barrier = threading.Barrier(size)
    statuses: list[int] = []

    def sign_in() -> None:
        client = _from(app, ATTACKER)
        barrier.wait()
        statuses.append(client.post("/api/auth/token", json=body).status_code)

    threads = [threading.Thread(target=sign_in) for _ in range(size)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def test_a_parallel_burst_gets_no_more_guesses_than_the_limit(throttled: Any) -> None:
    _platform, _org, app = throttled
    assert _burst(app, WRONG, 16) == {401: LIMIT, 429: 16 - LIMIT}
    r = _from(app, ATTACKER).post("/api/auth/token", json=RIGHT)
    assert r.status_code == 429, r.text
    assert r.json()["error"]["code"] == "too_many_attempts" and int(r.headers["retry-after"]) > 0


def test_a_lock_from_one_address_does_not_lock_the_user_out_elsewhere(throttled: Any) -> None:
    _platform, _org, app = throttled
    attacker = _from(app, ATTACKER)
    for _ in range(LIMIT):
        assert attacker.post("/api/auth/token", json=WRONG).status_code == 401
    assert attacker.post("/api/auth/token", json=RIGHT).status_code == 429
    assert _from(app, USER_HOME).post("/api/auth/token", json=RIGHT).status_code == 200
    assert attacker.post("/api/auth/token", json=RIGHT).status_code == 429  # still locked there


def test_one_address_guessing_many_usernames_is_stopped(throttled: Any) -> None:
    _platform, org, app = throttled
    attacker = _from(app, ATTACKER)
    names = [n for n in org.users if n != "admin"] + ["ghost1", "ghost2", "ghost3", "ghost4", "ghost5"]
    address_limit = LIMIT * 4
    statuses = [
        attacker.post("/api/auth/token", json={"username": names[i % len(names)], "password": "nope-nope"})
        for i in range(address_limit + 1)
    ]
    assert [r.status_code for r in statuses] == [401] * address_limit + [429]
    # A right password from the locked address is refused too; from elsewhere it works.
    assert (
        attacker.post("/api/auth/token", json={"username": "rep_w", "password": PASSWORD}).status_code == 429
    )
    home = _from(app, USER_HOME)
    assert home.post("/api/auth/token", json={"username": "rep_w", "password": PASSWORD}).status_code == 200


def test_forwarded_for_from_an_untrusted_peer_is_ignored(throttled: Any) -> None:
    platform, _org, app = throttled
    for i in range(LIMIT):
        spoofing = _from(app, ATTACKER, **{"X-Forwarded-For": f"1.1.1.{i}"})
        assert spoofing.post("/api/auth/token", json=WRONG).status_code == 401
    spoofing = _from(app, ATTACKER, **{"X-Forwarded-For": "1.1.1.99"})
    assert spoofing.post("/api/auth/token", json=RIGHT).status_code == 429
    admin = _admin(app, platform)
    ips = {e["ip"] for e in admin.get("/api/audit", params={"event": "login_failed"}).json()["items"]}
    assert ips == {ATTACKER[0]}


def test_a_trusted_proxy_names_the_client(throttled: Any) -> None:
    platform, _org, app = throttled
    proxy = ("10.1.2.3", 4000)
    for _ in range(LIMIT):
        # The client wrote the leftmost hop itself; the trusted proxy appended the real peer.
        r = _from(app, proxy, **{"X-Forwarded-For": "6.6.6.6, 203.0.113.5"}).post(
            "/api/auth/token", json=WRONG
        )
        assert r.status_code == 401
    locked = _from(app, proxy, **{"X-Forwarded-For": "203.0.113.5"}).post("/api/auth/token", json=RIGHT)
    assert locked.status_code == 429
    other = _from(app, proxy, **{"X-Forwarded-For": "203.0.113.6"}).post("/api/auth/token", json=RIGHT)
    assert other.status_code == 200
    admin = _admin(app, platform)
    ips = {e["ip"] for e in admin.get("/api/audit", params={"event": "login_failed"}).json()["items"]}
    assert ips == {"203.0.113.5"}


def test_https_from_a_trusted_proxy_marks_the_session_cookie_secure(throttled: Any) -> None:
    _platform, _org, app = throttled
    body = {"username": "rep_w", "password": PASSWORD}
    behind = _from(app, ("192.0.2.1", 4000), **{"X-Forwarded-Proto": "https"})
    assert "Secure" in behind.post("/api/auth/session", json=body).headers["set-cookie"]
    spoofed = _from(app, ATTACKER, **{"X-Forwarded-Proto": "https"})
    assert "Secure" not in spoofed.post("/api/auth/session", json=body).headers["set-cookie"]


def test_an_admin_unlocks_a_user_and_the_unlock_is_audited(throttled: Any) -> None:
    platform, org, app = throttled
    attacker = _from(app, ATTACKER)
    for _ in range(LIMIT):
        attacker.post("/api/auth/token", json=WRONG)
    assert attacker.post("/api/auth/token", json=RIGHT).status_code == 429
    rep = _from(app, USER_HOME)
    rep.headers["Authorization"] = f"Bearer {org.tokens['rep_w']}"
    assert rep.post(f"/api/users/{org.users['rep_e']}/unlock").status_code == 403
    admin = _admin(app, platform)
    r = admin.post(f"/api/users/{org.users['rep_e']}/unlock")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": org.users["rep_e"], "username": "rep_e", "addresses_cleared": 1}
    assert attacker.post("/api/auth/token", json=RIGHT).status_code == 200
    [entry] = admin.get("/api/audit", params={"event": "user_unlocked"}).json()["items"]
    assert entry["target"] == f"user:{org.users['rep_e']}" and entry["username"] == "boss"
    assert admin.post("/api/users/999999/unlock").status_code == 404


def test_the_command_line_unlocks_a_user(
    throttled: Any, system_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform, _org, app = throttled
    attacker = _from(app, ATTACKER)
    for _ in range(LIMIT):
        attacker.post("/api/auth/token", json=WRONG)
    assert attacker.post("/api/auth/token", json=RIGHT).status_code == 429
    monkeypatch.setenv("TANGRAM_DATABASE_URL", system_database_url)
    monkeypatch.setenv("TANGRAM_DATA_DIR", str(tmp_path / "cli"))
    result = CliRunner().invoke(create_cli(), ["user", "unlock", "rep_e"])
    assert result.exit_code == 0, result.output
    assert "1 address" in result.output
    assert attacker.post("/api/auth/token", json=RIGHT).status_code == 200
    events = _admin(app, platform).get("/api/audit", params={"event": "user_unlocked"}).json()["items"]
    assert [e["details"]["door"] for e in events] == ["cli"]
    assert CliRunner().invoke(create_cli(), ["user", "unlock", "nobody"]).exit_code == 1


def test_trusted_proxies_read_forwarded_for_right_to_left() -> None:
    proxies = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("2001:db8::/32")])
    assert proxies.trusts("10.9.9.9") and proxies.trusts("2001:db8::1")
    assert not proxies.trusts("11.0.0.1") and not proxies.trusts("testclient")
    assert proxies.client("10.0.0.1", "1.2.3.4") == "1.2.3.4"
    assert proxies.client("10.0.0.1", "9.9.9.9, 1.2.3.4, 10.0.0.2") == "1.2.3.4"
    assert proxies.client("10.0.0.1", "10.0.0.3, 10.0.0.2") == "10.0.0.3"
    assert proxies.client("10.0.0.1", "1.2.3.4, not-an-address") == "10.0.0.1"
    assert proxies.client("10.0.0.1", "") == "10.0.0.1"


def test_trusted_proxies_setting_takes_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANGRAM_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1,2001:db8::/32")
    assert [str(n) for n in Settings().trusted_proxies] == ["10.0.0.0/8", "192.0.2.1/32", "2001:db8::/32"]
    monkeypatch.delenv("TANGRAM_TRUSTED_PROXIES")
    assert Settings().trusted_proxies == ()
    monkeypatch.setenv("TANGRAM_TRUSTED_PROXIES", "not-a-network")
    with pytest.raises(ValueError):
        Settings()


def _admin(app: FastAPI, platform: Platform) -> TestClient:
    r = _from(app, ("192.0.2.200", 1)).post(
        "/api/auth/token", json={"username": "boss", "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return TestClient(app, headers={"Authorization": f"Bearer {r.json()['access_token']}"})
