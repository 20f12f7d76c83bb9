"""The edge check every route runs first: no NUL or lone surrogate in any text of a request.

PostgreSQL's driver fails on NUL (a 500 on the sign-in form, for one), SQLite stores it, and a
lone surrogate (``"\\ud800"`` is valid JSON) cannot even be written back in a UTF-8 answer. No
person types either, so the request is refused with a 422 before any route, database or error
message sees the text: path and query parameters, the decoded JSON body, form fields.
Record values meet the same rule again in the form engine's coercion, for writes that do not
come over HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from form_engine import code_point, escape_unstorable, unstorable_in

ERROR_TYPE = "unstorable_text"
#: What a JSON body must contain for its decoded text to hold one: an escape ``\u0000`` or
#: ``\udXXX``, a raw NUL, or UTF-8-like surrogate bytes (decoded with ``surrogatepass``). A body
#: without any is not walked: one bytes search instead of a look at every string.
_MAY_HOLD_ONE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\x00|\xed[\xa0-\xbf]")


def _is_json(content_type: str | None) -> bool:
    """The bodies FastAPI decodes as JSON: no content type, ``application/json``, ``*+json``."""
    if not content_type:
        return True
    main = content_type.partition(";")[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def _error(where: str, path: Iterable[str | int], char: str) -> dict[str, Any]:
    return {
        "type": ERROR_TYPE,
        "loc": (where, *(escape_unstorable(p) if isinstance(p, str) else p for p in path)),
        "msg": f"the text contains {code_point(char)}, which cannot be stored",
        "ctx": {"char": code_point(char)},
    }


def _pairs(where: str, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Problems of name/value pairs (query string, form fields), located by the name."""
    return [_error(where, (pairs[int(path[0])][0],), char) for path, char in unstorable_in(pairs)]


async def _body_errors(request: Request) -> list[dict[str, Any]]:
    """Problems of the body as the route sees it (Starlette caches it): JSON or form fields."""
    content_type = request.headers.get("content-type")
    if content_type and content_type.partition(";")[0].strip().lower() in (
        "multipart/form-data",
        "application/x-www-form-urlencoded",
    ):
        form = await request.form()
        return _pairs("body", [(name, value) for name, value in form.multi_items() if isinstance(value, str)])
    if not _is_json(content_type) or not _MAY_HOLD_ONE.search(await request.body()):
        return []
    try:
        body = await request.json()
    except ValueError:
        return []  # FastAPI answers the syntax error itself when the route reads a body
    return [_error("body", path, char) for path, char in unstorable_in(body)]


async def refuse_unstorable_text(request: Request) -> None:
    """An app-wide dependency: 422 ``invalid_request`` listing every bad text with its place."""
    errors = [_error("path", path, char) for path, char in unstorable_in(dict(request.path_params))]
    errors += _pairs("query", request.query_params.multi_items())
    errors += await _body_errors(request)
    if errors:
        raise RequestValidationError(errors)
