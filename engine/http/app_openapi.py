"""A per-app OpenAPI document whose record schemas are that app's real fields."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine.apps.runtime import AppRuntime
from form_engine import record_schema

from .deps import ContextDep, PlatformDep
from .error_docs import ERROR_SCHEMA

router = APIRouter(tags=["apps"])

_ERROR = {"$ref": "#/components/responses/Error"}


def _schema_name(entity: str) -> str:
    return "".join(part.capitalize() for part in entity.split("_"))


def app_openapi(runtime: AppRuntime) -> dict[str, Any]:
    package = runtime.package
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, Any] = {}
    for er in runtime.entities.values():
        entity = er.entity
        name = _schema_name(entity.name)
        schemas[name] = record_schema(entity, "read")
        schemas[f"{name}Create"] = record_schema(entity, "create")
        update = record_schema(entity, "update")
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
            "get": {"operationId": f"get_{entity.name}", "responses": {**one, **errors}},
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
        paths[base + "/{id}/restore"] = {
            "parameters": [id_param],
            "post": {"operationId": f"restore_{entity.name}", "responses": {**one, **errors}},
        }
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
    return app_openapi(platform.cached_runtime(app))
