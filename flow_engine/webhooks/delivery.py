"""The ``call_webhook`` action and the job that delivers it.

The action only enqueues, in the transaction of the step that runs it: the call happens if and
only if the step commits. The job signs the body with the app's secret, carries an idempotency
key fixed at enqueue time (the same on every retry, so the receiver can drop repeats), retries
with the runner's exponential backoff and ends in the dead-letter list (``GET
/api/jobs?status=dead&kind=webhook.deliver``) for an admin to retry.
"""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa

from engine import ActionCall, JobCall, enqueue_job
from flow_engine.webhooks.messages import DeliveryFailed
from flow_engine.webhooks.outbound import json_bytes, post_json, signature
from flow_engine.webhooks.secrets import get_secret

DELIVER_JOB = "webhook.deliver"
SECRET = "webhook"

ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "body": {"type": "object"},
    },
    "required": ["url"],
    "additionalProperties": False,
}


def _record_json(call: ActionCall) -> dict[str, Any]:
    er = call.unit.runtime.entity(call.entity)
    record: dict[str, Any] = dict(call.record)
    if "id" in record:
        row = (
            call.unit.conn.execute(sa.select(er.table).where(er.table.c.id == record["id"]))
            .mappings()
            .first()
        )
        if row is not None:
            record = dict(row)
    return dict(er.to_json(record))


def call_webhook(call: ActionCall) -> int | None:
    """Enqueue the delivery of the record (and the spec's ``body`` as ``data``) to ``url``.

    The idempotency key is a digest of what is sent and to where, the record's version
    included: a step run again on the same record state enqueues nothing new."""
    record = _record_json(call)
    body: dict[str, Any] = {"app": call.app, "entity": call.entity, "record": record}
    if "body" in call.spec:
        body["data"] = call.spec["body"]
    url = call.spec["url"]
    key = hashlib.sha256(json_bytes({"url": url, "body": body})).hexdigest()[:40]
    payload = {"app": call.app, "url": url, "body": body, "idempotency_key": key}
    return enqueue_job(call.unit.conn, DELIVER_JOB, payload, key=f"webhook:{key}")


def deliver(call: JobCall) -> None:
    """POST the signed body; any failure raises, for the runner to retry."""
    p = call.payload
    with call.platform.db.connect() as conn:
        secret = get_secret(conn, p["app"], SECRET)
    if secret is None:
        raise DeliveryFailed("webhook_secret_missing", app=p["app"])
    body = json_bytes(p["body"])
    headers = {
        "X-Tangram-Signature": signature(secret["secret"], body),
        "Idempotency-Key": p["idempotency_key"],
        "X-Tangram-Delivery": str(call.job_id),
        "X-Tangram-Attempt": str(call.attempt),
    }
    post_json(p["url"], body, headers)
