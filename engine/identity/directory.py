"""Who is who, read-only.

Names instead of ids: the user directory every signed-in user may read, and the names of users
and departments that records, history and versions point at. The directory shows what a
colleague sees of a colleague (name, department, active); the full user record (username, roles,
admin flag, manager) stays with the administrators' user API.

Members of a department or role, managers and department heads: plugins that route work to
people (a flow's approvers, a round-robin assignment) ask these questions; they name people and
groups portably, by username or department name, so an app package moves between installations.
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


#: Active users by id or username; built once, as flows resolve approvers on every step.
_ACTIVE_BY_REF = sa.select(st.users.c.id, st.users.c.username).where(
    sa.or_(
        st.users.c.id.in_(sa.bindparam("ids", expanding=True)),
        st.users.c.username.in_(sa.bindparam("names", expanding=True)),
    ),
    st.users.c.is_active.is_(True),
)
#: The same for one reference, the usual case: a list parameter is expanded into the SQL text
#: at every run, which costs more than the query.
_ACTIVE_BY_ONE = sa.select(st.users.c.id, st.users.c.username).where(
    sa.or_(st.users.c.id == sa.bindparam("id"), st.users.c.username == sa.bindparam("name")),
    st.users.c.is_active.is_(True),
)


def user_ids(conn: sa.Connection, refs: Iterable[int | str]) -> list[int]:
    """Active users named by id or username, in the order given; unknown names are skipped."""
    wanted = list(refs)
    if not wanted:
        return []
    ids = [r for r in wanted if isinstance(r, int)]
    names = [r for r in wanted if isinstance(r, str)]
    if len(ids) + len(names) == 1:
        one = {"id": ids[0] if ids else None, "name": names[0] if names else None}
        rows = conn.execute(_ACTIVE_BY_ONE, one).all()
    else:
        rows = conn.execute(_ACTIVE_BY_REF, {"ids": ids, "names": names}).all()
    by_ref: dict[int | str, int] = {r.id: r.id for r in rows} | {r.username: r.id for r in rows}
    return [by_ref[r] for r in wanted if r in by_ref]


def department_id(conn: sa.Connection, ref: int | str) -> int | None:
    """A department by id or name (None when there is none)."""
    d = st.departments
    where = d.c.id == ref if isinstance(ref, int) else d.c.name == ref
    return conn.execute(sa.select(d.c.id).where(where).order_by(d.c.id).limit(1)).scalar()


def department_members(conn: sa.Connection, ref: int | str) -> list[int]:
    """Active users of a department (not of the ones below it), by id."""
    dept = department_id(conn, ref)
    if dept is None:
        return []
    u = st.users
    return list(
        conn.execute(
            sa.select(u.c.id).where(u.c.department_id == dept, u.c.is_active.is_(True)).order_by(u.c.id)
        ).scalars()
    )


def role_members(conn: sa.Connection, app: str, role: str) -> list[int]:
    """Active users holding ``role`` in ``app``, by id."""
    t, u = st.role_assignments, st.users
    return list(
        conn.execute(
            sa.select(t.c.user_id)
            .join(u, u.c.id == t.c.user_id)
            .where(t.c.app == app, t.c.role == role, u.c.is_active.is_(True))
            .order_by(t.c.user_id)
        ).scalars()
    )


def manager_of(conn: sa.Connection, user_id: int) -> int | None:
    u = st.users
    return conn.execute(sa.select(u.c.manager_id).where(u.c.id == user_id)).scalar()


def head_of(
    conn: sa.Connection, *, department: int | str | None = None, user_id: int | None = None
) -> int | None:
    """The head of a department, or of the department ``user_id`` belongs to."""
    if user_id is not None:
        department = conn.execute(
            sa.select(st.users.c.department_id).where(st.users.c.id == user_id)
        ).scalar()
    if department is None:
        return None
    dept = department_id(conn, department)
    d = st.departments
    return None if dept is None else conn.execute(sa.select(d.c.head_id).where(d.c.id == dept)).scalar()


def admins(conn: sa.Connection) -> list[int]:
    """Active platform administrators, by id."""
    u = st.users
    return list(
        conn.execute(
            sa.select(u.c.id).where(u.c.is_admin.is_(True), u.c.is_active.is_(True)).order_by(u.c.id)
        ).scalars()
    )


def usernames(conn: sa.Connection, ids: Iterable[int]) -> dict[int, str]:
    u = st.users
    wanted = list(ids)
    rows = conn.execute(sa.select(u.c.id, u.c.username).where(u.c.id.in_(wanted)))
    return {user_id: username for user_id, username in rows}
