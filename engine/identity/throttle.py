"""Sign-in throttling, kept in the database so every server process sees the same counts.

Failures are counted per username and per client address; past the limit the key is locked
for a while and sign-in answers 429 with ``Retry-After`` — even with the right password, so a
guesser learns nothing from a lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engine.clock import utcnow
from engine.errors import TooManyAttempts
from engine.schema import system_tables as st

#: An address may fail this many times the per-username limit (several users behind one NAT).
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class LoginThrottle:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def keys(self, username: str, ip: str | None) -> dict[str, int]:
        keys = {f"user:{username.strip().lower()}": self.max_failures}
        if ip:
            keys[f"ip:{ip}"] = self.max_failures * ADDRESS_FACTOR
        return keys

    def check(self, conn: sa.Connection, username: str, ip: str | None) -> None:
        """Raise ``TooManyAttempts`` while any key of this attempt is locked."""
        t = st.login_failures
        now = utcnow()
        rows = conn.execute(
            sa.select(t.c.locked_until).where(
                t.c.key.in_(list(self.keys(username, ip))), t.c.locked_until > now
            )
        ).scalars()
        until = max(rows, default=None)
        if until is not None:
            raise locked(until, now)

    def failed(self, conn: sa.Connection, username: str, ip: str | None) -> datetime | None:
        """Count a failure; returns when the lock ends if this failure locked a key."""
        t = st.login_failures
        now = utcnow()
        locked_until = None
        for key, limit in self.keys(username, ip).items():
            query = sa.select(t).where(t.c.key == key)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            if row is None or row.window_start <= now - self.window:
                failures, start = 1, now
            else:
                failures, start = row.failures + 1, row.window_start
            until = now + self.window if failures >= limit else None
            values = {"failures": failures, "window_start": start, "locked_until": until}
            if row is None:
                _insert(conn, key, values)
            else:
                conn.execute(t.update().where(t.c.key == key).values(values))
            if until is not None:
                locked_until = until
        return locked_until

    def succeeded(self, conn: sa.Connection, username: str) -> None:
        """A good password clears the username's count (not the address's)."""
        key = next(iter(self.keys(username, None)))
        conn.execute(st.login_failures.delete().where(st.login_failures.c.key == key))


def _insert(conn: sa.Connection, key: str, values: dict[str, object]) -> None:
    try:
        with conn.begin_nested():
            conn.execute(st.login_failures.insert().values(key=key, **values))
    except sa.exc.IntegrityError:
        # Another process counted the first failure at the same moment: add ours to it.
        t = st.login_failures
        conn.execute(t.update().where(t.c.key == key).values(failures=t.c.failures + 1))


def locked(until: datetime, now: datetime | None = None) -> TooManyAttempts:
    seconds = max(1, math.ceil((until - (now or utcnow())).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return TooManyAttempts("too_many_sign_ins", minutes=minutes, details={"retry_after": seconds})
