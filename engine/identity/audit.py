"""The security audit log (``tg_audit``): sign-ins, tokens, roles, denials, exports.

Written in the caller's transaction when there is one worth joining (a role change is logged
only if it commits), or on its own connection for events whose request fails (a denial).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.clock import iso, utcnow
from engine.context import Context
from engine.schema import system_tables as st

EVENTS = (
    "login",
    "login_failed",
    "login_throttled",
    "logout",
    "token_created",
    "token_revoked",
    "password_changed",
    "user_created",
    "user_changed",
    "user_unlocked",
    "role_changed",
    "permission_denied",
    "ownership_transferred",
    "record_shared",
    "record_unshared",
    "export",
    "derived_recomputed",
    "app_imported",
    "entity_changed",
    "app_applied",
    "app_uninstalled",
    "entity_removed",
    "fields_purged",
    "records_purged",
    "calendar_changed",
    "blind_conflict",
    "job_retried",
    "secret_changed",
)


def record(
    conn: sa.Connection,
    event: str,
    *,
    ctx: Context | None = None,
    actor: int | None = None,
    username: str | None = None,
    app: str | None = None,
    target: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    if ctx is not None and ctx.user is not None:
        actor = ctx.user.id if actor is None else actor
        username = ctx.user.username if username is None else username
    if ctx is not None and ip is None:
        ip = ctx.tags.get("ip")
    conn.execute(
        st.audit.insert().values(
            at=utcnow(),
            event=event,
            actor=actor,
            username=username,
            app=app,
            target=target,
            ip=ip,
            details=details,
        )
    )


def record_apart(engine: sa.Engine, event: str, **kwargs: Any) -> None:
    """Log on a connection of its own, so the entry survives the caller's rollback."""
    with engine.begin() as conn:
        record(conn, event, **kwargs)


def query(
    conn: sa.Connection,
    *,
    event: str | None = None,
    actor: int | None = None,
    app: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Entries newest first, and how many match in all."""
    t = st.audit
    where = []
    if event is not None:
        where.append(t.c.event == event)
    if actor is not None:
        where.append(t.c.actor == actor)
    if app is not None:
        where.append(t.c.app == app)
    if since is not None:
        where.append(t.c.at >= since)
    if until is not None:
        where.append(t.c.at < until)
    total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*where)).scalar_one()
    rows = conn.execute(
        sa.select(t).where(*where).order_by(t.c.id.desc()).limit(limit).offset(offset)
    ).mappings()
    return [{**r, "at": iso(r["at"])} for r in rows], total
