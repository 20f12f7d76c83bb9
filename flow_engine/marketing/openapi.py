"""The marketing routes in an app's own OpenAPI document (``tangram_app_openapi``): its segments'
members, count and enrolment. The public tracking and form routes take tokens, not an app, and
stay out of it."""

from __future__ import annotations

from typing import Any

from engine import AppRuntime
from flow_engine.marketing.segments import SECTION
from flow_engine.openapi import JSON, _op

PAGE = {
    "description": "OK",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": {"type": "object"}},
                    "total": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "offset": {"type": "integer"},
                },
            }
        }
    },
}
QUERY = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 50}},
    {"name": "offset", "in": "query", "schema": {"type": "integer", "default": 0}},
    {"name": "sort", "in": "query", "schema": {"type": "string"}},
]
ENROL_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"flow": {"type": "string", "minLength": 1, "maxLength": 60}},
                "required": ["flow"],
            }
        }
    },
}


def _marketing(op_id: str, summary: str, ok: dict[str, Any] = JSON, **more: Any) -> dict[str, Any]:
    return {**_op(op_id, summary, ok, **more), "tags": ["marketing"]}


def segment_paths(runtime: AppRuntime) -> dict[str, Any]:
    app = runtime.package.name
    paths: dict[str, Any] = {
        f"/api/apps/{app}/segments": {"get": _marketing("list_segments", "Segments / 细分人群")},
    }
    for segment in runtime.package.section(SECTION):
        name = segment["name"]
        base = f"/api/apps/{app}/segments/{name}"
        paths[f"{base}/members"] = {
            "get": _marketing(f"segment_members_{name}", f"Members of {name} / 成员", PAGE, parameters=QUERY)
        }
        paths[f"{base}/count"] = {"get": _marketing(f"segment_count_{name}", f"How many in {name} / 人数")}
        paths[f"{base}/enrol"] = {
            "post": _marketing(
                f"enrol_{name}", f"Enrol {name} in a journey / 加入旅程", requestBody=ENROL_BODY
            )
        }
    return paths
