"""``/api/notifications``: my notifications, read or unread; marking them read; my e-mail
address. Admin routes for the robots' webhook addresses, which never leave the server."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from engine import AdminDep, ContextDep, Forbidden, PlatformDep, load_app
from flow_engine.notify import center
from flow_engine.notify.channels import channel
from flow_engine.webhooks import NotifyInputError, NotifyNotFound, get_secret, hint, put_secret

router = APIRouter(tags=["notifications"])
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _me(ctx: ContextDep) -> int:
    if ctx.user_id is None:
        raise Forbidden("admin_only")
    return ctx.user_id


@router.get("/api/notifications")
def my_notifications(
    ctx: ContextDep,
    platform: PlatformDep,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The caller's notifications, newest first (``?unread=true``: only unread), with the
    count of unread ones."""
    with platform.db.connect() as conn:
        return center.list_mine(conn, _me(ctx), unread=unread, limit=limit, offset=offset)


@router.post("/api/notifications/read-all")
def read_all(ctx: ContextDep, platform: PlatformDep) -> dict[str, int]:
    with platform.db.begin() as conn:
        return {"marked": center.mark_read(conn, _me(ctx), None)}


@router.post("/api/notifications/{notification_id}/read")
def read_one(notification_id: int, ctx: ContextDep, platform: PlatformDep) -> dict[str, int]:
    """Mark one read; someone else's notification is not found."""
    user = _me(ctx)
    with platform.db.begin() as conn:
        if not center.exists(conn, user, notification_id):
            raise NotifyNotFound("notification_not_found", id=notification_id)
        return {"marked": center.mark_read(conn, user, notification_id)}


class Address(BaseModel):
    email: str | None = Field(max_length=254)
    #: admins only: someone else's address
    user_id: int | None = Field(default=None, ge=1)


@router.put("/api/notifications/email")
def set_email(body: Address, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """Where e-mail notifications reach me (``null`` clears it); an admin may set anyone's."""
    user = _me(ctx)
    if body.user_id is not None and body.user_id != user:
        if not (ctx.user and ctx.user.is_admin):
            raise Forbidden("admin_only")
        user = body.user_id
    if body.email is not None and not EMAIL.match(body.email):
        raise NotifyInputError("email_invalid", email=body.email)
    with platform.db.begin() as conn:
        center.set_email(conn, user, body.email)
    return {"user_id": user, "email": body.email}


class RobotSecret(BaseModel):
    url: str = Field(pattern="^https?://", max_length=2000)
    secret: str | None = Field(default=None, max_length=500)


def _robot(conn: Any, app: str, name: str) -> dict[str, Any]:
    found = channel(load_app(conn, app).package, name)
    if found is None:
        raise NotifyNotFound("channel_unknown", app=app, channel=name)
    return found


@router.put("/api/apps/{app}/notify-channels/{name}/secret")
def set_robot_secret(
    app: str, name: str, body: RobotSecret, ctx: AdminDep, platform: PlatformDep
) -> dict[str, Any]:
    """The robot's webhook address (with its token) and signing secret, kept on this server
    only: exporting the app never carries them."""
    with platform.db.begin() as conn:
        _robot(conn, app, name)
        put_secret(conn, app, f"channel:{name}", {"url": body.url, "secret": body.secret})
    return {"configured": True, "url": hint(body.url), "signed": bool(body.secret)}


@router.get("/api/apps/{app}/notify-channels/{name}/secret")
def robot_secret(app: str, name: str, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """Whether the robot is set up; only the last characters of its address are shown."""
    with platform.db.connect() as conn:
        _robot(conn, app, name)
        found = get_secret(conn, app, f"channel:{name}")
    if found is None:
        return {"configured": False, "url": None, "signed": False}
    return {"configured": True, "url": hint(found["url"]), "signed": bool(found.get("secret"))}
