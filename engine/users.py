"""Platform users and the bearer tokens they sign in with."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine import system_tables as st
from engine.clock import utcnow
from engine.context import Principal
from engine.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from engine.passwords import hash_password, verify_password

USERNAME = re.compile(r"^[\w.@+-]{1,100}$")
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "tg_"


@dataclass(frozen=True)
class IssuedToken:
    """A token as handed to its owner: the secret is shown this once and never stored."""

    id: int
    token: str
    name: str
    expires_at: datetime | None


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符",
        )


def create_user(
    conn: sa.Connection,
    username: str,
    password: str,
    *,
    is_admin: bool = False,
    display_name: str | None = None,
    department_id: int | None = None,
    manager_id: int | None = None,
) -> int:
    if not USERNAME.match(username):
        raise InvalidInput(
            "a username is 1-100 letters, digits or . _ @ + -",
            "用户名须为 1-100 个字母、数字或 . _ @ + - 字符",
        )
    check_password_policy(password)
    exists = conn.execute(sa.select(st.users.c.id).where(st.users.c.username == username)).scalar()
    if exists is not None:
        raise Conflict(f"the username {username!r} is taken", f"用户名 {username} 已被占用")
    return conn.execute(
        st.users.insert().values(
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            is_admin=is_admin,
            is_active=True,
            department_id=department_id,
            manager_id=manager_id,
            created_at=utcnow(),
        )
    ).inserted_primary_key[0]


def principal_of(row: Any) -> Principal:
    return Principal(id=row.id, username=row.username, is_admin=row.is_admin, department_id=row.department_id)


def get_user(conn: sa.Connection, user_id: int) -> Any:
    row = conn.execute(sa.select(st.users).where(st.users.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user with id {user_id}", f"没有编号为 {user_id} 的用户")
    return row


def check_credentials(conn: sa.Connection, username: str, password: str) -> Principal:
    row = conn.execute(sa.select(st.users).where(st.users.c.username == username)).first()
    # Hash even for unknown users so response time does not reveal which usernames exist.
    stored = row.password_hash if row is not None else _DUMMY_HASH
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


def authenticate_token(conn: sa.Connection, token: str) -> Principal:
    """The user a bearer token belongs to; refused when expired, revoked or the user is disabled."""
    row = conn.execute(
        sa.select(st.users, st.tokens.c.expires_at, st.tokens.c.revoked_at)
        .join(st.tokens, st.tokens.c.user_id == st.users.c.id)
        .where(st.tokens.c.token_hash == _token_hash(token))
    ).first()
    if row is None or row.revoked_at is not None or not row.is_active:
        raise Unauthenticated("the token is not valid; sign in again", "令牌无效，请重新登录")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthenticated("the token has expired; sign in again", "令牌已过期，请重新登录")
    return principal_of(row)


_DUMMY_HASH = hash_password(secrets.token_hex(8))
