"""The jobs that carry notifications out: an e-mail per person, a message per group robot.

Both do their network call without touching the job's transaction (so on SQLite no write lock
is held meanwhile) and fail loudly, to be retried and, at the end, dead-lettered for an admin.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from engine import JobCall, load_app
from flow_engine.notify import center, robots
from flow_engine.notify.channels import channel
from flow_engine.notify.email import SmtpSettings, send_email
from flow_engine.webhooks import DeliveryFailed, NotifyNotFound, get_secret

log = logging.getLogger("tangram.notify")


def text_of(payload: dict[str, Any]) -> str:
    """Both languages, Chinese first, and the record the notification is about."""
    title, body = payload["title"], payload["body"]
    lines = [title["zh"], body["zh"]]
    if (title["en"], body["en"]) != (title["zh"], body["zh"]):
        lines += ["", title["en"], body["en"]]
    if payload.get("record"):
        app, entity, record_id = payload["record"]
        lines += ["", f"记录 / Record: {app}/{entity}/{record_id}"]
    return "\n".join(line for line in lines if line is not None)


def subject_of(payload: dict[str, Any]) -> str:
    title = payload["title"]
    return title["zh"] if title["zh"] == title["en"] else f"{title['zh']} / {title['en']}"


class Deliveries:
    """The delivery job handlers, bound to the SMTP settings the plugin was built with."""

    def __init__(self, smtp: SmtpSettings) -> None:
        self.smtp = smtp

    def email(self, call: JobCall) -> None:
        if not self.smtp.configured:
            raise DeliveryFailed("smtp_missing")
        with call.platform.db.connect() as conn:
            address = center.email_of(conn, call.payload["user_id"])
        if address is None:
            log.info("user %s has no e-mail address; e-mail notification skipped", call.payload["user_id"])
            return
        send_email(
            self.smtp, address, subject_of(call.payload), text_of(call.payload), f"tangram.job{call.job_id}"
        )

    def robot(self, call: JobCall) -> None:
        p = call.payload
        with call.platform.db.connect() as conn:
            package = load_app(conn, p["app"]).package
            config = channel(package, p["channel"])
            if config is None:
                raise NotifyNotFound("channel_unknown", app=p["app"], channel=p["channel"])
            secret = get_secret(conn, p["app"], f"channel:{p['channel']}")
        if secret is None:
            raise DeliveryFailed("channel_secret_missing", channel=p["channel"])
        request = robots.robot_request(
            config["type"], secret["url"], secret.get("secret"), text_of(p), time.time()
        )
        robots.send(config["type"], request)
