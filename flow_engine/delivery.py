"""The flow engine's two doors out: durable jobs (timers, deferred starts, webhooks) and
notifications. Both write in the caller's transaction, so a step and what it schedules or
tells commit together.

The kernel's job table (``engine.enqueue_job``) and the notification centre
(``flow_engine.notify.notify``) are built alongside this engine; until they are installed this
module writes the same rows itself, in the shape they agreed on.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

import engine
from form_engine import UTCDateTime, id_column_type, json_column

_fallback = sa.MetaData()
#: The kernel's job table (its columns as of this engine); used only until ``engine.enqueue_job``.
kernel_jobs = sa.Table(
    "tg_jobs",
    _fallback,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("payload", json_column(), nullable=False),
    sa.Column("run_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("locked_by", sa.String(100)),
    sa.Column("locked_at", UTCDateTime),
)
_notify_meta = sa.MetaData()
#: In-app notifications, as the notification centre stores them.
notifications = sa.Table(
    "flow_notifications",
    _notify_meta,
    sa.Column("id", id_column_type(), primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.BigInteger, nullable=False, index=True),
    sa.Column("title", json_column(), nullable=False),
    sa.Column("body", json_column()),
    sa.Column("app", sa.String(30)),
    sa.Column("entity", sa.String(30)),
    sa.Column("record_id", sa.BigInteger),
    sa.Column("channels", json_column()),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("read_at", UTCDateTime),
)

Label = Mapping[str, str]
RecordRef = tuple[str, str, int] | None


def _notify_centre() -> Any:
    try:
        return importlib.import_module("flow_engine.notify").notify
    except (ImportError, AttributeError):
        return None


def create_fallback_tables(db: sa.Engine) -> None:
    """The notifications table, when no notification centre is installed to create it."""
    if _notify_centre() is None:
        _notify_meta.create_all(db, checkfirst=True)


def enqueue(
    conn: sa.Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    key: str | None = None,
) -> int | None:
    """A durable job in ``conn``'s transaction; with ``key``, one job per key ever."""
    kernel = getattr(engine, "enqueue_job", None)
    if kernel is not None:
        return int(kernel(conn, kind, payload, run_at=run_at, key=key) or 0) or None
    run_at = run_at or datetime.now(UTC)
    if key is not None:  # a keyed job (a date, a schedule) is due at the time its key names
        payload = {**payload, "_key": key}
        j = kernel_jobs
        same_time = conn.execute(
            sa.select(j.c.payload).where(j.c.run_at == run_at, j.c.kind == kind)
        ).scalars()
        if any(p.get("_key") == key for p in same_time):
            return None
    return int(
        conn.execute(
            kernel_jobs.insert()
            .values(
                kind=kind, payload=payload, run_at=run_at or datetime.now(UTC), status="pending", attempts=0
            )
            .returning(kernel_jobs.c.id)
        ).scalar_one()
    )


def notify(
    conn: sa.Connection,
    user_ids: Sequence[int],
    title: Label,
    body: Label,
    record: RecordRef,
    channels: list[str] | None = None,
) -> None:
    """Tell people: in-app rows now, external channels as delivery jobs."""
    centre = _notify_centre()
    if centre is not None:
        centre(conn, list(user_ids), dict(title), dict(body), record, channels)
        return
    app, entity, record_id = record if record is not None else (None, None, None)
    now = datetime.now(UTC)
    rows = [
        {
            "user_id": user,
            "title": dict(title),
            "body": dict(body),
            "app": app,
            "entity": entity,
            "record_id": record_id,
            "channels": channels,
            "created_at": now,
        }
        for user in dict.fromkeys(user_ids)
    ]
    if rows:
        conn.execute(notifications.insert(), rows)
