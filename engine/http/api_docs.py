"""The interactive API docs at ``/docs``: Swagger UI served from the package, able to sign in.

The assets are vendored (``static/swagger-ui``, pinned in its ``package-lock.txt``, refreshed by
``scripts/vendor_swagger_ui.sh``), because air-gapped and mainland-China intranets often cannot
reach a public CDN. The OpenAPI document declares a bearer scheme on every route that needs a
signed-in caller, so Swagger UI shows an Authorize button and sends the token with each call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the vendored Swagger UI files are served.
ASSETS_PATH = "/static/swagger-ui"
ASSETS_DIR = Path(__file__).parent / "static" / "swagger-ui"
#: How a signed-in call is described: the token from ``POST /api/auth/token``.
BEARER_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token from POST /api/auth/token (or an API token from POST /api/tokens); "
    "press Authorize and paste it",
}


def install_api_docs(app: FastAPI, public_paths: frozenset[str]) -> None:
    """Serve ``/docs`` from local assets and mark every non-public operation as needing a bearer
    token. The app must be created with ``docs_url=None`` and ``redoc_url=None``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} API",
            oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            with_bearer_security(schema, public_paths)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def with_bearer_security(schema: dict[str, Any], public_paths: frozenset[str]) -> None:
    """Add the bearer scheme and require it on every operation outside ``public_paths``."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = BEARER_SCHEME
    for path, operations in schema.get("paths", {}).items():
        if path in public_paths:
            continue
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation.setdefault("security", [{"bearer": []}])
