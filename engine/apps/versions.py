"""An app's numbered versions: who stored which package when, what changed between two, and
going back to an earlier one (as a new version, through the same migrations as any apply)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from engine.apps.metadata_store import load_app
from engine.apps.package_apply import Applied, apply_package
from engine.apps.package_diff import diff_packages
from engine.clock import iso
from engine.context import Context
from engine.errors import NotFound
from engine.schema import system_tables as st

_V = st.app_versions


def _entry(row: Any) -> dict[str, Any]:
    return {
        "version": row.version,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "created_by_name": row.display_name or row.username,
        "note": row.note,
    }


def _query() -> sa.Select[Any]:
    users = st.users
    return sa.select(_V, users.c.username, users.c.display_name).outerjoin(
        users, users.c.id == _V.c.created_by
    )


def list_versions(conn: sa.Connection, app: str) -> list[dict[str, Any]]:
    """Every stored version of the installed app, newest first, with who stored it and why."""
    stored = load_app(conn, app)
    rows = conn.execute(
        _query().where(_V.c.app == app, _V.c.version <= stored.version).order_by(_V.c.version.desc())
    )
    return [_entry(r) for r in rows]


def package_at(conn: sa.Connection, app: str, version: int) -> dict[str, Any]:
    """The package document stored as ``version`` (404 when there is none)."""
    load_app(conn, app)
    row = conn.execute(sa.select(_V.c.package).where(_V.c.app == app, _V.c.version == version)).first()
    if row is None:
        raise NotFound("app_version_not_found", app=app, version=version)
    return dict(row.package)


def get_version(conn: sa.Connection, app: str, version: int) -> dict[str, Any]:
    """One version with its whole package."""
    package_at(conn, app, version)
    row = conn.execute(_query().where(_V.c.app == app, _V.c.version == version)).one()
    return {**_entry(row), "package": row.package}


def diff_versions(conn: sa.Connection, app: str, old: int, new: int | None = None) -> dict[str, Any]:
    """What changed from version ``old`` to ``new`` (the current one when not given)."""
    new = load_app(conn, app).version if new is None else new
    changes = diff_packages(package_at(conn, app, old), package_at(conn, app, new))
    return {"app": app, "from": old, "to": new, "changes": changes}


def rollback(
    conn: sa.Connection,
    app: str,
    version: int,
    ctx: Context,
    *,
    confirm: Collection[str] = (),
    dry_run: bool = False,
) -> Applied:
    """Make the package of ``version`` current again as a new version. Its migrations follow
    the rules of any apply: a field removed since comes back with its kept data, a change that
    would lose data is refused, an entity added since is dropped only when confirmed."""
    document = package_at(conn, app, version)
    return apply_package(
        conn, app, document, ctx, confirm=confirm, dry_run=dry_run, note=f"rollback to {version}"
    )
