"""Changing a live app as one versioned step: apply a whole package (or a dry run of it), its
versions, the diff between two, rollback, removing an entity and uninstalling the app."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from engine.apps import package_apply, versions
from engine.apps.metadata_store import load_app
from engine.context import Context
from engine.host.platform import Platform
from engine.identity import audit

from .deps import AdminDep, IdPath, PlatformDep

router = APIRouter(tags=["apps"])

DryRunQuery = Annotated[
    bool, Query(description="Answer the plan (changes, migrations, rows refused) without changing anything")
]
ConfirmQuery = Annotated[
    list[str],
    Query(description="Names of entities (or of the app) whose records may be deleted with them"),
]


def _names(confirm: list[str]) -> set[str]:
    """``?confirm=a&confirm=b`` or ``?confirm=a,b``."""
    return {name.strip() for item in confirm for name in item.split(",") if name.strip()}


def _answer(platform: Platform, applied: package_apply.Applied) -> dict[str, Any]:
    """The plan or outcome, once committed: the files of removed entities go after the commit
    (a rolled-back change keeps them)."""
    for file_id in applied.files:
        platform.files.remove(applied.package.name, file_id)
    return applied.as_json()


def audit_applied(
    conn: Any, ctx: Context, applied: package_apply.Applied, event: str, target: str, door: str
) -> None:
    """One audit entry per committed change (a dry run or an unchanged package writes none)."""
    details = applied.audit_details(door)
    if details is not None:
        audit.record(conn, event, ctx=ctx, app=applied.package.name, target=target, details=details)


@router.put("/api/apps/{app}")
def apply_app(
    app: str,
    ctx: AdminDep,
    platform: PlatformDep,
    package: Annotated[Any, Body()],
    dry_run: DryRunQuery = False,
    confirm: ConfirmQuery = [],  # noqa: B006 - FastAPI copies defaults per request
) -> dict[str, Any]:
    """Apply a whole package to the installed app as its next version: every entity migrated,
    roles, forms and the other sections replaced, all in one transaction."""
    with platform.db.begin() as conn:
        applied = package_apply.apply_package(
            conn, app, package, ctx, confirm=_names(confirm), dry_run=dry_run
        )
        audit_applied(conn, ctx, applied, "app_applied", "package", "http")
    return _answer(platform, applied)


@router.delete("/api/apps/{app}")
def uninstall_app(
    app: str,
    ctx: AdminDep,
    platform: PlatformDep,
    confirm: Annotated[
        str | None, Query(description="The app's name, to uninstall it with its records")
    ] = None,
) -> dict[str, Any]:
    """Remove the app, its tables, records, history and files; refused while it holds records
    unless ``confirm`` names it."""
    with platform.db.begin() as conn:
        counts, _files = package_apply.uninstall_app(conn, app, confirm)
        audit.record(conn, "app_uninstalled", ctx=ctx, app=app, details={"rows": counts})
    platform.files.remove_app(app)
    return {"app": app, "uninstalled": True, "rows": counts}


@router.delete("/api/apps/{app}/entities/{entity}")
def remove_entity(
    app: str,
    entity: str,
    ctx: AdminDep,
    platform: PlatformDep,
    dry_run: DryRunQuery = False,
    confirm: Annotated[
        str | None, Query(description="The entity's name, to remove it with its records")
    ] = None,
) -> dict[str, Any]:
    """Remove one entity (a new app version): its table, records, history and files go; the
    roles' permissions on it too. Refused while it holds records unless ``confirm`` names it,
    and while other entities refer to it."""
    with platform.db.begin() as conn:
        document = package_apply.without_entity(load_app(conn, app).package, entity)
        applied = package_apply.apply_package(
            conn,
            app,
            document,
            ctx,
            confirm={confirm} if confirm == entity else set(),
            dry_run=dry_run,
            note=f"remove entity {entity}",
        )
        audit_applied(conn, ctx, applied, "entity_removed", entity, "http")
    return _answer(platform, applied)


@router.get("/api/apps/{app}/versions")
def list_versions(app: str, ctx: AdminDep, platform: PlatformDep) -> list[dict[str, Any]]:
    """Every version of the app, newest first: number, when, who, and what made it."""
    with platform.db.connect() as conn:
        return versions.list_versions(conn, app)


@router.get("/api/apps/{app}/versions/diff")
def diff_versions(
    app: str,
    ctx: AdminDep,
    platform: PlatformDep,
    from_: Annotated[int, Query(alias="from", ge=1, description="The older version")],
    to: Annotated[int | None, Query(ge=1, description="The newer version (default: the current one)")] = None,
) -> dict[str, Any]:
    """What changed between two versions, section by section (entities field by field)."""
    with platform.db.connect() as conn:
        return versions.diff_versions(conn, app, from_, to)


@router.get("/api/apps/{app}/versions/{version}")
def get_version(app: str, version: IdPath, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """One version with its whole package."""
    with platform.db.connect() as conn:
        return versions.get_version(conn, app, version)


@router.post("/api/apps/{app}/versions/{version}/rollback")
def rollback(
    app: str,
    version: IdPath,
    ctx: AdminDep,
    platform: PlatformDep,
    dry_run: DryRunQuery = False,
    confirm: ConfirmQuery = [],  # noqa: B006 - FastAPI copies defaults per request
) -> dict[str, Any]:
    """Make an earlier version current again, as a new version through the same migrations."""
    with platform.db.begin() as conn:
        applied = versions.rollback(conn, app, version, ctx, confirm=_names(confirm), dry_run=dry_run)
        audit_applied(conn, ctx, applied, "app_applied", f"rollback:{version}", "http")
    return _answer(platform, applied)
