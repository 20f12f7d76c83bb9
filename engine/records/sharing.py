"""Sharing one record with a user or a department, beyond what their roles' scopes give.

A ``read`` share lets them read (and export) the record, an ``edit`` share also update it;
never delete. Shares widen rows only: the role must still grant the operation on the entity.
Whoever may update a record may share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa

from engine.access import Operation
from engine.clock import iso, utcnow
from engine.context import Context
from engine.errors import InvalidInput, NotFound
from engine.identity import audit, departments, users
from engine.records.loader import not_found, visible_row
from engine.schema import system_tables as st

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime
    from engine.records.service import RecordService

ShareAccess = Literal["read", "edit"]


def _visible(
    records: RecordService,
    ctx: Context,
    conn: sa.Connection,
    er: EntityRuntime,
    record_id: int,
    op: Operation,
) -> None:
    records.access.require(ctx, er, op)
    if visible_row(conn, records.access, ctx, er, record_id, op)["deleted_at"] is not None:
        raise not_found(er, [record_id])


def _json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "department_id": row.department_id,
        "access": row.access,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
    }


def share(
    records: RecordService,
    ctx: Context,
    app: str,
    entity: str,
    record_id: int,
    *,
    user_id: int | None = None,
    department_id: int | None = None,
    access: ShareAccess = "read",
) -> dict[str, Any]:
    """Share with exactly one user or one department; sharing again changes the access."""
    if (user_id is None) == (department_id is None):
        raise InvalidInput("share_target")
    s = st.shares
    with records.db.begin() as conn:
        er = records.runtime(conn, app).entity(entity)
        _visible(records, ctx, conn, er, record_id, "update")
        if user_id is not None:
            users.get_user(conn, user_id)
        elif department_id is not None:
            departments.check_exists(conn, department_id)
        same = [s.c.app == app, s.c.entity == entity, s.c.record_id == record_id]
        same.append(s.c.user_id == user_id if user_id is not None else s.c.department_id == department_id)
        existing = conn.execute(sa.select(s.c.id).where(*same)).scalar()
        if existing is None:
            existing = conn.execute(
                s.insert()
                .values(
                    app=app,
                    entity=entity,
                    record_id=record_id,
                    user_id=user_id,
                    department_id=department_id,
                    access=access,
                    created_at=utcnow(),
                    created_by=ctx.user_id,
                )
                .returning(s.c.id)
            ).scalar_one()
        else:
            conn.execute(s.update().where(s.c.id == existing).values(access=access))
        audit.record(
            conn,
            "record_shared",
            ctx=ctx,
            app=app,
            target=f"{entity}:{record_id}",
            details={"user_id": user_id, "department_id": department_id, "access": access},
        )
        return _json(conn.execute(sa.select(s).where(s.c.id == existing)).one())


def shares_of(
    records: RecordService, ctx: Context, app: str, entity: str, record_id: int
) -> list[dict[str, Any]]:
    s = st.shares
    with records.db.connect() as conn:
        er = records.runtime(conn, app).entity(entity)
        _visible(records, ctx, conn, er, record_id, "read")
        rows = conn.execute(
            sa.select(s)
            .where(s.c.app == app, s.c.entity == entity, s.c.record_id == record_id)
            .order_by(s.c.id)
        )
        return [_json(r) for r in rows]


def unshare(
    records: RecordService, ctx: Context, app: str, entity: str, record_id: int, share_id: int
) -> None:
    s = st.shares
    with records.db.begin() as conn:
        er = records.runtime(conn, app).entity(entity)
        _visible(records, ctx, conn, er, record_id, "update")
        deleted = conn.execute(
            s.delete().where(
                s.c.id == share_id, s.c.app == app, s.c.entity == entity, s.c.record_id == record_id
            )
        )
        if deleted.rowcount != 1:
            raise NotFound("share_not_found", share_id=share_id)
        audit.record(
            conn,
            "record_unshared",
            ctx=ctx,
            app=app,
            target=f"{entity}:{record_id}",
            details={"share": share_id},
        )


def purge_shares(conn: sa.Connection, app: str, entity: str, record_ids: Sequence[int]) -> None:
    s = st.shares
    for start in range(0, len(record_ids), 500):
        chunk = record_ids[start : start + 500]
        conn.execute(s.delete().where(s.c.app == app, s.c.entity == entity, s.c.record_id.in_(chunk)))
