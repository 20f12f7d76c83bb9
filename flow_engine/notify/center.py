"""The notification centre: in-app notifications per user, and the deliveries they promise.

``notify`` writes in the caller's transaction: the notification rows and the delivery jobs for
external channels commit with the step that decided to tell people, or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from engine import enqueue_job
from flow_engine.notify.tables import addresses, notifications

EMAIL_JOB = "notify.email"
ROBOT_JOB = "notify.robot"

Text = Mapping[str, str]
RecordRef = tuple[str, str, int]


def _both(text: Text) -> dict[str, str]:
    zh, en = text.get("zh"), text.get("en")
    return {"zh": str(zh if zh is not None else en or ""), "en": str(en if en is not None else zh or "")}


def notify(
    conn: sa.Connection,
    user_ids: Sequence[int],
    title: Text,
    body: Text,
    record: RecordRef | None = None,
    channels: Sequence[str] | None = None,
) -> None:
    """Tell ``user_ids``: one in-app notification each (the record linked), and for each of
    ``channels`` beyond ``in_app`` a delivery job: ``email`` to each person's address, or a
    group robot the app defines in ``notify_channels`` (one message to the group)."""
    people = list(dict.fromkeys(int(u) for u in user_ids))
    title, body = _both(title), _both(body)
    app, entity, record_id = record if record is not None else (None, None, None)
    now = datetime.now(UTC)
    asked = [c for c in dict.fromkeys(channels or ()) if c != "in_app"]
    if people:
        conn.execute(
            notifications.insert(),
            [
                {
                    "user_id": user,
                    "title": title,
                    "body": body,
                    "app": app,
                    "entity": entity,
                    "record_id": record_id,
                    "channels": asked or None,
                    "created_at": now,
                }
                for user in people
            ],
        )
    message = {"title": title, "body": body, "record": list(record) if record is not None else None}
    for channel in asked:
        if channel == "email":
            for user in people:
                enqueue_job(conn, EMAIL_JOB, {**message, "user_id": user})
        elif people or record is not None:
            enqueue_job(conn, ROBOT_JOB, {**message, "app": app, "channel": channel})


def notification_json(row: sa.RowMapping) -> dict[str, Any]:
    record = None
    if row["record_id"] is not None:
        record = {"app": row["app"], "entity": row["entity"], "id": row["record_id"]}
    return {
        "id": row["id"],
        "title": row["title"],
        "body": row["body"],
        "record": record,
        "created_at": row["created_at"].isoformat().replace("+00:00", "Z"),
        "read_at": row["read_at"].isoformat().replace("+00:00", "Z") if row["read_at"] else None,
    }


def list_mine(conn: sa.Connection, user_id: int, *, unread: bool, limit: int, offset: int) -> dict[str, Any]:
    t = notifications
    where = [t.c.user_id == user_id]
    unread_count = conn.execute(
        sa.select(sa.func.count()).select_from(t).where(*where, t.c.read_at.is_(None))
    ).scalar_one()
    if unread:
        where.append(t.c.read_at.is_(None))
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(t).where(*where).order_by(t.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return {
        "items": [notification_json(r) for r in rows],
        "total": total,
        "unread": unread_count,
        "limit": limit,
        "offset": offset,
    }


def mark_read(conn: sa.Connection, user_id: int, notification_id: int | None) -> int:
    """Mark one of the user's notifications (or, with None, all of them) read; how many changed.
    A notification already read keeps the time it was first read."""
    t = notifications
    where = [t.c.user_id == user_id, t.c.read_at.is_(None)]
    if notification_id is not None:
        where.append(t.c.id == notification_id)
    return conn.execute(t.update().where(*where).values(read_at=datetime.now(UTC))).rowcount


def exists(conn: sa.Connection, user_id: int, notification_id: int) -> bool:
    t = notifications
    found = conn.execute(sa.select(t.c.id).where(t.c.id == notification_id, t.c.user_id == user_id))
    return found.first() is not None


def email_of(conn: sa.Connection, user_id: int) -> str | None:
    """The address the user (or an admin) set; None: the user gets no e-mail."""
    found: str | None = conn.execute(
        sa.select(addresses.c.email).where(addresses.c.user_id == user_id)
    ).scalar()
    return found


def set_email(conn: sa.Connection, user_id: int, email: str | None) -> None:
    conn.execute(addresses.delete().where(addresses.c.user_id == user_id))
    if email:
        conn.execute(addresses.insert().values(user_id=user_id, email=email))
