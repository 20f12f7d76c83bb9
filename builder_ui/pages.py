"""The browser app's pages. Each renders a shell (header, navigation frame, the caller's
language and labels); the page's script fills it from the kernel's HTTP API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from builder_ui import features, preferences
from builder_ui.errors import UiInputError
from builder_ui.messages import UI_MESSAGES, ui_text
from engine import (
    Context,
    ContextDep,
    Forbidden,
    OptionalContextDep,
    Platform,
    PlatformDep,
    TemplateNotFound,
    available_templates,
    load_template,
    public_route,
)
from form_engine import normalise_locale

HERE = Path(__file__).parent
STATIC = (HERE / "static").resolve()
PREFIX = "/ui"

router = APIRouter(tags=["ui"], include_in_schema=False)
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())


def _locale(request: Request, platform: Platform, ctx: Context | None) -> str:
    if ctx is not None and ctx.user is not None:
        chosen = preferences.locale_of(platform, ctx.user.id)
        if chosen:
            return chosen
    chosen = request.query_params.get("lang")  # the switch on the sign-in page
    if chosen in preferences.LOCALES:
        return chosen
    return normalise_locale(request.headers.get("accept-language"))


def _render(
    request: Request, platform: Platform, ctx: Context | None, template: str, page: dict[str, Any]
) -> HTMLResponse:
    locale = _locale(request, platform, ctx)
    user = None
    if ctx is not None and ctx.user is not None:
        user = {"id": ctx.user.id, "username": ctx.user.username, "is_admin": ctx.user.is_admin}
    boot = {"locale": locale, "user": user, "page": page, "prefix": PREFIX, "messages": ui_text(locale)}
    boot["features"] = features.installed(request)
    carried = json.dumps(boot).replace("<", "\\u003c")  # no label can close the <script> holding it
    html = templates.get_template(template).render(
        t=UI_MESSAGES, locale=locale, user=user, page=page, prefix=PREFIX, boot=carried,
        features=boot["features"],
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "Content-Language": locale})


def _page(
    request: Request, platform: Platform, ctx: Context | None, template: str, **page: Any
) -> Response:
    """A signed-in page, or a redirect to the sign-in page that comes back here."""
    if ctx is None or ctx.user is None:
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{PREFIX}/login?next={quote(back, safe='')}", status_code=303)
    return _render(request, platform, ctx, template, {"kind": template.removesuffix(".html"), **page})


@router.get("/")
@public_route
def root() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=303)


@router.get(PREFIX + "/login")
@public_route
def login(request: Request, platform: PlatformDep, ctx: OptionalContextDep) -> Response:
    return _render(request, platform, None, "login.html", {"kind": "login"})


@router.get(PREFIX + "/")
@public_route
def home(request: Request, platform: PlatformDep, ctx: OptionalContextDep) -> Response:
    """Installed apps (and, for administrators, the bundled templates to install)."""
    return _page(request, platform, ctx, "apps.html")


@router.get(PREFIX + "/account")
@public_route
def my_account(request: Request, platform: PlatformDep, ctx: OptionalContextDep) -> Response:
    return _page(request, platform, ctx, "account.html")


@router.get(PREFIX + "/templates/{name}")
def template_package(name: str, ctx: ContextDep) -> dict[str, Any]:
    """A bundled template's package, for an administrator's browser to import via
    ``POST /api/apps`` (the kernel's one door for installing apps)."""
    if ctx.user is None or not ctx.user.is_admin:
        raise Forbidden("admin_only")
    try:
        return load_template(name)
    except TemplateNotFound:
        raise HTTPException(status_code=404) from None


@router.get(PREFIX + "/templates")
def template_list(ctx: ContextDep) -> list[dict[str, Any]]:
    if ctx.user is None or not ctx.user.is_admin:
        return []
    return available_templates()


@router.put(PREFIX + "/preferences")
def put_preferences(
    ctx: ContextDep, platform: PlatformDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """``{"locale": "zh" | "en"}``: the language of the caller's pages and API answers."""
    locale = body.get("locale")
    if locale not in preferences.LOCALES:
        raise UiInputError("locale_invalid")
    assert ctx.user is not None
    preferences.set_locale(platform, ctx.user.id, locale)
    return {"locale": locale}


@router.get(PREFIX + "/static/{path:path}")
@public_route
def static(path: str) -> FileResponse:
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file():
        raise HTTPException(status_code=404)
    return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})


@router.get(PREFIX + "/{app}")
@public_route
def app_home(app: str, request: Request, platform: PlatformDep, ctx: OptionalContextDep) -> Response:
    """The app's home: the role's default dashboard, else its first list."""
    return _page(request, platform, ctx, "app_home.html", app=app)


@router.get(PREFIX + "/{app}/dashboards/{name}")
@public_route
def dashboard(
    app: str, name: str, request: Request, platform: PlatformDep, ctx: OptionalContextDep
) -> Response:
    return _page(request, platform, ctx, "dashboard.html", app=app, dashboard=name)


@router.get(PREFIX + "/{app}/{entity}")
@public_route
def record_list(
    app: str, entity: str, request: Request, platform: PlatformDep, ctx: OptionalContextDep
) -> Response:
    return _page(request, platform, ctx, "list.html", app=app, entity=entity)


@router.get(PREFIX + "/{app}/{entity}/kanban/{field}")
@public_route
def kanban(
    app: str, entity: str, field: str, request: Request, platform: PlatformDep, ctx: OptionalContextDep
) -> Response:
    return _page(request, platform, ctx, "kanban.html", app=app, entity=entity, field=field)


@router.get(PREFIX + "/{app}/{entity}/new")
@public_route
def record_new(
    app: str, entity: str, request: Request, platform: PlatformDep, ctx: OptionalContextDep
) -> Response:
    return _page(request, platform, ctx, "edit.html", app=app, entity=entity, id=None)


@router.get(PREFIX + "/{app}/{entity}/{record_id}")
@public_route
def record_page(
    app: str, entity: str, record_id: int, request: Request, platform: PlatformDep, ctx: OptionalContextDep
) -> Response:
    return _page(request, platform, ctx, "record.html", app=app, entity=entity, id=record_id)


@router.get(PREFIX + "/{app}/{entity}/{record_id}/edit")
@public_route
def record_edit(
    app: str, entity: str, record_id: int, request: Request, platform: PlatformDep, ctx: OptionalContextDep
) -> Response:
    return _page(request, platform, ctx, "edit.html", app=app, entity=entity, id=record_id)
