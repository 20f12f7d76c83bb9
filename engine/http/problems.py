"""One error shape for every failure: code, message in the caller's language, all problems.

```
{"error": {"code": "invalid_input", "message": "...", "request_id": "...",
           "problems": [{"code": "...", "pointer": "/amount", "field": "amount", "message": "..."}],
           "details": {...}}}
```
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import TangramError
from engine.identity import audit
from form_engine import FormError, normalise_locale

log = logging.getLogger("tangram.http")

_HTTP_TEXT = {
    404: ("not_found", "no such address: {path}", "地址不存在：{path}"),
    405: ("method_not_allowed", "{method} is not allowed on {path}", "{path} 不支持 {method} 方法"),
}


#: Chinese text for the request errors FastAPI (Pydantic) reports, by error type.
_REQUEST_ZH = {
    "missing": "缺少必填项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "dict_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "too_short": "元素太少",
    "too_long": "元素太多",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
    "enum": "不是可选值之一",
    "extra_forbidden": "不允许此字段",
}


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


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return "/" + "/".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(TangramError)
    async def _tangram(request: Request, exc: TangramError) -> JSONResponse:
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

    @app.exception_handler(FormError)
    async def _form(request: Request, exc: FormError) -> JSONResponse:
        """Definition and value errors raised by the form engine outside the record service."""
        locale = locale_of(request)
        message = "输入无效" if locale == "zh" else "the input is not valid"
        problems = [p.to_dict(locale) for p in getattr(exc, "problems", [])]
        return error_response(request, 422, exc.code, message, problems)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = locale_of(request)
        problems = []
        for err in exc.errors():
            text = err.get("msg", "invalid")
            if locale == "zh" and err.get("type") in _REQUEST_ZH:
                text = _REQUEST_ZH[err["type"]]
            if err.get("type") == "json_invalid":
                detail = (err.get("ctx") or {}).get("error", "")
                text = (
                    f"the body is not valid JSON: {detail}"
                    if locale == "en"
                    else f"请求体不是合法的 JSON：{detail}"
                )
            problems.append(
                {"code": err.get("type", "invalid"), "pointer": _pointer(err.get("loc", ())), "message": text}
            )
        message = "请求参数无效" if locale == "zh" else "the request is not valid"
        return error_response(request, 422, "invalid_request", message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        locale = locale_of(request)
        code, en, zh = _HTTP_TEXT.get(exc.status_code, ("http_error", str(exc.detail), str(exc.detail)))
        text = (zh if locale == "zh" else en).format(path=request.url.path, method=request.method)
        return error_response(request, exc.status_code, code, text, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception(
            "unexpected error in request %s %s %s", request_id_of(request), request.method, request.url.path
        )
        locale = locale_of(request)
        text = (
            f"内部错误；请把请求编号 {request_id_of(request)} 告知管理员"
            if locale == "zh"
            else f"internal error; give the administrator the request id {request_id_of(request)}"
        )
        return error_response(request, 500, "internal_error", text)
