"""Sign-in: username and password in, bearer token out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from engine.users import check_credentials, issue_token

from .deps import PlatformDep

router = APIRouter(tags=["auth"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


@router.post("/api/auth/token")
def create_token(body: Credentials, platform: PlatformDep) -> dict[str, Any]:
    """Exchange a username and password for a bearer token."""
    ttl = timedelta(minutes=platform.settings.token_ttl_minutes)
    with platform.db.begin() as conn:
        user = check_credentials(conn, body.username, body.password)
        issued = issue_token(conn, user.id, name="sign-in", kind="session", ttl=ttl)
    return {
        "access_token": issued.token,
        "token_type": "bearer",
        "expires_at": issued.expires_at.isoformat().replace("+00:00", "Z") if issued.expires_at else None,
        "user": {"id": user.id, "username": user.username, "is_admin": user.is_admin},
    }
