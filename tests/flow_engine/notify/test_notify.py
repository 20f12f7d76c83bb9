"""Notifications: in-app per user with the record linked, e-mail through a real (local) SMTP
server, and DingTalk, WeCom and Feishu robots whose signatures a local server checks the way
each platform's documentation describes."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform, load_app
from engine.http import create_app
from flow_engine.notify import notify

from .conftest import USER, Mailbox, Received, Receiver, app_with_channels, run_jobs, sign_in, user_id

TITLE = {"zh": "合同待审批", "en": "Contract awaiting approval"}
BODY = {"zh": "合同金额 600,000 元", "en": "Contract amount 600,000 yuan"}


def test_notify_writes_in_the_callers_transaction_and_each_user_sees_only_theirs(
    platform: Platform, admin: TestClient
) -> None:
    rep, boss = user_id(platform, "rep"), user_id(platform, "admin")
    with pytest.raises(RuntimeError), platform.db.begin() as conn:
        notify(conn, [rep], TITLE, BODY, ("sales", "deal", 1))
        raise RuntimeError("the step failed")
    with platform.db.begin() as conn:
        notify(conn, [rep, boss, rep], TITLE, BODY, ("sales", "deal", 7))
        notify(conn, [rep], {"zh": "提醒", "en": "Reminder"}, {"zh": "跟进", "en": "Follow up"})
    with TestClient(create_app(platform=platform)) as client:
        client.headers.update(sign_in(client, *USER))
        r = client.get("/api/notifications")
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 2 and page["unread"] == 2
        reminder, contract = page["items"]
        assert contract["title"] == TITLE and contract["record"] == {
            "app": "sales",
            "entity": "deal",
            "id": 7,
        }
        assert reminder["record"] is None and reminder["read_at"] is None
        r = client.post(f"/api/notifications/{contract['id']}/read")
        assert r.status_code == 200 and r.json() == {"marked": 1}
        unread = client.get("/api/notifications", params={"unread": "true"}).json()
        assert [n["id"] for n in unread["items"]] == [reminder["id"]] and unread["unread"] == 1
        theirs = admin.get("/api/notifications").json()["items"]
        assert len(theirs) == 1  # the duplicate id in the list told the admin once
        r = client.post(f"/api/notifications/{theirs[0]['id']}/read")
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert client.post("/api/notifications/read-all").json() == {"marked": 1}
        assert client.get("/api/notifications").json()["unread"] == 0


def _message(raw: bytes) -> Message:
    return email.message_from_bytes(raw)


def test_email_goes_through_the_smtp_server_to_the_users_address(
    platform: Platform, admin: TestClient, mailbox: tuple[Mailbox, int]
) -> None:
    rep = user_id(platform, "rep")
    r = admin.put("/api/notifications/email", json={"email": "not an address", "user_id": rep})
    assert r.status_code == 422
    r = admin.put("/api/notifications/email", json={"email": "zhang.wei@example.cn", "user_id": rep})
    assert r.status_code == 200, r.text
    with platform.db.begin() as conn:
        notify(conn, [rep, user_id(platform, "admin")], TITLE, BODY, ("sales", "deal", 7), ["email"])
    assert mailbox[0].messages == []  # delivery is a job, not part of the step
    assert run_jobs(platform) == 2  # the admin has no address: nothing to send, nothing failed
    [(sender, to, raw)] = mailbox[0].messages
    assert sender == "crm@example.cn" and to == ["zhang.wei@example.cn"]
    message = _message(raw)
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    assert subject == "合同待审批 / Contract awaiting approval"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode(message.get_content_charset() or "utf-8")
    assert "合同金额 600,000 元" in text and "Contract amount 600,000 yuan" in text and "sales/deal/7" in text


def _dingtalk_ok(secret: str, item: Received) -> dict[str, Any]:
    """DingTalk's check: sign = urlEncode(base64(HmacSHA256(key=secret, "timestamp\\nsecret")))
    within an hour of now; parse_qs already undid the URL encoding."""
    ts = item.query["timestamp"]
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    fresh = abs(int(ts) - time.time() * 1000) < 3600 * 1000
    if item.query.get("access_token") != "ding-token" or item.query["sign"] != expected or not fresh:
        return {"errcode": 310000, "errmsg": "sign not match"}
    return {"errcode": 0, "errmsg": "ok"}


def _feishu_ok(secret: str, item: Received) -> dict[str, Any]:
    """Feishu's check: sign = base64(HmacSHA256(key="timestamp\\nsecret", message=""))."""
    body = item.json()
    ts = body["timestamp"]
    expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    if body["sign"] != expected or abs(int(ts) - time.time()) > 3600:
        return {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"}
    return {"code": 0, "msg": "success"}


def test_robots_get_messages_signed_as_their_documentation_requires(
    platform: Platform, admin: TestClient, receiver: Receiver
) -> None:
    secrets = {"ding": "SECdingsecret0123456789", "feishu": "feishu-secret-abc"}

    def check(item: Received) -> dict[str, Any]:
        if item.path == "/robot/send":
            return _dingtalk_ok(secrets["ding"], item)
        if item.path.startswith("/open-apis/bot/v2/hook/"):
            return _feishu_ok(secrets["feishu"], item)
        ok = item.path == "/cgi-bin/webhook/send" and item.query.get("key") == "wecom-key"
        return {"errcode": 0 if ok else 93000, "errmsg": "ok" if ok else "invalid webhook url"}

    receiver.check = check
    for name, url, secret in [
        ("ceo_ding", f"{receiver.url}/robot/send?access_token=ding-token", secrets["ding"]),
        ("ops_wecom", f"{receiver.url}/cgi-bin/webhook/send?key=wecom-key", None),
        ("sales_feishu", f"{receiver.url}/open-apis/bot/v2/hook/feishu-hook", secrets["feishu"]),
    ]:
        r = admin.put(f"/api/apps/sales/notify-channels/{name}/secret", json={"url": url, "secret": secret})
        assert r.status_code == 200, r.text
    shown = admin.get("/api/apps/sales/notify-channels/ceo_ding/secret").json()
    assert shown["configured"] and "ding-token" not in json.dumps(shown)
    with platform.db.begin() as conn:
        notify(conn, [user_id(platform, "rep")], TITLE, BODY, ("sales", "deal", 7),
               ["in_app", "ceo_ding", "ops_wecom", "sales_feishu"])  # fmt: skip
    assert run_jobs(platform) == 3
    by_path = {item.path: item for item in receiver.received}
    assert len(receiver.received) == 3
    ding = by_path["/robot/send"].json()
    assert ding["msgtype"] == "text" and "合同待审批" in ding["text"]["content"]
    assert by_path["/cgi-bin/webhook/send"].json()["text"]["content"] == ding["text"]["content"]
    feishu = by_path["/open-apis/bot/v2/hook/feishu-hook"].json()
    assert feishu["msg_type"] == "text" and "Contract awaiting approval" in feishu["content"]["text"]
    r = admin.get("/api/jobs", params={"status": "done", "kind": "notify.robot"})
    assert r.json()["total"] == 3
    # Nothing of the robots' addresses or secrets travels with the app.
    with platform.db.connect() as conn:
        exported = json.dumps(load_app(conn, "sales").package.export(), ensure_ascii=False)
    assert "notify_channels" in exported
    assert not any(s in exported for s in ["ding-token", "wecom-key", "feishu-hook", *secrets.values()])


def test_a_robot_that_refuses_is_retried_then_dead_for_an_admin(
    platform: Platform, admin: TestClient, receiver: Receiver
) -> None:
    receiver.check = lambda item: _dingtalk_ok("the-right-secret", item)
    url = f"{receiver.url}/robot/send?access_token=ding-token"
    admin.put(
        "/api/apps/sales/notify-channels/ceo_ding/secret", json={"url": url, "secret": "a-wrong-secret"}
    )
    with platform.db.begin() as conn:
        notify(conn, [], TITLE, BODY, ("sales", "deal", 7), ["ceo_ding"])
    now = datetime.now(UTC)
    for attempt in range(3):  # job_max_attempts; 60 s, then 120 s apart
        assert run_jobs(platform, now + timedelta(seconds=60 * (2**attempt - 1))) == 1
    [dead] = admin.get("/api/jobs", params={"status": "dead"}).json()["items"]
    assert dead["kind"] == "notify.robot" and "310000" in dead["last_error"]
    admin.put(
        "/api/apps/sales/notify-channels/ceo_ding/secret", json={"url": url, "secret": "the-right-secret"}
    )
    assert admin.post(f"/api/jobs/{dead['id']}/retry").status_code == 200
    assert run_jobs(platform, now + timedelta(hours=1)) == 1
    assert admin.get(f"/api/jobs/{dead['id']}").json()["status"] == "done"
    assert len(receiver.received) == 4


def test_channels_are_checked_when_the_app_is_saved(admin: TestClient) -> None:
    app = {**app_with_channels(), "name": "sales2"}
    app["notify_channels"] = [{"name": "email", "type": "dingtalk"}, {"name": "a", "type": "wecom"},
                              {"name": "a", "type": "feishu"}, {"name": "b", "type": "slack"}]  # fmt: skip
    r = admin.post("/api/apps", json=app)
    assert r.status_code == 422, r.text
    pointers = {p["pointer"] for p in r.json()["error"]["problems"]}
    assert "/notify_channels/3/type" in pointers
    app["notify_channels"] = app["notify_channels"][:3]
    r = admin.post("/api/apps", json=app, headers={"Accept-Language": "zh"})
    assert r.status_code == 422, r.text
    problems = {p["pointer"]: p["message"] for p in r.json()["error"]["problems"]}
    assert problems == {
        "/notify_channels/0/name": "email 是内置通知渠道，不能重新定义",
        "/notify_channels/2/name": "通知渠道 a 重复定义",
    }
    r = admin.put("/api/apps/sales/notify-channels/nope/secret", json={"url": "https://x.cn"})
    assert r.status_code == 404
