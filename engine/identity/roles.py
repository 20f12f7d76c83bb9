"""Assigning an app's roles to users. Roles themselves are defined in the app package."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from engine.apps.package import AppPackage, parse_package
from engine.apps.role_definitions import unknown_name
from engine.clock import utcnow
from engine.context import Context
from engine.errors import InvalidInput
from engine.identity import audit
from engine.schema import system_tables as st


def user_roles(conn: sa.Connection, user_id: int) -> frozenset[tuple[str, str]]:
    """Every ``(app, role)`` the user holds."""
    t = st.role_assignments
    rows = conn.execute(sa.select(t.c.app, t.c.role).where(t.c.user_id == user_id))
    return frozenset((r.app, r.role) for r in rows)


def assignments(conn: sa.Connection, app: str) -> list[dict[str, Any]]:
    t = st.role_assignments
    rows = conn.execute(
        sa.select(t.c.user_id, t.c.role, st.users.c.username)
        .join(st.users, st.users.c.id == t.c.user_id)
        .where(t.c.app == app)
        .order_by(t.c.user_id, t.c.role)
    )
    out: dict[int, dict[str, Any]] = {}
    for r in rows:
        out.setdefault(r.user_id, {"user_id": r.user_id, "username": r.username, "roles": []})[
            "roles"
        ].append(r.role)
    return list(out.values())


def _check_roles(package: AppPackage, roles: Iterable[str]) -> None:
    known = [r.name for r in package.roles]
    problems = [
        unknown_name("unknown_role", f"/roles/{i}", name, known, app=package.name)
        for i, name in enumerate(roles)
        if name not in known
    ]
    if problems:
        raise InvalidInput("roles_not_found", app=package.name, count=len(problems), problems=problems)


def set_roles(
    conn: sa.Connection, ctx: Context, package: AppPackage, user_id: int, roles: list[str]
) -> list[str]:
    """Replace the user's roles in this app; logged as ``role_changed`` when anything changes."""
    _check_roles(package, roles)
    t = st.role_assignments
    before = sorted(r for a, r in user_roles(conn, user_id) if a == package.name)
    after = sorted(set(roles))
    if before == after:
        return after
    conn.execute(t.delete().where(t.c.app == package.name, t.c.user_id == user_id))
    now = utcnow()
    if after:
        conn.execute(
            t.insert(),
            [
                {
                    "app": package.name,
                    "user_id": user_id,
                    "role": r,
                    "assigned_at": now,
                    "assigned_by": ctx.user_id,
                }
                for r in after
            ],
        )
    audit.record(
        conn,
        "role_changed",
        ctx=ctx,
        app=package.name,
        target=f"user:{user_id}",
        details={"before": before, "after": after},
    )
    return after


def replace_definitions(conn: sa.Connection, app: str, definitions: list[Any], ctx: Context) -> AppPackage:
    """Store the app with new role definitions as its next version, validated like an import
    (problems point into ``/roles``). Assignments to roles that no longer exist stop counting."""
    from engine.apps import metadata_store

    stored = metadata_store.load_app(conn, app)
    document = {**stored.package.export(), "roles": definitions}
    package = parse_package(document)
    metadata_store.save_version(conn, package, ctx, "roles", stored.version + 1)
    audit.record(
        conn,
        "role_changed",
        ctx=ctx,
        app=app,
        target="definitions",
        details={"roles": [r.name for r in package.roles]},
    )
    return package
