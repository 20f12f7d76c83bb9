"""Sign-in throttling, kept in the database so every server process sees the same counts.

An attempt is counted *before* its password is checked, by one statement that increments and
returns the count (an upsert with ``RETURNING``), so a parallel burst gets no more guesses than
the limit: each request of the burst sees its own count. Past the limit the key is locked for a
while and sign-in answers 429 with ``Retry-After`` — even with the right password, so a guesser
learns nothing from a lock.

Counts are kept per username *and* address, and per address: a guesser is stopped from any one
address, yet cannot lock a user out from elsewhere (the user signing in from their own address
has a count of their own). A right password clears its username-and-address count and gives
the address its attempt back. An administrator can unlock a user (:func:`unlock`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from engine.clock import utcnow
from engine.errors import TooManyAttempts
from engine.schema import system_tables as st
from form_engine import UTCDateTime

#: An address may fail this many times the per-username limit (several users behind one NAT).
ADDRESS_FACTOR = 4
#: Longest address kept in a key (the key column holds 200 characters, usernames 100).
_MAX_ADDRESS = 90


@dataclass(frozen=True)
class Attempt:
    """The outcome of counting one sign-in attempt."""

    #: A lock (``until``) refuses this attempt: answer 429 without checking the password.
    refused: bool
    #: When the latest lock on this attempt's keys ends, if any key is locked.
    until: datetime | None


@dataclass(frozen=True)
class LoginThrottle:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def keys(self, username: str, ip: str | None) -> dict[str, int]:
        """Counter key -> the attempts it allows per window."""
        address = (ip or "-")[:_MAX_ADDRESS]
        keys = {pair_key(username, address): self.max_failures}
        if ip:
            keys[f"ip:{address}"] = self.max_failures * ADDRESS_FACTOR
        return keys

    def attempt(self, conn: sa.Connection, username: str, ip: str | None) -> Attempt:
        """Count an attempt on every key (atomically, each in one statement) before the
        password is checked; refused when any key is past its limit."""
        now = utcnow()
        refused, until = False, None
        for key, limit in self.keys(username, ip).items():
            count, locked_until = self._count(conn, key, limit, now)
            if count > limit:
                refused = True
            if locked_until is not None and locked_until > now:
                until = max(until or locked_until, locked_until)
        if refused and until is None:  # a lock older than its count cannot happen; be safe
            until = now + self.window
        return Attempt(refused, until)

    def _count(self, conn: sa.Connection, key: str, limit: int, now: datetime) -> tuple[int, datetime | None]:
        t = st.login_failures
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        at = sa.literal(now, UTCDateTime)
        lock = sa.literal(now + self.window, UTCDateTime)
        # A row whose lock ended, or whose window passed without a lock, starts over.
        expired = sa.or_(
            t.c.locked_until <= at,
            sa.and_(
                t.c.locked_until.is_(None), t.c.window_start <= sa.literal(now - self.window, UTCDateTime)
            ),
        )
        count = sa.case((expired, 1), else_=t.c.failures + 1)
        kept_lock = sa.case((expired, sa.null()), else_=t.c.locked_until)
        insert = dialect.insert(t).values(
            key=key, failures=1, window_start=now, locked_until=now + self.window if limit <= 1 else None
        )
        statement = insert.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                "failures": count,
                "window_start": sa.case((expired, at), else_=t.c.window_start),
                # The attempt that reaches the limit sets the lock; later ones leave it be.
                "locked_until": sa.case((count >= limit, sa.func.coalesce(kept_lock, lock)), else_=kept_lock),
            },
        ).returning(t.c.failures, t.c.locked_until)
        row = conn.execute(statement).one()
        return row.failures, row.locked_until

    def succeeded(self, conn: sa.Connection, username: str, ip: str | None) -> None:
        """A right password clears the username-and-address count and gives the address back
        the attempt it counted (failures of other usernames from it still count)."""
        t = st.login_failures
        keys = self.keys(username, ip)
        pair, *address = keys
        conn.execute(t.delete().where(t.c.key == pair))
        if address:
            conn.execute(
                t.update().where(t.c.key == address[0], t.c.failures > 0).values(failures=t.c.failures - 1)
            )


def pair_key(username: str, address: str) -> str:
    return f"pair:{username.strip().lower()}|{address}"


def unlock(conn: sa.Connection, username: str) -> int:
    """Forget every failure counted for ``username``, from any address (an administrator's
    unlock); returns how many addresses were locked or counting."""
    t = st.login_failures
    prefix = pair_key(username, "")
    return conn.execute(t.delete().where(t.c.key.startswith(prefix, autoescape=True))).rowcount


def locked(until: datetime, now: datetime | None = None) -> TooManyAttempts:
    seconds = max(1, math.ceil((until - (now or utcnow())).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return TooManyAttempts("too_many_sign_ins", minutes=minutes, details={"retry_after": seconds})
