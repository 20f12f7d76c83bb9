"""Bundled templates: list them, install one as a new app, see where an app came from, and
upgrade it to a newer template version keeping the admin's changes (a three-way merge)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict, Field

import templates_library
from engine.apps import template_upgrade
from engine.identity import audit

from .deps import AdminDep, ContextDep, PlatformDep
from .version_routes import ConfirmQuery, DryRunQuery, _answer, _names, audit_applied

router = APIRouter(tags=["templates"])


class UpgradeBody(BaseModel):
    """What to upgrade to and how to settle conflicts; every part is optional."""

    model_config = ConfigDict(extra="forbid")

    template: dict[str, Any] | None = Field(
        default=None, description="The new template version's package (default: the bundled template)"
    )
    template_version: str | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Its version (default: the bundled one's, or a hash)",
    )
    resolutions: dict[str, Literal["ours", "theirs"]] = Field(
        default_factory=dict, description="Conflict pointer -> the side to take there"
    )


@router.get("/api/templates")
def list_templates(ctx: ContextDep) -> list[dict[str, Any]]:
    """The templates bundled with this release: name, version, label, description, entities."""
    return templates_library.available()


@router.post("/api/templates/{name}/install", status_code=201)
def install_template(name: str, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """Install a bundled template as a new app (named as the template), recording its version."""
    with platform.db.begin() as conn:
        package = template_upgrade.install_template(conn, name, ctx)
        details = {"door": "http", "template": name}
        audit.record(conn, "app_imported", ctx=ctx, app=package.name, details=details)
        came_from = template_upgrade.origin(conn, package.name)
    return {**came_from, "entities": [e.name for e in package.entities]}


@router.get("/api/apps/{app}/template")
def app_template(
    app: str,
    ctx: AdminDep,
    platform: PlatformDep,
    base: Annotated[bool, Query(description="Include the recorded template package")] = False,
) -> dict[str, Any]:
    """Which template and version the app was installed from or last upgraded to."""
    with platform.db.connect() as conn:
        return template_upgrade.origin(conn, app, with_base=base)


@router.post("/api/apps/{app}/upgrade")
def upgrade_app(
    app: str,
    ctx: AdminDep,
    platform: PlatformDep,
    body: Annotated[UpgradeBody | None, Body()] = None,
    dry_run: DryRunQuery = False,
    confirm: ConfirmQuery = [],  # noqa: B006 - FastAPI copies defaults per request
) -> dict[str, Any]:
    """Merge a newer template version into the app as its next version; 409 listing every
    conflict until each has a resolution. ``?dry_run=true`` answers the merge and its plan."""
    body = body or UpgradeBody()
    with platform.db.begin() as conn:
        upgraded = template_upgrade.upgrade_app(
            conn,
            app,
            ctx,
            document=body.template,
            version=body.template_version,
            resolutions=body.resolutions,
            confirm=_names(confirm),
            dry_run=dry_run,
        )
        if upgraded.applied is not None:
            target = f"template:{upgraded.origin['template']}@{upgraded.to_version}"
            audit_applied(conn, ctx, upgraded.applied, "app_applied", target, "http")
    if upgraded.applied is not None:
        _answer(platform, upgraded.applied)
    return upgraded.as_json(ctx.locale)
