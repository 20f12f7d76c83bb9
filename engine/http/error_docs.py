"""The error answers of every route, written into the OpenAPI document.

A route's own code documents its success; the answers it shares with every other route come
from the layers around it, so they are documented here, by the same rules those layers follow:

- every route: 422 (the request or its values are not valid), 500 (the server failed) and 503
  (the database was too busy: retry after ``Retry-After``);
- a route that needs a signed-in caller: 401, and 403 (a permission, or a cookie without its
  CSRF token);
- a route that needs a signed-in caller, or has a path parameter: 404 (nothing of that name or
  id the caller may see, in the path or named in the body);
- a method that carries a body: 400 (an unreadable body), 409 (a conflict: a stale version, a
  duplicate, a name taken) and 413 (a body over the limit);
- the sign-in routes: 401 (wrong credentials) and 429 (too many attempts).

Each of them has the platform's one error shape (``components/schemas/Error``); FastAPI's own
422 schema (``detail``) is replaced, since the platform never answers it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from engine.messages import render

#: The platform's one error shape (engine.http.problems), as JSON Schema.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "request_id": {"type": "string"},
                "problems": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "code": {"type": "string"},
                            "pointer": {"type": "string"},
                            "message": {"type": "string"},
                            "field": {"type": "string"},
                        },
                        "required": ["code", "pointer", "message"],
                    },
                },
                "details": {"type": "object"},
            },
            "required": ["code", "message", "request_id", "problems"],
        }
    },
    "required": ["error"],
}

_WITH_BODY = frozenset({"post", "put", "patch", "delete"})
_SIGN_IN = frozenset({"/api/auth/token", "/api/auth/session"})


def error_codes(path: str, method: str, *, public: bool) -> list[int]:
    """The error statuses the layers around a route may answer for ``method`` on ``path``."""
    codes = {422, 500, 503}
    if not public:
        codes |= {401, 403}
    if not public or "{" in path:
        codes.add(404)
    if method in _WITH_BODY:
        codes |= {400, 409, 413}
    if path in _SIGN_IN:
        codes |= {401, 429}
    return sorted(codes)


def _description(code: int) -> str:
    key = f"openapi.status.{code}"
    return f"{render(key, 'en', {})} / {render(key, 'zh', {})}"


def document_errors(document: dict[str, Any], public: Collection[str]) -> dict[str, Any]:
    """Adds the shared error answers to every operation of ``document`` (in place)."""
    components = document.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code in error_codes(path, method, public=path in public):
                responses[str(code)] = {"description": _description(code), "content": content}
    schemas = components["schemas"]
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document
