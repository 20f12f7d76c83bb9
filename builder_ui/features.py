"""Which optional engines answer on this server, found from the routes mounted (never by
importing them): pages offer the inbox, approvals and dashboards only where a plugin serves them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request

#: feature -> a route that exists when the plugin providing it is installed
PROBES = {
    "tasks": "/api/tasks",
    "notifications": "/api/notifications",
    "dashboards": "/api/apps/{app}/dashboards",
}


def _paths(routes: Iterable[Any]) -> Iterator[str]:
    for route in routes:
        included = getattr(route, "original_router", None)  # a router included in another
        if included is not None:
            yield from _paths(included.routes)
        elif isinstance(getattr(route, "path", None), str):
            yield route.path


def installed(request: Request) -> dict[str, bool]:
    """``{feature: bool}``, worked out once per application (its routes are fixed at startup)."""
    state = request.app.state
    found: dict[str, bool] | None = getattr(state, "ui_features", None)
    if found is None:
        paths = set(_paths(request.app.routes))
        found = {name: path in paths for name, path in PROBES.items()}
        state.ui_features = found
    return dict(found)
