"""Named API tokens: created by a user for scripts, with an expiry, shown once, revocable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.clock import iso
from engine.errors import InvalidInput
from engine.identity import audit, users

from .deps import ContextDep, IdPath, PlatformDep

router = APIRouter(tags=["tokens"])


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    #: Days until it expires (default 90, at most ``TANGRAM_API_TOKEN_MAX_DAYS``).
    expires_in_days: int = Field(default=90, ge=1)


def _token_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "created_at": iso(row["created_at"]),
        "expires_at": iso(row["expires_at"]),
        "revoked_at": iso(row["revoked_at"]),
    }


@router.post("/api/tokens", status_code=201)
def create_api_token(body: NewToken, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """A new token for the caller. The secret is in this response only: it is stored hashed."""
    assert ctx.user is not None
    limit = platform.settings.api_token_max_days
    if body.expires_in_days > limit:
        raise InvalidInput("token_lifetime_too_long", max_days=limit, details={"max_days": limit})
    with platform.db.begin() as conn:
        issued = users.issue_token(
            conn, ctx.user.id, name=body.name, kind="api", ttl=timedelta(days=body.expires_in_days)
        )
        audit.record(conn, "token_created", ctx=ctx, target=f"token:{issued.id}", details={"name": body.name})
    return {
        "id": issued.id,
        "name": issued.name,
        "token": issued.token,
        "expires_at": iso(issued.expires_at),
    }


@router.get("/api/tokens")
def list_api_tokens(ctx: ContextDep, platform: PlatformDep) -> list[dict[str, Any]]:
    """The caller's API tokens (never their secrets)."""
    assert ctx.user is not None
    with platform.db.connect() as conn:
        return [_token_json(r) for r in users.list_tokens(conn, ctx.user.id)]


@router.delete("/api/tokens/{token_id}")
def revoke_api_token(token_id: IdPath, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """Revoke one of the caller's tokens (an administrator may revoke anyone's)."""
    assert ctx.user is not None
    owner = None if ctx.user.is_admin else ctx.user.id
    with platform.db.begin() as conn:
        row = users.revoke_token(conn, token_id, user_id=owner)
        audit.record(
            conn, "token_revoked", ctx=ctx, target=f"token:{token_id}", details={"user_id": row.user_id}
        )
    return {"id": token_id, "revoked": True}
