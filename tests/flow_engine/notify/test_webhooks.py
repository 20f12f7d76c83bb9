"""The ``call_webhook`` action: enqueued with the step that runs it, POSTed signed with the app's
secret and an idempotency key that stays the same across retries, backed off, dead-lettered and
retried by an admin."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import SYSTEM, ActionCall, Platform, WriteUnit

from .conftest import Receiver, run_jobs


def call_webhook(platform: Platform, url: str, *, fail_after: bool = False, body: Any = None) -> Any:
    """Create an account and run ``call_webhook`` on it in the same write unit, as a flow step does."""

    def step(unit: WriteUnit) -> Any:
        account = unit.runtime.entity("account")
        [record] = unit.create(account, [{"name": "华为技术有限公司", "grade": "A"}])
        spec: dict[str, Any] = {"type": "call_webhook", "url": url}
        if body is not None:
            spec["body"] = body
        job = platform.actions.run(ActionCall(unit, spec, "account", record))
        again = platform.actions.run(ActionCall(unit, spec, "account", record))
        assert again is None  # the same call on the same record state is one delivery
        if fail_after:
            raise RuntimeError("the step fails after the call")
        return job

    return platform.records.write(SYSTEM, "sales", step)


def _verified(secret: str, raw: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def test_a_webhook_is_delivered_signed_once_its_step_commits(
    platform: Platform, admin: TestClient, receiver: Receiver
) -> None:
    assert admin.get("/api/apps/sales/webhook-secret").json() == {"configured": False, "hint": None}
    secret = admin.post("/api/apps/sales/webhook-secret").json()["secret"]
    shown = admin.get("/api/apps/sales/webhook-secret").json()
    assert shown["configured"] and secret not in json.dumps(shown)
    with pytest.raises(RuntimeError):
        call_webhook(platform, f"{receiver.url}/hooks/crm", fail_after=True)
    assert run_jobs(platform) == 0  # the step rolled back, and its webhook with it
    job = call_webhook(platform, f"{receiver.url}/hooks/crm", body={"event": "大客户"})
    assert job is not None
    assert run_jobs(platform) == 1
    [item] = receiver.received
    assert item.path == "/hooks/crm" and item.headers["content-type"].startswith("application/json")
    assert _verified(secret, item.body, item.headers["x-tangram-signature"])
    sent = item.json()
    assert sent["app"] == "sales" and sent["entity"] == "account" and sent["data"] == {"event": "大客户"}
    assert sent["record"]["name"] == "华为技术有限公司" and sent["record"]["grade"] == "A"
    assert len(item.headers["idempotency-key"]) >= 32
    assert admin.get(f"/api/jobs/{job}").json()["status"] == "done"


def test_a_failing_receiver_gets_the_same_key_on_each_retry_until_the_job_is_dead(
    platform: Platform, admin: TestClient, receiver: Receiver
) -> None:
    secret = admin.post("/api/apps/sales/webhook-secret").json()["secret"]
    receiver.answers = [(500, {"error": "down"}), (503, {"error": "busy"}), (502, {"error": "bad gateway"})]
    job = call_webhook(platform, f"{receiver.url}/hooks/crm")
    now = datetime.now(UTC)
    assert run_jobs(platform, now) == 1
    assert run_jobs(platform, now + timedelta(seconds=59)) == 0  # job_backoff_seconds: 60
    assert run_jobs(platform, now + timedelta(seconds=60)) == 1
    assert run_jobs(platform, now + timedelta(seconds=60 + 119)) == 0  # then 120
    assert run_jobs(platform, now + timedelta(seconds=60 + 120)) == 1
    r = admin.get("/api/jobs", params={"status": "dead", "kind": "webhook.deliver"})
    [dead] = r.json()["items"]
    assert dead["id"] == job and dead["attempts"] == 3 and "502" in dead["last_error"]
    receiver.answers = [(200, {"ok": True})]
    assert admin.post(f"/api/jobs/{job}/retry").status_code == 200
    assert run_jobs(platform, now + timedelta(hours=1)) == 1
    assert admin.get(f"/api/jobs/{job}").json()["status"] == "done"
    assert len(receiver.received) == 4
    assert len({item.headers["idempotency-key"] for item in receiver.received}) == 1
    assert [item.headers["x-tangram-attempt"] for item in receiver.received] == ["1", "2", "3", "1"]
    assert all(
        _verified(secret, item.body, item.headers["x-tangram-signature"]) for item in receiver.received
    )


def test_without_a_secret_nothing_is_sent_unsigned(
    platform: Platform, admin: TestClient, receiver: Receiver
) -> None:
    job = call_webhook(platform, f"{receiver.url}/hooks/crm")
    assert run_jobs(platform) == 1
    found = admin.get(f"/api/jobs/{job}").json()
    assert found["status"] == "pending" and "webhook signing secret" in found["last_error"]
    assert receiver.received == []


def test_the_action_spec_is_checked(platform: Platform) -> None:
    problems = platform.actions.check({"type": "call_webhook", "url": "ftp://example.cn"})
    assert [p.pointer for p in problems] == ["/url"]
    assert platform.actions.check({"type": "call_webhook", "url": "https://example.cn/hook"}) == []


def test_the_receivers_check_in_the_docs_accepts_what_we_send() -> None:
    """docs/notifications.md shows receivers how to check a signature; that code must work."""
    from pathlib import Path

    from flow_engine.webhooks import json_bytes, signature

    text = (Path(__file__).parents[3] / "docs/notifications.md").read_text("utf-8")
    [snippet] = [block for block in text.split("```python\n")[1:] if "def verified" in block]
    scope: dict[str, Any] = {}
    exec(snippet.split("```")[0], scope)
    body = json_bytes({"app": "sales", "record": {"name": "华为"}})
    assert scope["verified"]("s3cret", body, signature("s3cret", body))
    assert not scope["verified"]("other", body, signature("s3cret", body))
