"""A per-app OpenAPI document whose record schemas are that app's real fields.

A non-administrator's document covers what they may read: the entities their roles open, each
without the fields hidden from them (the package export follows the same rule).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from fastapi import APIRouter

from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.errors import Forbidden
from form_engine import record_schema

from .deps import ContextDep, PlatformDep
from .error_docs import ERROR_SCHEMA
from .record_openapi import SEARCH_PARAM, TRASH_PARAM, entity_paths, file_paths

router = APIRouter(tags=["apps"])

_ERROR = {"$ref": "#/components/responses/Error"}


def _schema_name(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_"))


_EXPAND = {"name": "expand", "in": "query", "schema": {"enum": ["titles"]}, "description": "add _titles"}
_DRY_RUN = {"name": "dry_run", "in": "query", "schema": {"type": "boolean", "default": False}}
_PICKED = {
    "ids": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 10_000},
    "filter": {"type": "string", "description": "Rule DSL (instead of ids)"},
}
_OUTCOME = {
    "description": "What was done (or, in a dry run, would be)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "matched": {"type": "integer"},
                    "count": {"type": "integer"},
                    "ids": {"type": "array", "items": {"type": "integer"}},
                    "dry_run": {"type": "boolean"},
                },
            }
        }
    },
}


def _picked(operation_id: str, errors: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bulk operation on the records picked by ids or a filter (see docs/api.md)."""
    body = {"type": "object", "properties": {**_PICKED, **(extra or {})}}
    return {
        "operationId": operation_id,
        "parameters": [_DRY_RUN, {"name": "filter", "in": "query", "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {"200": _OUTCOME, **errors},
    }


def _bulk_operations(entity: str, name: str, errors: dict[str, Any]) -> dict[str, Any]:
    values = {"values": {"$ref": f"#/components/schemas/{name}Update"}}
    return {"patch": _picked(f"bulk_update_{entity}", errors, values)}


#: The fields of an entity to leave out of the document, or None to leave out the entity.
Unseen = Callable[[EntityRuntime], Collection[str] | None]


def _without(schema: dict[str, Any], unseen: Collection[str]) -> dict[str, Any]:
    if not unseen:
        return schema
    properties = {k: v for k, v in schema.get("properties", {}).items() if k not in unseen}
    out = {**schema, "properties": properties}
    if "required" in schema:
        out["required"] = [k for k in schema["required"] if k not in unseen]
    return out


def app_openapi(
    runtime: AppRuntime,
    unseen_of: Unseen | None = None,
    extra_paths: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The app's document: for a caller whose ``unseen_of`` hides entities or fields, without
    them; ``extra_paths`` are the paths plugins serve for the app."""
    package = runtime.package
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for er in runtime.entities.values():
        unseen = unseen_of(er) if unseen_of is not None else ()
        if unseen is None:
            continue
        entity = er.entity
        name = _schema_name(entity.name)
        schemas[name] = _without(record_schema(entity, "read"), unseen)
        schemas[f"{name}Create"] = _without(record_schema(entity, "create"), unseen)
        update = _without(record_schema(entity, "update"), unseen)
        update["properties"] = {**update["properties"], "version": {"type": "integer"}}
        schemas[f"{name}Update"] = update
        schemas[f"{name}Page"] = {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                "total": {"type": "integer"},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
            },
            "required": ["items", "total"],
        }
        ref = {"$ref": f"#/components/schemas/{name}"}
        one = {"200": {"description": entity.label.en, "content": {"application/json": {"schema": ref}}}}
        base = f"/api/apps/{package.name}/records/{entity.name}"
        id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        errors = {"4XX": _ERROR}
        paths[base] = {
            "get": {
                "operationId": f"list_{entity.name}",
                "summary": f"List {entity.label.en} / {entity.label.zh}",
                "parameters": [
                    {"name": "filter", "in": "query", "schema": {"type": "string"}},
                    {"name": "sort", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 50}},
                    {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
                    _EXPAND,
                    SEARCH_PARAM,
                    TRASH_PARAM,
                ],
                "responses": {
                    "200": {
                        "description": "A page",
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{name}Page"}}
                        },
                    },
                    **errors,
                },
            },
            "post": {
                "operationId": f"create_{entity.name}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}Create"}}
                    },
                },
                "responses": {"201": one["200"], **errors},
            },
        }
        paths[base + "/{id}"] = {
            "parameters": [id_param],
            "get": {
                "operationId": f"get_{entity.name}",
                "parameters": [_EXPAND],
                "responses": {**one, **errors},
            },
            "patch": {
                "operationId": f"update_{entity.name}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}Update"}}
                    },
                },
                "responses": {**one, **errors},
            },
            "delete": {"operationId": f"delete_{entity.name}", "responses": {**one, **errors}},
        }
        paths[base].update(_bulk_operations(entity.name, name, errors))
        paths[base + "/bulk-delete"] = {"post": _picked(f"bulk_delete_{entity.name}", errors)}
        paths[base + "/bulk-restore"] = {"post": _picked(f"bulk_restore_{entity.name}", errors)}
        paths[base + "/{id}/restore"] = {
            "parameters": [id_param],
            "post": {"operationId": f"restore_{entity.name}", "responses": {**one, **errors}},
        }
        for path, item in entity_paths(package.name, entity.name, name).items():
            paths[path] = {**item, **paths.get(path, {})}
    paths.update(file_paths(package.name))
    for more in extra_paths or ():
        paths.update(more)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{package.label.en} / {package.label.zh}", "version": str(runtime.version)},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "Error": {
                    "description": "The problem, in the caller's language",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


@router.get("/api/apps/{app}/openapi.json")
def app_openapi_document(app: str, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """The app's record API; for a non-administrator, only what they may read."""
    runtime = platform.cached_runtime(app)
    extra = [p for p in platform.plugins.hook.tangram_app_openapi(runtime=runtime) if p]
    if ctx.user is None or ctx.user.is_admin:
        return app_openapi(runtime, None, extra)
    access = platform.access

    def unseen(er: EntityRuntime) -> Collection[str] | None:
        try:
            access.require(ctx, er, "read")
        except Forbidden:
            return None
        return access.field_plan(ctx, er).hidden

    return app_openapi(runtime, unseen, extra)
