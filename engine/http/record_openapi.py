"""The per-app OpenAPI operations beyond create/read/update/delete: history, bulk, merge,
ownership transfer, sharing, forms and files, so a client generated from the document can call
every record route the kernel serves (``app_openapi`` adds these to each entity's paths)."""

from __future__ import annotations

from typing import Any

from engine.http.uploads import UPLOAD_BODY

ERROR = {"$ref": "#/components/responses/Error"}
ERRORS = {"4XX": ERROR}
ID_PARAM = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
SEARCH_PARAM = {
    "name": "q",
    "in": "query",
    "description": "Keyword search over the title and text fields the caller may see: any substring "
    "(Chinese too) and the title's pinyin initials or syllables (hw, huawei)",
    "schema": {"type": "string", "maxLength": 200},
}
TRASH_PARAM = {"name": "trash", "in": "query", "schema": {"type": "boolean", "default": False}}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


OBJECT: dict[str, Any] = {"type": "object"}
HISTORY_ENTRY = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "description": "create, update, delete, restore, merge ..."},
        "at": {"type": "string", "format": "date-time"},
        "actor": {"type": ["integer", "null"]},
        "changes": {"type": ["object", "null"], "description": "field -> [old, new]"},
    },
}
SHARE = {
    "type": "object",
    "properties": {
        "user_id": {"type": ["integer", "null"]},
        "department_id": {"type": ["integer", "null"]},
        "access": {"type": "string", "enum": ["read", "edit"], "default": "read"},
    },
}


def entity_paths(app: str, entity: str, schema: str) -> dict[str, dict[str, Any]]:
    """Paths of one entity's record routes other than the plain CRUD ones."""
    base = f"/api/apps/{app}/records/{entity}"
    record = {"$ref": f"#/components/schemas/{schema}"}
    create = {"$ref": f"#/components/schemas/{schema}Create"}
    forms = f"/api/apps/{app}/forms/{entity}"
    form_param = {"name": "form", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        base + "/export": {
            "get": {
                "operationId": f"export_{entity}",
                "summary": "The list as a CSV or XLSX file (field rules applied)",
                "parameters": [
                    {"name": "format", "in": "query", "schema": {"enum": ["csv", "xlsx"], "default": "csv"}},
                    {"name": "filter", "in": "query", "schema": {"type": "string"}},
                    {"name": "sort", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment",
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                "schema": {"type": "string", "format": "binary"}
                            },
                        },
                    },
                    **ERRORS,
                },
            }
        },
        base + "/bulk": {
            "post": {
                "operationId": f"bulk_create_{entity}",
                "summary": "Create up to 10,000 records, all or none",
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {"items": {"type": "array", "items": create, "maxItems": 10_000}},
                        "required": ["items"],
                    }
                ),
                "responses": {
                    "201": _json(
                        {
                            "type": "object",
                            "properties": {
                                "ids": {"type": "array", "items": {"type": "integer"}},
                                "count": {"type": "integer"},
                            },
                        },
                        "Created",
                    ),
                    **ERRORS,
                },
            }
        },
        base + "/transfer": {
            "post": {
                "operationId": f"transfer_{entity}",
                "summary": "Give records to another owner",
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {
                            "ids": {"type": "array", "items": {"type": "integer"}},
                            "owner": {"type": "integer"},
                        },
                        "required": ["ids", "owner"],
                    }
                ),
                "responses": {"200": _json(OBJECT), **ERRORS},
            }
        },
        base + "/{id}/history": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": f"history_{entity}",
                "summary": "Changes, oldest first",
                "responses": {"200": _json({"type": "array", "items": HISTORY_ENTRY}), **ERRORS},
            },
        },
        base + "/{id}/merge": {
            "parameters": [ID_PARAM],
            "post": {
                "operationId": f"merge_{entity}",
                "summary": "Merge record `from` into this one (references re-pointed, `from` trashed)",
                "requestBody": _body(
                    {
                        "type": "object",
                        "properties": {"from": {"type": "integer"}, "values": OBJECT},
                        "required": ["from"],
                    }
                ),
                "responses": {"200": _json(record), **ERRORS},
            },
        },
        base + "/{id}/shares": {
            "parameters": [ID_PARAM],
            "get": {
                "operationId": f"list_shares_{entity}",
                "responses": {"200": _json({"type": "array", "items": OBJECT}), **ERRORS},
            },
            "post": {
                "operationId": f"share_{entity}",
                "summary": "Share with one user or one department",
                "requestBody": _body(SHARE),
                "responses": {"201": _json(OBJECT, "Created"), **ERRORS},
            },
        },
        base + "/{id}/shares/{share_id}": {
            "parameters": [
                ID_PARAM,
                {"name": "share_id", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            "delete": {"operationId": f"unshare_{entity}", "responses": {"200": _json(OBJECT), **ERRORS}},
        },
        forms: {
            "get": {
                "operationId": f"list_forms_{entity}",
                "responses": {"200": _json({"type": "array", "items": OBJECT}), **ERRORS},
            }
        },
        forms + "/{form}": {
            "parameters": [form_param],
            "get": {"operationId": f"get_form_{entity}", "responses": {"200": _json(OBJECT), **ERRORS}},
        },
        forms + "/{form}/state": {
            "parameters": [form_param],
            "post": {
                "operationId": f"form_state_{entity}",
                "summary": "Which fields are visible, required and read-only for a draft",
                "requestBody": _body(
                    {"type": "object", "properties": {"record": OBJECT, "id": {"type": "integer"}}}
                ),
                "responses": {"200": _json(OBJECT), **ERRORS},
            },
        },
    }


def file_paths(app: str) -> dict[str, dict[str, Any]]:
    """Upload and download of the app's files (attachment, image and signature fields)."""
    base = f"/api/apps/{app}/files"
    descriptor = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "size": {"type": "integer"},
            "content_type": {"type": "string"},
        },
    }
    return {
        base: {
            "post": {
                "operationId": "upload_file",
                "parameters": [
                    {"name": "entity", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "field", "in": "query", "required": True, "schema": {"type": "string"}},
                ],
                "requestBody": UPLOAD_BODY,
                "responses": {"201": _json(descriptor, "The descriptor to put in the field"), **ERRORS},
            }
        },
        base + "/{file_id}": {
            "parameters": [{"name": "file_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "operationId": "download_file",
                "responses": {
                    "200": {
                        "description": "The file",
                        "content": {
                            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                        },
                    },
                    **ERRORS,
                },
            },
        },
    }
