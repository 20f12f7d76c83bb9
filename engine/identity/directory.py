"""Names instead of ids: the user directory every signed-in user may read, and the names of
users and departments that records, history and versions point at.

The directory shows what a colleague sees of a colleague (name, department, active); the full
user record (username, roles, admin flag, manager) stays with the administrators' user API.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from engine.schema import system_tables as st

_CHUNK = 500


def _name(display_name: str | None, username: str) -> str:
    return display_name or username


def user_names(conn: sa.Connection, ids: Iterable[Any]) -> dict[int, str]:
    """``{user id: display name (or username)}`` for the ids that name a user."""
    wanted = sorted({i for i in ids if isinstance(i, int)})
    users = st.users
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = conn.execute(
            sa.select(users.c.id, users.c.display_name, users.c.username).where(
                users.c.id.in_(wanted[start : start + _CHUNK])
            )
        )
        found.update((r.id, _name(r.display_name, r.username)) for r in rows)
    return found


def department_names(conn: sa.Connection, ids: Iterable[Any]) -> dict[int, str]:
    """``{department id: name}`` for the ids that name a department."""
    wanted = sorted({i for i in ids if isinstance(i, int)})
    departments = st.departments
    found: dict[int, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = conn.execute(
            sa.select(departments.c.id, departments.c.name).where(
                departments.c.id.in_(wanted[start : start + _CHUNK])
            )
        )
        found.update((r.id, r.name) for r in rows)
    return found


def directory(conn: sa.Connection, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Every user as colleagues see them: id, name, department (id and name), active."""
    users, departments = st.users, st.departments
    query = (
        sa.select(
            users.c.id,
            users.c.display_name,
            users.c.username,
            users.c.department_id,
            users.c.is_active,
            departments.c.name.label("department"),
        )
        .outerjoin(departments, departments.c.id == users.c.department_id)
        .order_by(users.c.id)
    )
    if active_only:
        query = query.where(users.c.is_active.is_(True))
    return [
        {
            "id": r.id,
            "name": _name(r.display_name, r.username),
            "department_id": r.department_id,
            "department": r.department,
            "is_active": r.is_active,
        }
        for r in conn.execute(query)
    ]
