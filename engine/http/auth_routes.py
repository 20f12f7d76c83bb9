"""Sign-in and sign-out: a bearer token for API clients, a cookie session for browsers.

Attempts are counted in the database (``engine.identity.throttle``) before the password is
checked, and every outcome is audited; a locked sign-in answers 429 with ``Retry-After``. An
administrator unlocks a user with ``POST /api/users/{id}/unlock`` (or ``tangram user unlock``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from engine.clock import iso
from engine.context import Principal
from engine.errors import InvalidInput, TooManyAttempts, Unauthenticated
from engine.host.platform import Platform
from engine.identity import audit, departments, users
from engine.identity.sessions import CSRF_COOKIE, SESSION_COOKIE, csrf_token
from engine.identity.throttle import LoginThrottle, locked, unlock
from engine.identity.users import IssuedToken, check_credentials, issue_token

from .deps import AdminDep, ContextDep, IdPath, PlatformDep, client_ip, presented_token
from .problems import error_response, locale_of

router = APIRouter(tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=1, max_length=1000)


def throttle_of(platform: Platform) -> LoginThrottle:
    s = platform.settings
    return LoginThrottle(s.login_max_failures, timedelta(minutes=s.login_lockout_minutes))


def _sign_in(
    platform: Platform, request: Request, body: Credentials, *, kind: str
) -> tuple[Principal, IssuedToken]:
    """Count the attempt, then check the password and issue a token; audit the outcome.

    The attempt is counted (and committed) before the password is checked, so requests in
    parallel cannot all slip past the limit while the first ones are being verified."""
    throttle = throttle_of(platform)
    ip = client_ip(request)
    with platform.db.begin() as conn:
        attempt = throttle.attempt(conn, body.username, ip)
    if attempt.refused:
        assert attempt.until is not None
        audit.record_apart(platform.db, "login_throttled", username=body.username, ip=ip)
        raise locked(attempt.until)
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    try:
        with platform.db.begin() as conn:
            user = check_credentials(
                conn, body.username, body.password, hash_cost=platform.settings.password_hash_cost
            )
            throttle.succeeded(conn, body.username, ip)
            issued = issue_token(conn, user.id, name=kind, kind=kind, ttl=ttl)
            audit.record(conn, "login", actor=user.id, username=user.username, ip=ip, details={"kind": kind})
    except Unauthenticated:
        audit.record_apart(
            platform.db,
            "login_failed",
            username=body.username,
            ip=ip,
            details={"locked": attempt.until is not None},
        )
        raise
    return user, issued


def _too_many(request: Request, exc: TooManyAttempts) -> JSONResponse:
    seconds = str(exc.details.get("retry_after", 60))
    return error_response(
        request,
        429,
        exc.code,
        exc.message(locale_of(request)),
        details=exc.details,
        headers={"Retry-After": seconds},
    )


@router.post("/api/auth/token", response_model=None)
def create_token(body: Credentials, request: Request, platform: PlatformDep) -> dict[str, Any] | JSONResponse:
    """Exchange a username and password for a bearer token."""
    try:
        user, issued = _sign_in(platform, request, body, kind="session")
    except TooManyAttempts as exc:
        return _too_many(request, exc)
    return {
        "access_token": issued.token,
        "token_type": "bearer",
        "expires_at": iso(issued.expires_at),
        "user": {"id": user.id, "username": user.username, "is_admin": user.is_admin},
    }


@router.post("/api/auth/session", response_model=None)
def create_session(
    body: Credentials, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any] | JSONResponse:
    """Browser sign-in: sets an HttpOnly session cookie; send ``csrf_token`` back in
    ``X-CSRF-Token`` on every request that changes data."""
    try:
        user, issued = _sign_in(platform, request, body, kind="browser")
    except TooManyAttempts as exc:
        return _too_many(request, exc)
    csrf = csrf_token(platform.settings.resolved_secret_key(), issued.token)
    secure = request.url.scheme == "https"
    max_age = platform.settings.token_ttl_minutes * 60
    response.set_cookie(
        SESSION_COOKIE, issued.token, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="strict", path="/"
    )
    return {
        "csrf_token": csrf,
        "expires_at": iso(issued.expires_at),
        "user": {"id": user.id, "username": user.username, "is_admin": user.is_admin},
    }


@router.post("/api/auth/logout")
def logout(ctx: ContextDep, request: Request, response: Response, platform: PlatformDep) -> dict[str, Any]:
    """Revoke the token (or session) this request was made with."""
    token, _from_cookie = presented_token(request)
    assert token is not None and ctx.user is not None
    with platform.db.begin() as conn:
        token_id = users.token_id_of(conn, token)
        if token_id is not None:
            users.revoke_token(conn, token_id)
        audit.record(conn, "logout", ctx=ctx)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"signed_out": True}


@router.get("/api/auth/me")
def me(ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """The caller: profile, department (and the ones they head), roles per app."""
    assert ctx.user is not None
    with platform.db.connect() as conn:
        row = users.get_user(conn, ctx.user.id)
        heads = sorted(departments.led_by(conn, ctx.user.id))
    return {**users.user_json(row, ctx.user.roles), "heads_departments": heads}


@router.post("/api/auth/password")
def change_password(body: PasswordChange, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """Change one's own password; every token of the user is revoked, so sign in again."""
    assert ctx.user is not None
    with platform.db.begin() as conn:
        try:
            check_credentials(
                conn,
                ctx.user.username,
                body.current_password,
                hash_cost=platform.settings.password_hash_cost,
            )
        except Unauthenticated:
            raise InvalidInput("current_password_wrong") from None
        users.update_user(
            conn,
            ctx.user.id,
            {"password": body.new_password},
            min_length=platform.settings.password_min_length,
            hash_cost=platform.settings.password_hash_cost,
        )
        audit.record(conn, "password_changed", ctx=ctx, target=f"user:{ctx.user.id}")
    return {"changed": True, "signed_out": True}


@router.post("/api/users/{user_id}/unlock")
def unlock_user(user_id: IdPath, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """Forget the user's failed sign-ins from every address, so a lock ends now (admins)."""
    with platform.db.begin() as conn:
        row = users.get_user(conn, user_id)
        cleared = unlock(conn, row.username)
        audit.record(conn, "user_unlocked", ctx=ctx, target=f"user:{user_id}", details={"addresses": cleared})
    return {"id": user_id, "username": row.username, "addresses_cleared": cleared}
