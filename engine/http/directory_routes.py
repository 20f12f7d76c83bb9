"""The user directory: colleagues as every signed-in user may see them, for pickers and for
putting names to the user ids in records (administrators keep the full ``/api/users``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from engine.identity import directory

from .deps import ContextDep, PlatformDep

router = APIRouter(tags=["admin"])


@router.get("/api/directory/users")
def user_directory(
    ctx: ContextDep, platform: PlatformDep, active: bool | None = None
) -> list[dict[str, Any]]:
    """Every user's id, name (display name, else username), department and whether they are
    active; ``?active=true`` leaves out disabled users (a picker of new owners)."""
    with platform.db.connect() as conn:
        people = directory.directory(conn, active_only=bool(active))
    return people if active is not False else [p for p in people if not p["is_active"]]
