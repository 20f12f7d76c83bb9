"""Nurture journeys' actions: a tracked e-mail to the member, and tags added by interest.

A journey is an ordinary flow on the segment's entity (``enrol`` starts one per member): its
``action`` nodes send with ``marketing_email``, its ``wait`` nodes space the e-mails, and its
``condition`` nodes branch on the record fields the tracking routes fill in (``opened_field``,
``clicked_field``), so "was the previous e-mail opened" is a plain rule on the record.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from engine import ActionCall, ActionRegistry, EntityRuntime, JobCall, enqueue_job
from flow_engine.marketing import forms, tables
from flow_engine.marketing.settings import MarketingSettings
from flow_engine.marketing.tokens import new_nonce, token_of
from flow_engine.notify.email import SmtpSettings, send_email
from flow_engine.runtime import CURRENT_RUN, fill
from flow_engine.schema import LABEL
from flow_engine.webhooks import DeliveryFailed

EMAIL_JOB = "marketing.email"
LINK = "{link}"

EMAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,59}$"},
        "to": {"type": "string"},
        "subject": LABEL,
        "body": LABEL,
        "link": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
        "locale": {"enum": ["zh", "en"]},
        "opened_field": {"type": "string"},
        "clicked_field": {"type": "string"},
        "form": forms.FORM_SCHEMA,
    },
    "required": ["key", "to", "subject", "body"],
    "additionalProperties": False,
}

TAGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "field": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "required": ["field", "tags"],
    "additionalProperties": False,
}


def _now() -> datetime:
    run = CURRENT_RUN.get()
    return run.now if run is not None else datetime.now(UTC)


def _stored(call: ActionCall, er: EntityRuntime) -> dict[str, Any]:
    table = er.table
    row = call.unit.conn.execute(sa.select(table).where(table.c.id == call.record["id"])).mappings().first()
    return dict(row) if row is not None else {}


class Journeys:
    """The journey actions and the e-mail job, bound to the settings the plugin was built with."""

    def __init__(self, settings: MarketingSettings, smtp: SmtpSettings) -> None:
        self.settings = settings
        self.smtp = smtp

    def register(self, registry: ActionRegistry) -> None:
        registry.register(
            "marketing_email",
            self.marketing_email,
            schema=EMAIL_SCHEMA,
            label={"zh": "发送营销邮件", "en": "Send a marketing e-mail"},
        )
        registry.register(
            "add_tags", add_tags, schema=TAGS_SCHEMA, label={"zh": "添加标签", "en": "Add tags"}
        )

    def marketing_email(self, call: ActionCall) -> int | None:
        """Record one tracked message and queue its sending; once per flow instance and key (a
        step run again sends nothing more). A member without an address gets no e-mail and the
        journey goes on. The open/click fields are cleared, so they speak of this e-mail."""
        spec = call.spec
        run = CURRENT_RUN.get()
        scope = f"i{run.id}" if run is not None else "direct"
        send_key = f"{call.app}:{call.entity}:{call.record['id']}:{scope}:{spec['key']}"
        conn = call.unit.conn
        m = tables.messages
        found = conn.execute(sa.select(m.c.id).where(m.c.send_key == send_key)).scalar()
        if found is not None:
            return int(found)
        er = call.unit.runtime.entity(call.entity)
        record = _stored(call, er)
        address = forms.address(conn, er, record, spec["to"], call.unit.runtime)
        if not isinstance(address, str) or "@" not in address:
            return None
        shown = er.to_json(record)
        locale = spec.get("locale", "zh")
        nonce = new_nonce()
        fields = {k: spec[k] for k in ("opened_field", "clicked_field") if spec.get(k)}
        if spec.get("form"):
            title = spec["form"].get("title")
            fields.update(form=spec["form"]["fields"], form_title=fill(title, shown) if title else None)
        message_id = conn.execute(
            m.insert()
            .values(
                token=nonce,
                send_key=send_key,
                app=call.app,
                entity=call.entity,
                record_id=call.record["id"],
                instance_id=run.id if run is not None else None,
                key=spec["key"],
                email=address.strip(),
                subject=fill(spec["subject"], shown)[locale],
                body=fill(spec["body"], shown)[locale],
                url=spec.get("link"),
                fields=fields,
                created_at=_now(),
            )
            .returning(m.c.id)
        ).scalar_one()
        tracked = [fields[k] for k in ("opened_field", "clicked_field") if k in fields]
        cleared = {name: None for name in tracked if record.get(name) is not None}
        if cleared:
            call.unit.update(er, [(call.record["id"], cleared)])
        payload = {"message": int(message_id)}
        enqueue_job(conn, EMAIL_JOB, payload, run_at=_now(), key=f"marketing-email:{message_id}")
        return int(message_id)

    def send(self, call: JobCall) -> None:
        """The e-mail job: the text, and an HTML alternative carrying the tracking pixel and
        the tracked link. The network call happens outside the job's transaction."""
        if not self.smtp.configured:
            raise DeliveryFailed("smtp_missing")
        m = tables.messages
        with call.platform.db.connect() as conn:
            row = conn.execute(sa.select(m).where(m.c.id == call.payload["message"])).mappings().first()
        if row is None or row["sent_at"] is not None:
            return
        message = dict(row)
        text, markup = self.render(message, call.platform.settings.resolved_secret_key())
        address, subject = message["email"], message["subject"]
        send_email(self.smtp, address, subject, text, f"tangram.mkt{message['id']}", html=markup)
        call.conn.execute(m.update().where(m.c.id == message["id"]).values(sent_at=call.now))

    def render(self, row: Mapping[str, Any], secret: str) -> tuple[str, str]:
        """The plain text and the HTML of a message; ``{link}`` in the body is the tracked link."""
        token = token_of(secret, row["token"])
        base = self.settings.public_url.rstrip("/")
        pixel = f"{base}/api/track/open/{token}"
        if row["fields"].get("form"):
            link = forms.link(base, token)
        else:
            link = f"{base}/api/track/click/{token}" if row["url"] else ""
        body = str(row["body"])
        text = body.replace(LINK, link)
        if link and LINK not in body:
            text += f"\n\n{link}"
        paragraphs = [f"<p>{html.escape(p)}</p>" for p in body.split("\n") if p.strip()]
        anchor = f'<a href="{html.escape(link)}">{html.escape(link)}</a>'
        markup = "".join(paragraphs).replace(html.escape(LINK), anchor)
        if link and LINK not in body:
            markup += f'<p><a href="{html.escape(link)}">{html.escape(row["url"] or link)}</a></p>'
        markup += f'<img src="{html.escape(pixel)}" width="1" height="1" alt="">'
        return text, f"<html><body>{markup}</body></html>"


def add_tags(call: ActionCall) -> list[str]:
    """Add ``tags`` to a multi-select (or list) field of the record, through the write unit;
    tags it already has stay once, in their place."""
    er = call.unit.runtime.entity(call.entity)
    current = _stored(call, er).get(call.spec["field"]) or []
    merged = list(dict.fromkeys([*current, *call.spec["tags"]]))
    if merged != list(current):
        call.unit.update(er, [(call.record["id"], {call.spec["field"]: merged})])
    return merged
