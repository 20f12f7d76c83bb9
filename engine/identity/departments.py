"""Departments: a tree (each with an optional head) that record scopes are computed from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from engine.clock import utcnow
from engine.errors import InvalidInput, NotFound
from engine.schema import system_tables as st
from engine.schema.row_ids import department_target, existing_ids

MAX_DEPTH = 50


def _row(conn: sa.Connection, department_id: int) -> Any:
    row = conn.execute(sa.select(st.departments).where(st.departments.c.id == department_id)).first()
    if row is None:
        raise NotFound("department_not_found", department_id=department_id)
    return row


def find_department(conn: sa.Connection, ref: str | int) -> int:
    """A department's id from its id or its exact name (for the CLI); a name two departments
    share is refused, since either could be meant."""
    if isinstance(ref, int) or str(ref).isdigit():
        return int(_row(conn, int(ref)).id)
    ids = conn.execute(sa.select(st.departments.c.id).where(st.departments.c.name == ref)).scalars().all()
    if len(ids) != 1:
        raise NotFound("department_not_found.name", name=ref, count=len(ids))
    return int(ids[0])


def check_exists(conn: sa.Connection, department_id: int) -> None:
    """422 when a department id given in a request names no department."""
    if not existing_ids(conn, department_target(), [department_id]):
        raise InvalidInput("department_not_found", department_id=department_id)


def _check_user(conn: sa.Connection, user_id: int | None, pointer: str) -> None:
    if user_id is None:
        return
    if conn.execute(sa.select(st.users.c.id).where(st.users.c.id == user_id)).first() is None:
        raise InvalidInput("user_not_found.reference", pointer=pointer.strip("/"), user_id=user_id)


def create_department(
    conn: sa.Connection, name: str, *, parent_id: int | None = None, head_id: int | None = None
) -> int:
    if not name.strip():
        raise InvalidInput("department_name_missing")
    if parent_id is not None:
        _row(conn, parent_id)
    _check_user(conn, head_id, "/head_id")
    return conn.execute(
        st.departments.insert()
        .values(name=name.strip(), parent_id=parent_id, head_id=head_id, created_at=utcnow())
        .returning(st.departments.c.id)
    ).scalar_one()


def update_department(conn: sa.Connection, department_id: int, changes: dict[str, Any]) -> None:
    """Rename, move under another parent (never under itself or a descendant), change the head."""
    _row(conn, department_id)
    values: dict[str, Any] = {}
    if "name" in changes:
        if not str(changes["name"] or "").strip():
            raise InvalidInput("department_name_missing")
        values["name"] = str(changes["name"]).strip()
    if "parent_id" in changes:
        parent = changes["parent_id"]
        if parent is not None:
            _row(conn, parent)
            if parent in subtree(conn, [department_id]):
                raise InvalidInput("department_cycle")
        values["parent_id"] = parent
    if "head_id" in changes:
        _check_user(conn, changes["head_id"], "/head_id")
        values["head_id"] = changes["head_id"]
    if values:
        conn.execute(st.departments.update().where(st.departments.c.id == department_id).values(values))


def list_departments(conn: sa.Connection) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(st.departments).order_by(st.departments.c.id))
    return [{"id": r.id, "name": r.name, "parent_id": r.parent_id, "head_id": r.head_id} for r in rows]


def subtree(conn: sa.Connection, roots: Iterable[int]) -> set[int]:
    """``roots`` and every department below them.

    Read whole (departments number in the hundreds at most) and walked in Python, which is the
    same on both backends and cannot loop on a corrupt parent chain."""
    children: dict[int | None, list[int]] = {}
    for dept_id, parent_id in conn.execute(sa.select(st.departments.c.id, st.departments.c.parent_id)):
        children.setdefault(parent_id, []).append(dept_id)
    found: set[int] = set()
    frontier = [r for r in roots if r is not None]
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        found.update(frontier)
        frontier = [c for d in frontier for c in children.get(d, []) if c not in found]
    return found


def led_by(conn: sa.Connection, user_id: int) -> set[int]:
    """Departments ``user_id`` is the head of."""
    return set(
        conn.execute(sa.select(st.departments.c.id).where(st.departments.c.head_id == user_id)).scalars()
    )


def members(department_ids: Iterable[int], *, conn: sa.Connection | None = None) -> sa.Select[Any]:
    """The ids of users in ``department_ids`` as a subquery (``owner IN members(...)``); with
    ``conn`` the departments below them count too. For filters that narrow records to a
    department's people, such as a report's department parameter."""
    ids = subtree(conn, department_ids) if conn is not None else set(department_ids)
    return sa.select(st.users.c.id).where(st.users.c.department_id.in_(sorted(ids)))
