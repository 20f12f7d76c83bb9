"""Which optional engines answer on this server, found from the routes mounted (never by
importing them): pages offer the inbox and approvals only where the flow engine serves them."""

from __future__ import annotations

from fastapi import Request

#: feature -> a route that exists when the plugin providing it is installed
PROBES = {"tasks": "/api/tasks", "notifications": "/api/notifications"}


def installed(request: Request) -> dict[str, bool]:
    paths = {getattr(route, "path", None) for route in request.app.routes}
    return {name: path in paths for name, path in PROBES.items()}
