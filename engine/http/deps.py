"""FastAPI dependencies: the platform, the settings, and who is calling."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import Field

from engine.context import Context
from engine.errors import Forbidden, Unauthenticated
from engine.host.platform import Platform
from engine.identity.sessions import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, check_csrf
from engine.identity.users import authenticate_token, touch_token

from .problems import locale_of

#: Largest id a BIGINT column holds; larger ids in a path or body are a 422, not a driver error.
MAX_ID = 2**63 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


async def get_platform(request: Request) -> Platform:
    """Async only because it never blocks: FastAPI runs a plain ``def`` dependency in the thread
    pool, a hand-off that costs more than this lookup."""
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def presented_token(request: Request) -> tuple[str | None, bool]:
    """The caller's token and whether it came from the session cookie."""
    token = bearer_token(request)
    if token is not None:
        return token, False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def current_context(request: Request, platform: PlatformDep) -> Context:
    """The signed-in caller (bearer token or session cookie); 401 without a valid one.

    A cookie-authenticated request that may change data must carry the CSRF token (403)."""
    token, from_cookie = presented_token(request)
    if token is None:
        raise Unauthenticated("sign_in_required")
    stale: list[int] = []
    with platform.db.connect() as conn:
        user = authenticate_token(conn, token, on_stale=stale.append)
    if stale:
        with platform.db.begin() as conn:
            touch_token(conn, stale[0])
    if from_cookie and request.method not in SAFE_METHODS:
        check_csrf(platform.settings.resolved_secret_key(), token, request.headers.get(CSRF_HEADER))
    ip = client_ip(request)
    return Context(
        user=user,
        locale=locale_of(request),
        request_id=getattr(request.state, "request_id", None),
        tags={"ip": ip} if ip else {},
    )


ContextDep = Annotated[Context, Depends(current_context)]


def optional_context(request: Request, platform: PlatformDep) -> Context | None:
    """The signed-in caller, or ``None`` for an anonymous request (a public page that offers
    to sign in). A present but invalid token counts as anonymous."""
    try:
        return current_context(request, platform)
    except Unauthenticated:
        return None


OptionalContextDep = Annotated[Context | None, Depends(optional_context)]

#: Attribute a plugin's endpoint carries (set by ``public_route``) to be served without sign-in.
PUBLIC_MARK = "__tangram_public__"


def public_route(endpoint: Any) -> Any:
    """Mark a plugin route as public: the kernel will not demand a signed-in caller for it
    (apply it below the router's decorator). The endpoint checks whatever it needs itself."""
    setattr(endpoint, PUBLIC_MARK, True)
    return endpoint


def admin_context(ctx: ContextDep) -> Context:
    if ctx.user is None or not ctx.user.is_admin:
        raise Forbidden("admin_only")
    return ctx


AdminDep = Annotated[Context, Depends(admin_context)]
