"""HTTP routes of the report engine, mounted by the kernel behind its sign-in check; the
routes and their status codes are listed in docs/reports.md ("API")."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse, Response

from engine import ContextDep, Platform
from report_engine import exports
from report_engine.errors import ReportInvalid
from report_engine.messages import CELL_REASONS, report_problem
from report_engine.service import ReportService


def _params(text: str | None) -> dict[str, Any]:
    """The ``params`` query parameter of a GET: a JSON object."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ReportInvalid(
            "report_params_invalid",
            problems=[
                report_problem(
                    "report_param_invalid",
                    "/params",
                    name="params",
                    reason_text={"zh": "须为 JSON 对象", "en": "expected a JSON object"},
                )
            ],
        )
    return value


def _body_invalid(name: str, reason: dict[str, str]) -> ReportInvalid:
    return ReportInvalid(
        "report_drill_invalid",
        problems=[report_problem("report_cell_invalid", f"/{name}", name=name, reason_text=reason)],
    )


def _format(fmt: str) -> str:
    if fmt not in exports.MEDIA_TYPES:
        raise ReportInvalid(
            "export_format_invalid",
            problems=[
                report_problem(
                    "report_param_invalid",
                    "/format",
                    name="format",
                    reason_text={"zh": "csv 或 xlsx", "en": "csv or xlsx"},
                )
            ],
        )
    return fmt


def _file(content: bytes, fmt: str, name: str) -> Response:
    filename = f"{name}.{fmt}"
    disposition = f"attachment; filename=\"{quote(filename)}\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        content, media_type=exports.MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition}
    )


def build_router(platform: Platform, service: ReportService) -> APIRouter:
    router = APIRouter(tags=["reports"])
    base = "/api/apps/{app}/reports"

    @router.get(base)
    def list_reports(app: str, ctx: ContextDep) -> JSONResponse:
        with platform.db.connect() as conn:
            runtime = platform.runtime(conn, app)
        items = [
            {"name": r["name"], "label": (r.get("label") or {}).get(ctx.locale[:2]), "shape": r["shape"]}
            for r in runtime.package.section("reports")
        ]
        return JSONResponse({"reports": items})

    @router.post(base + "/preview")
    def preview(app: str, ctx: ContextDep, body: Annotated[dict[str, Any], Body()]) -> JSONResponse:
        params = body.get("params") or {}
        if not isinstance(params, dict):
            params = _params("[]")
        return JSONResponse(service.preview(ctx, app, body.get("definition"), params))

    @router.get(base + "/{report}")
    def get_report(app: str, report: str, ctx: ContextDep) -> JSONResponse:
        with platform.db.connect() as conn:
            _runtime, data = service.definition(conn, app, report)
        platform.access.require(ctx, _runtime.entity(data["entity"]), "read")
        return JSONResponse(data)

    @router.put(base + "/{report}")
    def put_report(
        app: str, report: str, ctx: ContextDep, body: Annotated[dict[str, Any], Body()]
    ) -> JSONResponse:
        return JSONResponse(service.save(ctx, app, report, body))

    @router.post(base + "/{report}/run")
    def run(
        app: str, report: str, ctx: ContextDep, body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> JSONResponse:
        params = (body or {}).get("params") or {}
        if not isinstance(params, dict):
            params = _params("[]")
        return JSONResponse(service.run(ctx, app, report, params))

    @router.get(base + "/{report}/run")
    def run_get(app: str, report: str, ctx: ContextDep, params: str | None = Query(None)) -> JSONResponse:
        return JSONResponse(service.run(ctx, app, report, _params(params)))

    @router.post(base + "/{report}/drill")
    def drill(
        app: str, report: str, ctx: ContextDep, body: Annotated[dict[str, Any] | None, Body()] = None
    ) -> JSONResponse:
        body = body or {}
        params, cell = body.get("params") or {}, body.get("cell", {})
        measure, compare = body.get("measure"), body.get("compare")
        if not isinstance(params, dict):
            params = _params("[]")
        if cell is None:
            cell = {}
        if not isinstance(cell, dict):
            raise _body_invalid("cell", CELL_REASONS["object"])
        for key, value in (("measure", measure), ("compare", compare)):
            if value is not None and not isinstance(value, str):
                raise _body_invalid(key, CELL_REASONS["text"])
        return JSONResponse(service.drill(ctx, app, report, params, cell, measure=measure, compare=compare))

    @router.get(base + "/{report}/export")
    def export(
        app: str, report: str, ctx: ContextDep, format: str = Query("xlsx"), params: str | None = Query(None)
    ) -> Response:
        fmt = _format(format)
        with platform.db.connect() as conn:
            runtime, data = service.definition(conn, app, report)
        platform.access.require(ctx, runtime.entity(data["entity"]), "export")
        result = service.run(ctx, app, report, _params(params))
        sheet = exports.flatten(result, ctx.locale)
        return _file(exports.render(sheet, fmt, result.get("label") or report), fmt, report)

    @router.get("/api/apps/{app}/dashboards")
    def dashboards(app: str, ctx: ContextDep) -> JSONResponse:
        return JSONResponse(service.dashboards(ctx, app))

    @router.get("/api/apps/{app}/dashboards/{dashboard}")
    def dashboard(
        app: str, dashboard: str, ctx: ContextDep, params: str | None = Query(None)
    ) -> JSONResponse:
        return JSONResponse(service.dashboard(ctx, app, dashboard, _params(params)))

    return router
