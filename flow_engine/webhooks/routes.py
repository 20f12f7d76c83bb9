"""Admin routes for the per-app webhook signing secret: whether one is set, and a new one."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter

from engine import AdminDep, PlatformDep, load_app
from flow_engine.webhooks.delivery import SECRET
from flow_engine.webhooks.secrets import get_secret, hint, put_secret

router = APIRouter(tags=["webhooks"])


@router.get("/api/apps/{app}/webhook-secret")
def webhook_secret(app: str, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """Whether the app signs its webhooks, and the secret's last characters (never all of it)."""
    with platform.db.connect() as conn:
        load_app(conn, app)
        found = get_secret(conn, app, SECRET)
    return {"configured": found is not None, "hint": hint(found["secret"]) if found else None}


@router.post("/api/apps/{app}/webhook-secret")
def new_webhook_secret(app: str, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """A new signing secret, shown this once: give it to the receivers, who check
    ``X-Tangram-Signature`` with it. Deliveries still waiting are signed with the new one."""
    value = "whsec_" + secrets.token_urlsafe(32)
    with platform.db.begin() as conn:
        load_app(conn, app)
        put_secret(conn, app, SECRET, {"secret": value})
    return {"secret": value, "hint": hint(value)}
