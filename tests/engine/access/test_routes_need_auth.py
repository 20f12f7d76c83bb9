"""No route may skip authentication: every route of the app, called anonymously, is refused
unless it is one of the public ones (health, sign-in, the public schema, the API docs)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from engine.http import PUBLIC_PATHS


def walk(routes: list[Any]) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route, through included routers (which FastAPI >= 0.16x keeps
    as router objects rather than copying their routes)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                yield context.path, set(getattr(context.original_route, "methods", None) or {"GET"})
        else:
            yield route.path, set(getattr(route, "methods", None) or {"GET"})


def test_every_route_refuses_anonymous_callers(api: Any) -> None:
    anon = TestClient(api)
    checked = 0
    for route_path, methods in walk(api.routes):
        if route_path in PUBLIC_PATHS:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: "1" if m.group(1).endswith("id") else "x", route_path)
        for method in methods - {"HEAD"}:
            r = anon.request(method, path, json={})
            assert r.status_code == 401, (method, route_path, r.status_code, r.text)
            checked += 1
    assert checked >= 30


def test_public_paths_really_are_reachable(api: Any) -> None:
    anon = TestClient(api)
    assert anon.get("/api/health").status_code == 200
    assert anon.get("/api/schema/app").status_code == 200
    assert anon.post("/api/auth/token", json={"username": "x", "password": "y"}).status_code == 401
