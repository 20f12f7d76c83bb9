"""The flow engine's two doors out: durable jobs (timers, deferred starts, webhooks) and
notifications. Both write in the caller's transaction, so a step and what it schedules or
tells commit together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

import engine
from flow_engine.notify import notify as notify_users

Label = Mapping[str, str]
RecordRef = tuple[str, str, int] | None


def enqueue(
    conn: sa.Connection,
    kind: str,
    payload: dict[str, Any],
    *,
    run_at: datetime | None = None,
    key: str | None = None,
) -> int | None:
    """A durable job in ``conn``'s transaction; with ``key``, one job per key ever."""
    return engine.enqueue_job(conn, kind, payload, run_at=run_at, key=key)


def notify(
    conn: sa.Connection,
    user_ids: Sequence[int],
    title: Label,
    body: Label,
    record: RecordRef,
    channels: list[str] | None = None,
) -> None:
    """Tell people: in-app rows now, external channels as delivery jobs."""
    notify_users(conn, list(dict.fromkeys(user_ids)), dict(title), dict(body), record, channels)
