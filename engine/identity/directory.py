"""Who is who, read-only: members of a department or role, managers and department heads.

Plugins that route work to people (a flow's approvers, a round-robin assignment) ask these
questions; they name people and groups portably, by username or department name, so an app
package moves between installations.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from engine.schema import system_tables as st


def user_ids(conn: sa.Connection, refs: Iterable[int | str]) -> list[int]:
    """Active users named by id or username, in the order given; unknown names are skipped."""
    wanted = list(refs)
    if not wanted:
        return []
    u = st.users
    ids = [r for r in wanted if isinstance(r, int)]
    names = [r for r in wanted if isinstance(r, str)]
    rows = conn.execute(
        sa.select(u.c.id, u.c.username).where(
            sa.or_(u.c.id.in_(ids), u.c.username.in_(names)), u.c.is_active.is_(True)
        )
    ).all()
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
    return dict(conn.execute(sa.select(u.c.id, u.c.username).where(u.c.id.in_(wanted))).tuples().all())
