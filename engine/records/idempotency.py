"""Idempotency keys: a client that retries a create after a lost answer gets the records its
first request made, not a second copy of them.

The key is claimed in the create's own transaction, before any record is written, so exactly
one of two concurrent requests with the same key creates: on PostgreSQL the second waits on the
unique index and then replays; on SQLite writers are serialised anyway. A key is the caller's
own (two users may use the same one), remembers what was asked (the same key with another body
is refused with 409) and expires after ``TTL``, as with the payment APIs that made the pattern
common.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from engine.clock import utcnow
from engine.errors import Conflict, InvalidInput
from engine.schema import system_tables as st

TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200
_t = st.idempotency_keys


def fingerprint(app: str, entity: str, items: Sequence[Any]) -> str:
    """A stable digest of what a create asked for."""
    text = json.dumps([app, entity, list(items)], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str) -> None:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput("idempotency_key_invalid", max=MAX_KEY_LENGTH)


def stored_ids(conn: sa.Connection, user_id: int, key: str, digest: str) -> list[int] | None:
    """The ids a live earlier request with this key created, or None when the key is new (an
    expired key is forgotten here)."""
    row = conn.execute(sa.select(_t).where(_t.c.user_id == user_id, _t.c.key == key)).mappings().first()
    if row is None:
        return None
    if row["created_at"] < utcnow() - TTL:
        conn.execute(_t.delete().where(_t.c.id == row["id"]))
        return None
    if row["fingerprint"] != digest:
        raise Conflict("idempotency_key_reused", key=key)
    return list(row["record_ids"])


def claim(conn: sa.Connection, user_id: int, key: str, digest: str) -> int:
    """Take the key for this request (its ids are filled by ``complete``); a concurrent request
    holding it makes this raise IntegrityError once that request commits."""
    return conn.execute(
        _t.insert()
        .values(user_id=user_id, key=key, fingerprint=digest, record_ids=[], created_at=utcnow())
        .returning(_t.c.id)
    ).scalar_one()


def complete(conn: sa.Connection, claim_id: int, ids: Sequence[int]) -> None:
    conn.execute(_t.update().where(_t.c.id == claim_id).values(record_ids=list(ids)))
