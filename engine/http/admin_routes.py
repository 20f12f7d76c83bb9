"""Administration: users, departments, role assignments, app roles, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from engine.apps import metadata_store
from engine.errors import InvalidInput
from engine.identity import audit, departments, roles, users

from .deps import MAX_ID, AdminDep, ContextDep, Id, IdPath, PlatformDep

router = APIRouter(tags=["admin"])


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)
    display_name: str | None = Field(default=None, max_length=200)
    is_admin: bool = False
    department_id: Id | None = None
    manager_id: Id | None = None


class UserChange(BaseModel):
    """Only the keys sent change. ``null`` clears a department or manager; the other fields
    cannot be empty, so ``null`` for them is a 422."""

    model_config = {"extra": "forbid"}

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    is_admin: bool | None = None
    is_active: bool | None = None
    department_id: Id | None = None
    manager_id: Id | None = None
    password: str | None = Field(default=None, max_length=1000)

    @field_validator("display_name", "is_admin", "is_active", "password", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("not_nullable", "may not be null")
        return value


class NewDepartment(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    parent_id: Id | None = None
    head_id: Id | None = None


class DepartmentChange(BaseModel):
    model_config = {"extra": "forbid"}

    name: str | None = Field(default=None, max_length=200)
    parent_id: Id | None = None
    head_id: Id | None = None


class RoleList(BaseModel):
    roles: list[str] = Field(max_length=100)


# -- users ---------------------------------------------------------------------------------------
@router.get("/api/users")
def list_users(ctx: AdminDep, platform: PlatformDep) -> list[dict[str, Any]]:
    with platform.db.connect() as conn:
        return users.list_users(conn)


@router.post("/api/users", status_code=201)
def create_user(body: NewUser, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    with platform.db.begin() as conn:
        user_id = users.create_user(
            conn,
            body.username,
            body.password,
            is_admin=body.is_admin,
            display_name=body.display_name,
            min_length=platform.settings.password_min_length,
            hash_cost=platform.settings.password_hash_cost,
        )
        row = users.update_user(
            conn, user_id, body.model_dump(include={"department_id", "manager_id"}, exclude_none=True)
        )
        audit.record(
            conn, "user_created", ctx=ctx, target=f"user:{user_id}", details={"is_admin": body.is_admin}
        )
        return users.user_json(row)


@router.get("/api/users/{user_id}")
def get_user(user_id: IdPath, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    with platform.db.connect() as conn:
        return users.user_json(users.get_user(conn, user_id), roles.user_roles(conn, user_id))


@router.patch("/api/users/{user_id}")
def change_user(user_id: IdPath, body: UserChange, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """Change a user; ``is_active: false`` disables them and ends their sessions and tokens at once."""
    changes = body.model_dump(exclude_unset=True)
    if ctx.user_id == user_id and (changes.get("is_active") is False or changes.get("is_admin") is False):
        raise InvalidInput("cannot_demote_self")
    with platform.db.begin() as conn:
        row = users.update_user(
            conn,
            user_id,
            changes,
            min_length=platform.settings.password_min_length,
            hash_cost=platform.settings.password_hash_cost,
        )
        logged = {k: v for k, v in changes.items() if k != "password"} | (
            {"password": "changed"} if "password" in changes else {}
        )
        audit.record(conn, "user_changed", ctx=ctx, target=f"user:{user_id}", details=logged)
        return users.user_json(row, roles.user_roles(conn, user_id))


# -- departments ---------------------------------------------------------------------------------
@router.get("/api/departments")
def list_departments(ctx: ContextDep, platform: PlatformDep) -> list[dict[str, Any]]:
    """The department tree as a flat list (any signed-in user: pickers need it)."""
    with platform.db.connect() as conn:
        return departments.list_departments(conn)


@router.post("/api/departments", status_code=201)
def create_department(body: NewDepartment, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    with platform.db.begin() as conn:
        dept_id = departments.create_department(
            conn, body.name, parent_id=body.parent_id, head_id=body.head_id
        )
    return {"id": dept_id, **body.model_dump()}


@router.patch("/api/departments/{department_id}")
def change_department(
    department_id: IdPath, body: DepartmentChange, ctx: AdminDep, platform: PlatformDep
) -> dict[str, Any]:
    with platform.db.begin() as conn:
        departments.update_department(conn, department_id, body.model_dump(exclude_unset=True))
        return next(d for d in departments.list_departments(conn) if d["id"] == department_id)


# -- roles ---------------------------------------------------------------------------------------
@router.get("/api/apps/{app}/roles")
def app_roles(app: str, ctx: ContextDep, platform: PlatformDep) -> list[dict[str, Any]]:
    """The roles the app defines, with their permissions. Anyone but an administrator gets
    only the names and labels of the roles they hold: field rules name hidden fields."""
    package_roles = platform.cached_runtime(app).package.roles
    user = ctx.user
    if user is None or user.is_admin:
        return [r.model_dump(mode="json", exclude_defaults=True) for r in package_roles]
    held = user.roles_in(app)
    return [
        {"name": r.name, "label": r.label.model_dump()} for r in package_roles if r.name in held or r.everyone
    ]


@router.put("/api/apps/{app}/roles")
def replace_app_roles(
    app: str, body: Annotated[list[dict[str, Any]], Body()], ctx: AdminDep, platform: PlatformDep
) -> list[dict[str, Any]]:
    """Replace the app's role definitions (a new app version); validated like an import."""
    with platform.db.begin() as conn:
        package = roles.replace_definitions(conn, app, body, ctx)
    return [r.model_dump(mode="json", exclude_defaults=True) for r in package.roles]


@router.get("/api/apps/{app}/role-assignments")
def role_assignments(app: str, ctx: AdminDep, platform: PlatformDep) -> list[dict[str, Any]]:
    with platform.db.connect() as conn:
        metadata_store.load_app(conn, app)
        return roles.assignments(conn, app)


@router.put("/api/apps/{app}/users/{user_id}/roles")
def assign_roles(
    app: str, user_id: IdPath, body: RoleList, ctx: AdminDep, platform: PlatformDep
) -> dict[str, Any]:
    """Set the user's roles in this app (replacing the previous ones); audited."""
    with platform.db.begin() as conn:
        users.get_user(conn, user_id)
        package = metadata_store.load_app(conn, app).package
        held = roles.set_roles(conn, ctx, package, user_id, body.roles)
    return {"app": app, "user_id": user_id, "roles": held}


# -- audit ---------------------------------------------------------------------------------------
@router.get("/api/audit")
def read_audit(
    ctx: AdminDep,
    platform: PlatformDep,
    event: Annotated[str | None, Query(description=f"One of: {', '.join(audit.EVENTS)}")] = None,
    actor: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    app: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """Security events, newest first, filtered and paged."""
    if event is not None and event not in audit.EVENTS:
        raise InvalidInput("unknown_audit_event", event=event, events=", ".join(audit.EVENTS))
    with platform.db.connect() as conn:
        items, total = audit.query(
            conn, event=event, actor=actor, app=app, since=since, until=until, limit=limit, offset=offset
        )
    return {"items": items, "total": total, "limit": limit, "offset": offset}
