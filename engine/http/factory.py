"""Building the FastAPI application around a platform."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

from engine.host.jobs import JobRunner, JobScheduler
from engine.host.platform import Platform
from engine.settings import Settings

from . import problems, server_errors
from .admin_routes import router as admin_router
from .api_docs import ASSETS_PATH, install_api_docs
from .app_openapi import router as openapi_router
from .app_routes import public_router
from .app_routes import router as apps_router
from .auth_routes import router as auth_router
from .body_limit import BodyLimitMiddleware
from .bulk_routes import router as bulk_router
from .calendar_routes import router as calendar_router
from .deps import PUBLIC_MARK, current_context
from .directory_routes import router as directory_router
from .error_docs import document_errors
from .file_routes import router as files_router
from .form_routes import router as forms_router
from .import_routes import router as imports_router
from .job_routes import router as jobs_router
from .merge_routes import router as merge_router
from .methods import HeadAsGet
from .proxies import ProxyHeadersMiddleware
from .record_routes import router as records_router
from .request_ids import RequestIdMiddleware
from .request_text import refuse_unstorable_text
from .sharing_routes import router as sharing_router
from .template_routes import router as template_router
from .token_routes import router as token_router
from .version_routes import router as version_router

#: Routes anyone may call; every other route requires a signed-in user.
PUBLIC_PATHS = frozenset(
    {
        "/api/health",
        "/api/schema/app",
        "/api/auth/token",
        "/api/auth/session",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        ASSETS_PATH,
    }
)


def create_app(
    settings: Settings | None = None, *, platform: Platform | None = None, run_jobs: bool = False
) -> FastAPI:
    """The HTTP application. Pass ``platform`` to share one (tests, embedding). With
    ``run_jobs`` (``tangram serve``) and ``TANGRAM_JOB_SCHEDULER`` on, the process also runs
    due jobs while it serves."""
    platform = platform or Platform(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if run_jobs and platform.settings.job_scheduler:
            scheduler = JobScheduler(JobRunner(platform), platform.settings.job_poll_seconds)
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            platform.close()

    app = FastAPI(
        title="Tangram",
        version="0.1.0",
        description="Metadata-driven low-code platform / 元数据驱动的低代码平台",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable_text)],
        # ours, with assets from the package (api_docs); ReDoc would load from a CDN
        docs_url=None,
        redoc_url=None,
    )
    app.state.platform = platform
    platform.init_database()
    problems.install(app)
    server_errors.install(app)  # innermost middleware: a 500 keeps the connection

    settings = platform.settings
    public_patterns: list[re.Pattern[str]] = []  # plugin routes marked public, added below
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.max_body_bytes,
        upload_limit=settings.max_upload_bytes,
        public=PUBLIC_PATHS,
        public_patterns=public_patterns,
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(ProxyHeadersMiddleware, networks=settings.trusted_proxies)
    app.add_middleware(RequestIdMiddleware)  # outermost: error answers carry the id too
    app.include_router(public_router)
    app.include_router(auth_router)
    app.include_router(apps_router)
    app.include_router(imports_router)  # before the records': .../records/{entity}/export
    app.include_router(version_router)
    app.include_router(template_router)
    app.include_router(records_router)
    app.include_router(bulk_router)
    app.include_router(forms_router)
    app.include_router(files_router)
    app.include_router(merge_router)
    app.include_router(sharing_router)
    app.include_router(token_router)
    app.include_router(admin_router)
    app.include_router(calendar_router)
    app.include_router(directory_router)
    app.include_router(jobs_router)
    app.include_router(openapi_router)
    # After the kernel's: a plugin adds routes, it never shadows one of the kernel's.
    install_api_docs(app, PUBLIC_PATHS)
    for router in platform.plugins.hook.tangram_routes(platform=platform):
        if router is not None:
            app.include_router(_protected(router, public_patterns))
    _document_errors(app)
    return app


def _document_errors(app: FastAPI) -> None:
    """The OpenAPI document lists every route's error answers too (engine.http.error_docs)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(build(), PUBLIC_PATHS)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_environment() -> FastAPI:
    """The app with settings read from ``TANGRAM_*`` variables: the factory each process of
    ``tangram serve --workers N`` calls, since an app object cannot be handed to another process."""
    return create_app(Settings(), run_jobs=True)


def _protected(router: APIRouter, public_patterns: list[re.Pattern[str]]) -> APIRouter:
    """Plugin routes get the same authentication as ours unless their endpoint is marked public
    (``engine.public_route``); a public one's path joins ``public_patterns``, so an anonymous
    body sent to it is read (a public form's submission)."""
    wrapper = APIRouter()
    for route in router.routes:  # one at a time, so the plugin's route order holds
        single = APIRouter()
        single.routes.append(route)
        public = getattr(getattr(route, "endpoint", None), PUBLIC_MARK, False)
        if public and isinstance(route, APIRoute):
            public_patterns.append(route.path_regex)
        wrapper.include_router(single, dependencies=[] if public else [Depends(current_context)])
    return wrapper
