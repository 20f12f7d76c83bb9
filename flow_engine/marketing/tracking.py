"""Opens and clicks: the tracking pixel's and the tracked link's effect.

A token that is not signed with this installation's secret, or whose message is unknown, is
refused before anything is written. A known one records an event row and, the first time, the
time of the open (a click counts as an open too: images may be blocked) on the message and in
the record fields the e-mail named, through the kernel's write unit, so flow branches, waits
until a rule holds, lists, segments and reports all see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine import Context, Platform, WriteUnit
from flow_engine.marketing import tables
from flow_engine.marketing.tokens import verified_nonce

#: A transparent 1x1 GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
KINDS = ("opened", "clicked")

#: Who the tracked writes are made as: the system, tagged so history says where they came from.
TRACKING = Context(locale="zh", tags={"source": "marketing"})


def secret_of(platform: Platform) -> str:
    return platform.settings.resolved_secret_key()


def message_of(platform: Platform, token: str) -> dict[str, Any] | None:
    """The message a token names, or None for a forged, mistyped or unknown token."""
    nonce = verified_nonce(secret_of(platform), token)
    if nonce is None:
        return None
    m = tables.messages
    with platform.db.connect() as conn:
        row = conn.execute(sa.select(m).where(m.c.token == nonce)).mappings().first()
    return dict(row) if row is not None else None


def record(platform: Platform, message: Mapping[str, Any], kind: str, now: datetime) -> None:
    """Record an open or a click of ``message`` at ``now`` (see the module docstring)."""
    assert kind in KINDS

    def work(unit: WriteUnit) -> None:
        conn, m = unit.conn, tables.messages
        conn.execute(tables.events.insert().values(message_id=message["id"], kind=kind, at=now))
        firsts = ["opened", *(["clicked"] if kind == "clicked" else [])]
        values: dict[str, Any] = {}
        for what in firsts:
            column = m.c[f"{what}_at"]
            first = conn.execute(
                m.update().where(m.c.id == message["id"], column.is_(None)).values({column: now})
            ).rowcount
            field = message["fields"].get(f"{what}_field")
            if first and field:
                values[field] = now.isoformat()
        if values:
            _write(unit, message, values)

    platform.records.write(TRACKING, message["app"], work)


def _write(unit: WriteUnit, message: Mapping[str, Any], values: dict[str, Any]) -> None:
    """Set the engagement fields on the member record, if it and the fields still exist."""
    er = unit.runtime.entities.get(message["entity"])
    if er is None:
        return
    known = {k: v for k, v in values.items() if k in er.entity.field_names}
    table = er.table
    live = unit.conn.execute(
        sa.select(table.c.id).where(table.c.id == message["record_id"], table.c.deleted_at.is_(None))
    ).scalar()
    if known and live is not None:
        unit.update(er, [(message["record_id"], known)])
