"""FastAPI dependencies: the platform, the settings, and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from engine.context import Context
from engine.errors import Forbidden, Unauthenticated
from engine.platform import Platform
from engine.users import authenticate_token

from .problems import locale_of


def get_platform(request: Request) -> Platform:
    return request.app.state.platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_context(request: Request, platform: PlatformDep) -> Context:
    """The signed-in caller; 401 without a valid token."""
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated(
            "sign in first: send Authorization: Bearer <token> (POST /api/auth/token gives one)",
            "请先登录：请求头需带 Authorization: Bearer <令牌>（通过 POST /api/auth/token 获取）",
        )
    with platform.db.connect() as conn:
        user = authenticate_token(conn, token)
    return Context(
        user=user, locale=locale_of(request), request_id=getattr(request.state, "request_id", None)
    )


ContextDep = Annotated[Context, Depends(current_context)]


def admin_context(ctx: ContextDep) -> Context:
    if ctx.user is None or not ctx.user.is_admin:
        raise Forbidden("only an administrator may change app definitions", "只有管理员可以修改应用定义")
    return ctx


AdminDep = Annotated[Context, Depends(admin_context)]
