"""Ownership transfer: give one or many records to another user, in one transaction, with history.

Changing the owner is an update of the ``owner`` column: it needs the update permission on each
record (records outside the caller's update scope are reported as not found) and is refused
where a role makes ``owner`` read-only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.clock import utcnow
from engine.context import Context
from engine.errors import InvalidInput, NotFound
from engine.host.events import RecordUpdated
from engine.identity import audit, users
from engine.records import history

if TYPE_CHECKING:
    from engine.platform import Platform

MAX_RECORDS = 10_000


def transfer(
    platform: Platform, ctx: Context, app: str, entity: str, ids: list[int], owner: int
) -> list[int]:
    """Make ``owner`` the owner of every record in ``ids``; returns the ids that changed hands."""
    if not ids or len(ids) > MAX_RECORDS:
        raise InvalidInput(
            f"give 1 to {MAX_RECORDS} record ids",
            f"请提供 1 到 {MAX_RECORDS} 个记录编号",
            details={"count": len(ids)},
        )
    wanted = sorted(set(ids))
    events = []
    with platform.db.begin() as conn:
        runtime = platform.runtime(conn, app)
        er = runtime.entity(entity)
        platform.access.require(ctx, er, "update")
        platform.access.check_write(ctx, er, {"owner": owner}, "update")
        target = users.get_user(conn, owner)
        if not target.is_active:
            raise InvalidInput(
                f"user {target.username!r} is disabled and cannot own records",
                f"用户 {target.username} 已停用，不能成为负责人",
            )
        table = er.table
        where = [table.c.id.in_(wanted), table.c.deleted_at.is_(None)]
        scope = platform.access.row_filter(ctx, conn, er, "update")
        if scope is not None:
            where.append(scope)
        query = sa.select(table).where(*where).order_by(table.c.id)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = [dict(r) for r in conn.execute(query).mappings()]
        missing = sorted(set(wanted) - {r["id"] for r in rows})
        if missing:
            raise NotFound(
                f"no {entity} record(s) with id {', '.join(map(str, missing))}",
                f"{er.entity.label.zh}中没有编号为 {', '.join(map(str, missing))} 的记录",
                details={"ids": missing},
            )
        now = utcnow()
        moved: list[int] = []
        history_rows: list[dict[str, Any]] = []
        for row in rows:
            if row["owner"] == owner:
                continue
            values = {
                "owner": owner,
                "updated_at": now,
                "updated_by": ctx.user_id,
                "version": row["version"] + 1,
            }
            conn.execute(table.update().where(table.c.id == row["id"]).values(values))
            history_rows.append(
                history.history_row(
                    app, entity, row["id"], "transfer", now, ctx.user_id, {"owner": [row["owner"], owner]}
                )
            )
            events.append(
                RecordUpdated(
                    app, entity, row["id"], {**row, **values}, ctx, changes={"owner": (row["owner"], owner)}
                )
            )
            moved.append(row["id"])
        history.write(conn, history_rows)
        if moved:
            audit.record(
                conn,
                "ownership_transferred",
                ctx=ctx,
                app=app,
                target=entity,
                details={"ids": moved, "owner": owner},
            )
    for event in events:
        platform.publish(event)
    return moved
