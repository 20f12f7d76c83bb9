"""One error shape for every failure: code, message in the caller's language, all problems.

```
{"error": {"code": "invalid_input", "message": "...", "request_id": "...",
           "problems": [{"code": "...", "pointer": "/amount", "field": "amount", "message": "..."}],
           "details": {...}}}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import TangramError
from engine.identity import audit
from engine.messages import MESSAGES, render
from form_engine import FormError, normalise_locale

from .methods import allowed_methods

#: Status -> the code the body names; the message is ``http.<code>`` (else ``http.error``).
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def locale_of(request: Request) -> str:
    return normalise_locale(request.headers.get("accept-language"))


def request_id_of(request: Request) -> str:
    return getattr(request.state, "request_id", "-")


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    problems: list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "request_id": request_id_of(request),
        "problems": problems or [],
    }
    if details:
        body["details"] = details
    headers = {**(headers or {}), "X-Request-ID": body["request_id"]}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _request_problem(err: Mapping[str, Any], locale: str) -> str:
    """A problem FastAPI (Pydantic) reports, worded by ``request.<type>`` from its ``ctx``; an
    error type the catalogue does not know keeps Pydantic's English."""
    key = f"request.{err.get('type')}"
    if key in MESSAGES:
        try:
            return render(key, locale, err.get("ctx") or {})
        except (KeyError, IndexError, ValueError):
            pass  # a ctx without the values the template needs
    return str(err.get("msg", "invalid"))


def _problem_of(err: Mapping[str, Any], locale: str) -> dict[str, Any]:
    """One problem of a refused request; a required body that is missing is named as an
    empty body, not as a missing field."""
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "missing" and loc == ("body",):
        return {"code": "body_missing", "pointer": "/", "message": render("body_missing", locale, {})}
    return {
        "code": err.get("type", "invalid"),
        "pointer": _pointer(loc),
        "message": _request_problem(err, locale),
    }


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return "/" + "/".join(parts)


def tangram_error_response(request: Request, exc: TangramError) -> JSONResponse:
    """A kernel error as the caller sees it (its audit entry written apart first)."""
    locale = locale_of(request)
    if exc.audit is not None:
        entry = dict(exc.audit)
        audit.record_apart(request.app.state.platform.db, entry.pop("event"), **entry)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return error_response(
        request,
        exc.status,
        exc.code,
        exc.message(locale),
        [p.to_dict(locale) for p in exc.problems],
        exc.details,
        headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(TangramError)
    async def _tangram(request: Request, exc: TangramError) -> JSONResponse:
        return tangram_error_response(request, exc)

    @app.exception_handler(FormError)
    async def _form(request: Request, exc: FormError) -> JSONResponse:
        """Definition and value errors raised by the form engine outside the record service."""
        locale = locale_of(request)
        problems = [p.to_dict(locale) for p in getattr(exc, "problems", [])]
        return error_response(request, 422, exc.code, render("input_invalid", locale, {}), problems)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = locale_of(request)
        problems = [_problem_of(err, locale) for err in exc.errors()]
        return error_response(
            request, 422, "invalid_request", render("request_invalid", locale, {}), problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cause = exc.__cause__
        if isinstance(cause, UnicodeDecodeError):  # FastAPI could not decode the JSON body
            params = {"byte": f"0x{cause.object[cause.start]:02x}", "position": cause.start}
            text = render("http.invalid_encoding", locale_of(request), params)
            return error_response(request, 400, "invalid_encoding", text)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        key = f"http.{code}" if exc.status_code in _HTTP_CODES else "http.error"
        params = {"path": request.url.path, "method": request.method, "detail": str(exc.detail)}
        text = render(key, locale_of(request), params)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(request, exc.status_code, code, text, headers=headers)
