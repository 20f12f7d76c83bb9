"""HTTP methods beyond the routes' own: HEAD wherever GET is served, and 405 answers whose
``Allow`` names every method the path serves.

FastAPI routes list only the methods they declare, so HEAD on a GET route answered 405, and a
405 named only the methods of the first route that matched the path (``OPTIONS /api/apps``
said ``Allow: GET`` although POST is served too).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The methods a route may serve (HEAD follows GET, OPTIONS is never served).
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves on the request's path (HEAD with GET): asked of the
    router itself, method by method, so included routers and plugins' routes count too."""
    routes: list[BaseRoute] = request.app.router.routes
    methods = {
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


class HeadAsGet:
    """Serves HEAD as GET without the body: same status and headers (Content-Length
    included), as RFC 9110 asks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
