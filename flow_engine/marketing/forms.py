"""Forms sent by e-mail: a ``marketing_email`` with a ``form`` asks its reader (a customer, who
has no account) to fill in named fields of the record it was sent for — a case's satisfaction
rating — at a public page its link opens.

The link carries the message's signed token (``tokens``), like the tracking routes: a forged
or mistyped one is refused before the database is read. The answer goes through the kernel's
write unit (validation and history apply; flows see the change), only into the fields the
e-mail named, and only once: a second answer is 409. The page is plain HTML with a plain
``<form>`` and no script, so it works in any mail client's browser; a client of its own may
``GET /forms/{token}?format=json`` for the fields and post JSON instead.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine import Conflict, Context, EntityRuntime, Platform, WriteUnit
from flow_engine.marketing import tables
from flow_engine.marketing.messages import MESSAGES, MarketingInputError
from flow_engine.schema import LABEL

ANSWERED = "answered"
FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "the link opens a public form filling these fields of the record, once",
    "properties": {
        "fields": {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        "title": LABEL,
    },
    "required": ["fields"],
    "additionalProperties": False,
}
#: Who a customer's answer is written as: the system, tagged so history says where it came from.
ANSWERING = Context(locale="zh", tags={"source": "public_form"})
THANKS = {"zh": "感谢您的反馈！", "en": "Thank you for your feedback!"}
SEND = {"zh": "提交", "en": "Submit"}


class FormAnswered(Conflict):
    catalogue = MESSAGES


def link(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/forms/{token}"


def address(
    conn: sa.Connection, er: EntityRuntime, record: Mapping[str, Any], path: str, runtime: Any
) -> Any:
    """The value ``path`` names: a field of the record, or ``lookup.field`` of the record a
    lookup points at (a case's ``contact.email``)."""
    head, dot, rest = path.partition(".")
    value = record.get(head)
    if not dot:
        return value
    extra = er.entity.field(head).model_extra or {} if head in er.entity.field_names else {}
    target_name = extra.get("entity")
    if not isinstance(value, int) or not target_name:
        return None
    target = runtime.entity(target_name)
    table = target.table
    row = (
        conn.execute(sa.select(table).where(table.c.id == value, table.c.deleted_at.is_(None)))
        .mappings()
        .first()
    )
    return None if row is None else address(conn, target, dict(row), rest, runtime)


def _fields(platform: Platform, message: Mapping[str, Any]) -> tuple[EntityRuntime, list[Any]]:
    er = platform.cached_runtime(message["app"]).entity(message["entity"])
    names = [n for n in message["fields"].get("form", []) if n in er.entity.field_names]
    return er, [er.entity.field(n) for n in names]


def answered(conn: sa.Connection, message_id: int) -> bool:
    e = tables.events
    query = sa.select(e.c.id).where(e.c.message_id == message_id, e.c.kind == ANSWERED)
    return conn.execute(query).first() is not None


def describe(platform: Platform, message: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """The form's title and fields (name, label, type, JSON Schema), and whether it was answered."""
    _er, fields = _fields(platform, message)
    with platform.db.connect() as conn:
        done = answered(conn, int(message["id"]))
    title = message["fields"].get("form_title") or {"zh": message["subject"], "en": message["subject"]}
    return {
        "title": title.get(locale, message["subject"]),
        "answered": done,
        "fields": [
            {
                "name": f.name,
                "label": getattr(f.label, locale),
                "type": f.type,
                "schema": f.field_type.json_schema(f),
            }
            for f in fields
        ],
    }


def answer(platform: Platform, message: Mapping[str, Any], values: Mapping[str, Any], now: datetime) -> None:
    """Write the reader's answer to the record (see the module docstring)."""
    _er, fields = _fields(platform, message)
    allowed = {f.name for f in fields}
    stray = sorted(set(values) - allowed)
    if stray:
        raise MarketingInputError("form_field_not_asked", name=", ".join(stray))
    given = {k: (None if v == "" else v) for k, v in values.items()}

    def work(unit: WriteUnit) -> None:
        conn, m = unit.conn, tables.messages
        conn.execute(sa.select(m.c.id).where(m.c.id == message["id"]).with_for_update()).first()
        if answered(conn, int(message["id"])):
            raise FormAnswered("form_answered")
        er = unit.runtime.entity(message["entity"])
        unit.update(er, [(int(message["record_id"]), given)])
        conn.execute(tables.events.insert().values(message_id=message["id"], kind=ANSWERED, at=now))

    platform.records.write(ANSWERING, message["app"], work)


def page(description: Mapping[str, Any], token: str, locale: str, note: str | None = None) -> str:
    """The form as a page: a plain ``<form>`` posting to its own address."""
    esc = html.escape
    rows: list[str] = []
    for field in description["fields"]:
        schema, name = field["schema"], esc(field["name"])
        if "maximum" in schema and field["type"] == "rating":
            choices = "".join(
                f'<label><input type="radio" name="{name}" value="{i}" required> {"★" * i}</label> '
                for i in range(1, int(schema["maximum"]) + 1)
            )
            rows.append(f"<fieldset><legend>{esc(field['label'])}</legend>{choices}</fieldset>")
        elif field["type"] == "long_text":
            rows.append(
                f'<label>{esc(field["label"])}<br><textarea name="{name}" rows="4"></textarea></label>'
            )
        else:
            rows.append(f'<label>{esc(field["label"])}<br><input name="{name}"></label>')
    body = (
        f"<p>{esc(note)}</p>"
        if note is not None
        else f'<form method="post" action="/forms/{esc(token)}?lang={locale}">{"".join(rows)}'
        f'<p><button type="submit">{SEND[locale]}</button></p></form>'
    )
    title = esc(description["title"])
    return (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
        f"</head><body><h1>{title}</h1>{body}</body></html>"
    )
