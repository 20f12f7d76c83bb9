"""Platform users and the bearer tokens they sign in with (session, browser and API tokens)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.clock import utcnow
from engine.context import Principal
from engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from engine.identity import departments
from engine.identity.passwords import DEFAULT_COST, hash_password, unusable_hash, verify_password
from engine.schema import system_tables as st

#: Whole-string match: ``$`` would also accept a trailing newline.
USERNAME = re.compile(r"[\w.@+-]{1,100}")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1000
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
        raise InvalidInput("password_too_short", min_length=min_length)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("password_too_long", max_length=MAX_PASSWORD_LENGTH)
    if username and password.strip().lower() == username.lower():
        raise InvalidInput("password_is_username")


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
        raise InvalidInput("username_invalid")
    check_password_policy(password, username=username, min_length=min_length)
    exists = conn.execute(sa.select(st.users.c.id).where(st.users.c.username == username)).scalar()
    if exists is not None:
        raise Conflict("username_taken", username=username)
    return conn.execute(
        st.users.insert()
        .values(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password, cost=hash_cost),
            is_admin=is_admin,
            is_active=True,
            department_id=department_id,
            manager_id=manager_id,
            created_at=utcnow(),
        )
        .returning(st.users.c.id)
    ).scalar_one()


def principal_of(row: Any, roles: frozenset[tuple[str, str]] = frozenset()) -> Principal:
    return Principal(
        id=row.id, username=row.username, is_admin=row.is_admin, department_id=row.department_id, roles=roles
    )


def acting_principal(conn: sa.Connection, user_id: int) -> Principal | None:
    """The active user ``user_id`` with their roles, for work done in their name without a
    request of theirs (a public form's submissions); ``None`` when gone or disabled."""
    row = conn.execute(sa.select(st.users).where(st.users.c.id == user_id)).first()
    if row is None or not row.is_active:
        return None
    t = st.role_assignments
    roles = conn.execute(sa.select(t.c.app, t.c.role).where(t.c.user_id == user_id))
    return principal_of(row, frozenset((r.app, r.role) for r in roles))


def get_user(conn: sa.Connection, user_id: int) -> Any:
    row = conn.execute(sa.select(st.users).where(st.users.c.id == user_id)).first()
    if row is None:
        raise NotFound("user_not_found", user_id=user_id)
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
        raise Unauthenticated("wrong_credentials")
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
        st.tokens.insert()
        .values(
            user_id=user_id,
            kind=kind,
            name=name,
            token_hash=_token_hash(token),
            created_at=now,
            expires_at=expires,
        )
        .returning(st.tokens.c.id)
    ).scalar_one()
    return IssuedToken(token_id, token, name, expires)


#: How stale ``last_used_at`` may get before a request refreshes it (one write per token per
#: interval, not one per request).
TOKEN_TOUCH_INTERVAL = timedelta(minutes=5)


_TOKEN_HASH: sa.BindParameter[str] = sa.bindparam("token_hash")

#: The token, its user and the user's roles in one round trip (one row per role, or one row
#: with no role). Built once: every authenticated request runs it.
_AUTHENTICATE = (
    sa.select(
        st.users.c.id,
        st.users.c.username,
        st.users.c.is_admin,
        st.users.c.is_active,
        st.users.c.department_id,
        st.tokens.c.id.label("token_id"),
        st.tokens.c.expires_at,
        st.tokens.c.revoked_at,
        st.tokens.c.last_used_at,
        st.role_assignments.c.app,
        st.role_assignments.c.role,
    )
    .select_from(
        st.tokens.join(st.users, st.users.c.id == st.tokens.c.user_id).outerjoin(
            st.role_assignments, st.role_assignments.c.user_id == st.users.c.id
        )
    )
    .where(st.tokens.c.token_hash == _TOKEN_HASH)
)


def authenticate_token(
    conn: sa.Connection, token: str, *, on_stale: Callable[[int], None] | None = None
) -> Principal:
    """The user a bearer token belongs to, with their roles, in one query; refused when expired,
    revoked or the user is disabled.

    ``on_stale(token_id)`` is called when the token's ``last_used_at`` is older than
    ``TOKEN_TOUCH_INTERVAL``, so the caller can refresh it after this read (``touch_token``).
    """
    rows = conn.execute(_AUTHENTICATE, {"token_hash": _token_hash(token)}).all()
    row = rows[0] if rows else None
    if row is None or row.revoked_at is not None or not row.is_active:
        raise Unauthenticated("token_invalid")
    now = utcnow()
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated("token_expired")
    if on_stale is not None and (row.last_used_at is None or row.last_used_at < now - TOKEN_TOUCH_INTERVAL):
        on_stale(row.token_id)
    return principal_of(row, frozenset((r.app, r.role) for r in rows if r.role is not None))


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
        raise NotFound("token_not_found", token_id=token_id)
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
        raise NotFound("user_not_found.name", username=ref)
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
                raise InvalidInput("own_manager")
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


def user_labels(conn: sa.Connection, ids: Iterable[int]) -> dict[int, str]:
    """How people are named where a user id is shown (a report's group, an export's cell):
    the display name, else the username."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    u = st.users.c
    rows = conn.execute(sa.select(u.id, u.display_name, u.username).where(u.id.in_(wanted)))
    return {r.id: r.display_name or r.username for r in rows}
