"""Apps: import a package, export it, change one entity (which migrates its table), recompute
one entity's derived values."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from engine.apps import metadata_store
from engine.apps.derived_values import recompute_entity
from engine.apps.package import package_json_schema
from engine.errors import Forbidden
from engine.identity import audit
from engine.records.titles import title_field

from .deps import AdminDep, ContextDep, PlatformDep

router = APIRouter(tags=["apps"])
public_router = APIRouter(tags=["schema"])


@public_router.get("/api/health")
def health(platform: PlatformDep) -> dict[str, Any]:
    with platform.db.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
    return {"status": "ok", "database": platform.db.dialect.name}


@public_router.get("/api/schema/app")
def app_schema() -> dict[str, Any]:
    """The JSON Schema an app package must follow."""
    return package_json_schema()


@router.get("/api/apps")
def list_apps(ctx: ContextDep, platform: PlatformDep) -> list[dict[str, Any]]:
    with platform.db.connect() as conn:
        return metadata_store.list_apps(conn)


@router.post("/api/apps", status_code=201)
def import_app(ctx: AdminDep, platform: PlatformDep, package: Annotated[Any, Body()]) -> dict[str, Any]:
    """Import an app package: creates one table per entity, all or nothing."""
    with platform.db.begin() as conn:
        imported = metadata_store.import_app(conn, package, ctx)
        audit.record(conn, "app_imported", ctx=ctx, app=imported.name, details={"door": "http"})
    return imported.export()


@router.get("/api/apps/{app}")
def export_app(app: str, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """The app package. Administrators get all of it; anyone else a reading view: the
    entities they may read with the fields they may see, and no roles, rules or forms (which
    would name hidden fields and thresholds)."""
    if ctx.user is not None and ctx.user.is_admin:
        with platform.db.connect() as conn:
            return metadata_store.load_app(conn, app).package.export()
    runtime = platform.cached_runtime(app)
    entities = []
    for er in runtime.entities.values():
        try:
            platform.access.require(ctx, er, "read")
        except Forbidden:
            continue
        hidden = platform.access.field_plan(ctx, er).hidden
        entity = er.entity
        fields = [f.export() for f in entity.fields if f.name not in hidden]
        entry = {"name": entity.name, "label": entity.label.model_dump(), "fields": fields}
        title = title_field(entity)
        if title is not None and title not in hidden:
            entry["title_field"] = title
        entities.append(entry)
    package = runtime.package
    return {"name": package.name, "label": package.label.model_dump(), "entities": entities}


@router.put("/api/apps/{app}/entities/{entity}")
def put_entity(
    app: str,
    entity: str,
    ctx: AdminDep,
    platform: PlatformDep,
    response: Response,
    definition: Annotated[Any, Body()],
) -> dict[str, Any]:
    """Create or change one entity; the table is migrated in place, keeping the data."""
    with platform.db.begin() as conn:
        package, outcome = metadata_store.put_entity(conn, app, definition, entity, ctx)
        audit.record(conn, "entity_changed", ctx=ctx, app=app, target=entity, details={"outcome": outcome})
    response.status_code = 201 if outcome == "created" else 200
    return package.entity(entity).export()


@router.post("/api/apps/{app}/entities/{entity}/purge")
def purge_removed_fields(
    app: str, entity: str, ctx: AdminDep, platform: PlatformDep, field_id: str | None = None
) -> dict[str, Any]:
    """Drop the data kept for removed fields (one by ``field_id``, or all). Cannot be undone."""
    with platform.db.begin() as conn:
        purged = metadata_store.purge_fields(conn, app, entity, field_id, ctx)
        audit.record(conn, "fields_purged", ctx=ctx, app=app, target=entity, details={"fields": purged})
    return {"purged": purged}


@router.post("/api/apps/{app}/entities/{entity}/recompute")
def recompute_derived(app: str, entity: str, ctx: AdminDep, platform: PlatformDep) -> dict[str, int]:
    """Compute the entity's roll-ups and formulas again for every stored row. Derived data: no
    version bump, history or events; writers of the entity wait until it is done."""
    with platform.db.begin() as conn:
        runtime = platform.runtime(conn, app)
        done = recompute_entity(conn, runtime, runtime.entity(entity))
        counts = {"updated": done.updated, "failed": done.failed}
        audit.record(conn, "derived_recomputed", ctx=ctx, app=app, target=entity, details=counts)
    return counts
