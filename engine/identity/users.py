"""Platform users and the bearer tokens they sign in with (session, browser and API tokens)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.clock import utcnow
from engine.context import Principal
from engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from engine.identity import departments
from engine.identity.passwords import DEFAULT_COST, hash_password, unusable_hash, verify_password
from engine.identity.roles import user_roles
from engine.schema import system_tables as st

#: Whole-string match: ``$`` would also accept a trailing newline.
USERNAME = re.compile(r"[\w.@+-]{1,100}")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "tg_"


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed to its owner: the secret is shown this once and never stored."""

    id: int
    token: str
    name: str
    expires_at: datetime | None


def check_password_policy(
    password: str, *, username: str = "", min_length: int = MIN_PASSWORD_LENGTH
) -> None:
    """Length, and not the username: long passphrases beat composition rules."""
    if len(password) < min_length:
        raise InvalidInput(
            f"the password must have at least {min_length} characters",
            f"密码至少需要 {min_length} 个字符",
        )
    if len(password) > 1000:
        raise InvalidInput("the password may have at most 1000 characters", "密码最多 1000 个字符")
    if username and password.strip().lower() == username.lower():
        raise InvalidInput("the password may not be the username", "密码不能与用户名相同")


def create_user(
    conn: sa.Connection,
    username: str,
    password: str,
    *,
    is_admin: bool = False,
    display_name: str | None = None,
    department_id: int | None = None,
    manager_id: int | None = None,
    min_length: int = MIN_PASSWORD_LENGTH,
    hash_cost: int = DEFAULT_COST,
) -> int:
    """A new active user; ``hash_cost`` is ``Settings.password_hash_cost``."""
    if not USERNAME.fullmatch(username):
        raise InvalidInput(
            "a username is 1-100 letters, digits or . _ @ + -",
            "用户名须为 1-100 个字母、数字或 . _ @ + - 字符",
        )
    check_password_policy(password, username=username, min_length=min_length)
    exists = conn.execute(sa.select(st.users.c.id).where(st.users.c.username == username)).scalar()
    if exists is not None:
        raise Conflict(f"the username {username!r} is taken", f"用户名 {username} 已被占用")
    return conn.execute(
        st.users.insert().values(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password, cost=hash_cost),
            is_admin=is_admin,
            is_active=True,
            department_id=department_id,
            manager_id=manager_id,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]


def principal_of(row: Any, roles: frozenset[tuple[str, str]] = frozenset()) -> Principal:
    return Principal(
        id=row.id, username=row.username, is_admin=row.is_admin, department_id=row.department_id, roles=roles
    )


def load_principal(conn: sa.Connection, row: Any) -> Principal:
    """The principal with the roles it holds in every app, for one request."""
    return principal_of(row, user_roles(conn, row.id))


def get_user(conn: sa.Connection, user_id: int) -> Any:
    row = conn.execute(sa.select(st.users).where(st.users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user with id {user_id}", f"没有编号为 {user_id} 的用户")
    return row


def check_credentials(
    conn: sa.Connection, username: str, password: str, *, hash_cost: int = DEFAULT_COST
) -> Principal:
    row = conn.execute(sa.select(st.users).where(st.users.c.username == username)).first()
    # Hash even for unknown users, at the configured cost, so response time does not reveal
    # which usernames exist.
    stored = row.password_hash if row is not None else unusable_hash(cost=hash_cost)
    valid = verify_password(password, stored)
    if row is None or not valid or not row.is_active:
        raise Unauthenticated("wrong username or password", "用户名或密码错误")
    return principal_of(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    conn: sa.Connection, user_id: int, *, name: str, kind: str, ttl: timedelta | None
) -> IssuedToken:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + ttl if ttl is not None else None
    token_id = conn.execute(
        st.tokens.insert().values(
            user_id=user_id,
            kind=kind,
            name=name,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=expires,
        )
    ).inserted_primary_key[0]
    return IssuedToken(token_id, token, name, expires)


#: How stale ``last_used_at`` may get before a request refreshes it (one write per token per
#: interval, not one per request).
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


def authenticate_token(
    conn: sa.Connection, token: str, *, on_stale: Callable[[int], None] | None = None
) -> Principal:
    """The user a bearer token belongs to; refused when expired, revoked or the user is disabled.

    ``on_stale(token_id)`` is called when the token's ``last_used_at`` is older than
    ``TOKEN_TOUCH_INTERVAL``, so the caller can refresh it after this read (``touch_token``).
    """
    row = conn.execute(
        sa.select(
            st.users,
            st.tokens.c.id.label("token_id"),
            st.tokens.c.expires_at,
            st.tokens.c.revoked_at,
            st.tokens.c.last_used_at,
        )
        .join(st.tokens, st.tokens.c.user_id == st.users.c.id)
        .where(st.tokens.c.token_hash == _token_hash(token))
    ).first()
    if row is None or row.revoked_at is not None or not row.is_active:
        raise Unauthenticated("the token is not valid; sign in again", "令牌无效，请重新登录")
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("the token has expired; sign in again", "令牌已过期，请重新登录")
    if on_stale is not None and (row.last_used_at is None or row.last_used_at < now - TOKEN_TOUCH_INTERVAL):
        on_stale(row.token_id)
    return load_principal(conn, row)


def touch_token(conn: sa.Connection, token_id: int) -> None:
    conn.execute(st.tokens.update().where(st.tokens.c.id == token_id).values(last_used_at=utcnow()))


def token_id_of(conn: sa.Connection, token: str) -> int | None:
    return conn.execute(
        sa.select(st.tokens.c.id).where(st.tokens.c.token_hash == _token_hash(token))
    ).scalar()


def list_tokens(conn: sa.Connection, user_id: int, kind: str = "api") -> list[dict[str, Any]]:
    """The user's tokens of ``kind``, without secrets (they were never stored)."""
    t = st.tokens
    rows = conn.execute(
        sa.select(t.c.id, t.c.name, t.c.created_at, t.c.expires_at, t.c.revoked_at)
        .where(t.c.user_id == user_id, t.c.kind == kind)
        .order_by(t.c.id)
    ).mappings()
    return [dict(r) for r in rows]


def revoke_token(conn: sa.Connection, token_id: int, *, user_id: int | None = None) -> Any:
    """Revoke one token (of ``user_id`` when given); 404 when there is no such token."""
    t = st.tokens
    where = [t.c.id == token_id] + ([t.c.user_id == user_id] if user_id is not None else [])
    row = conn.execute(sa.select(t).where(*where)).first()
    if row is None:
        raise NotFound(f"no token with id {token_id}", f"没有编号为 {token_id} 的令牌")
    if row.revoked_at is None:
        conn.execute(t.update().where(t.c.id == token_id).values(revoked_at=utcnow()))
    return row


def revoke_all_tokens(conn: sa.Connection, user_id: int) -> None:
    t = st.tokens
    conn.execute(
        t.update().where(t.c.user_id == user_id, t.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


def find_user(conn: sa.Connection, ref: str | int) -> Any:
    """A user by id or username (for the CLI and admin tools)."""
    if isinstance(ref, int) or str(ref).isdigit():
        return get_user(conn, int(ref))
    row = conn.execute(sa.select(st.users).where(st.users.c.username == ref)).first()
    if row is None:
        raise NotFound(f"no user named {ref!r}", f"没有名为 {ref} 的用户")
    return row


def user_json(row: Any, roles: frozenset[tuple[str, str]] = frozenset()) -> dict[str, Any]:
    by_app: dict[str, list[str]] = {}
    for app, role in sorted(roles):
        by_app.setdefault(app, []).append(role)
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "is_admin": row.is_admin,
        "is_active": row.is_active,
        "department_id": row.department_id,
        "manager_id": row.manager_id,
        "roles": by_app,
    }


def list_users(conn: sa.Connection) -> list[dict[str, Any]]:
    """Every user with their roles: two queries, not one per user."""
    t = st.role_assignments
    held: dict[int, set[tuple[str, str]]] = {}
    for a in conn.execute(sa.select(t.c.user_id, t.c.app, t.c.role)):
        held.setdefault(a.user_id, set()).add((a.app, a.role))
    return [
        user_json(r, frozenset(held.get(r.id, ())))
        for r in conn.execute(sa.select(st.users).order_by(st.users.c.id))
    ]


def update_user(
    conn: sa.Connection,
    user_id: int,
    changes: dict[str, Any],
    *,
    min_length: int = MIN_PASSWORD_LENGTH,
    hash_cost: int = DEFAULT_COST,
) -> Any:
    """Change a user's profile, department, manager, admin flag, active flag or password.

    Disabling a user, or setting a new password, revokes every token they hold: their sessions
    stop at once, and re-enabling them does not bring old tokens back."""
    row = get_user(conn, user_id)
    values: dict[str, Any] = {}
    for key in ("display_name", "is_admin", "is_active"):
        if key in changes:
            values[key] = changes[key]
    if "department_id" in changes:
        dept = changes["department_id"]
        if dept is not None:
            departments.check_exists(conn, dept)
        values["department_id"] = dept
    if "manager_id" in changes:
        manager = changes["manager_id"]
        if manager is not None:
            if manager == user_id:
                raise InvalidInput("a user cannot be their own manager", "用户不能是自己的上级")
            get_user(conn, manager)
        values["manager_id"] = manager
    if changes.get("password") is not None:
        check_password_policy(changes["password"], username=row.username, min_length=min_length)
        values["password_hash"] = hash_password(changes["password"], cost=hash_cost)
    if values:
        conn.execute(st.users.update().where(st.users.c.id == user_id).values(values))
    if values.get("is_active") is False or "password_hash" in values:
        revoke_all_tokens(conn, user_id)
    return get_user(conn, user_id)
