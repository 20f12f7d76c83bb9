"""Webhooks: the ``call_webhook`` action whose delivery is a durable job, signed with the app's
secret (``X-Tangram-Signature: sha256=<hex HMAC-SHA256 of the body>``), carrying an
idempotency key, retried with backoff and dead-lettered for an admin. See docs/notifications.md.
"""

from flow_engine.webhooks.delivery import ACTION_SCHEMA, DELIVER_JOB, call_webhook, deliver
from flow_engine.webhooks.messages import MESSAGES, DeliveryFailed, NotifyInputError, NotifyNotFound
from flow_engine.webhooks.outbound import json_bytes, post_json, signature
from flow_engine.webhooks.plugin import WebhookPlugin
from flow_engine.webhooks.secrets import create_tables, get_secret, hint, put_secret

__all__ = [
    "ACTION_SCHEMA",
    "DELIVER_JOB",
    "MESSAGES",
    "DeliveryFailed",
    "NotifyInputError",
    "NotifyNotFound",
    "WebhookPlugin",
    "call_webhook",
    "create_tables",
    "deliver",
    "get_secret",
    "hint",
    "json_bytes",
    "post_json",
    "put_secret",
    "signature",
]
