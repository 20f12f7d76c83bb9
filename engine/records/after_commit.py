"""Work that must wait until a transaction has committed, and never happen if it rolls back.

SQLAlchemy's ``Connection`` has no after-commit event (its ``commit`` event fires before the
database commits), so the kernel owns the transactions that may carry such work: a write unit
joined to an outer transaction queues its events here, and whoever opened that transaction with
:func:`transaction` (or the job runner, for a job's own transaction) runs them after COMMIT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

Callback = Callable[[], None]
_KEY = "tangram.after_commit"


def callbacks(conn: sa.Connection) -> list[Callback]:
    """The callbacks queued on ``conn``'s transaction, in order; a job runner truncates the list
    when one job of a batch rolls back to its savepoint."""
    queued: list[Callback] | None = conn.info.get(_KEY)
    if queued is None:
        raise RuntimeError(
            "this connection's transaction was not opened by platform.transaction() or the job "
            "runner, so nothing would publish its events after the commit"
        )
    return queued


def on_commit(conn: sa.Connection, callback: Callback) -> None:
    """Run ``callback`` once ``conn``'s transaction has committed (never if it rolls back)."""
    callbacks(conn).append(callback)


def begin(conn: sa.Connection) -> None:
    """BEGIN on ``conn`` with an empty after-commit queue."""
    conn.begin()
    conn.info[_KEY] = []


def commit(conn: sa.Connection) -> None:
    """COMMIT, then run what was queued. A failing callback is the callback's problem: the
    kernel's (publishing events) log their listeners' errors themselves."""
    queued: list[Callback] = conn.info.pop(_KEY, [])
    conn.commit()
    for callback in queued:
        callback()


def rollback(conn: sa.Connection) -> None:
    """ROLLBACK and forget what was queued."""
    discard(conn)
    conn.rollback()


def discard(conn: sa.Connection) -> None:
    """Forget what was queued (the queue lives on the pooled connection, which outlives us)."""
    conn.info.pop(_KEY, None)


@contextmanager
def transaction(db: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction on a connection of its own: committed when the block ends, rolled back
    when it raises; what :func:`on_commit` queued in it runs after the commit."""
    with db.connect() as conn:
        begin(conn)
        try:
            yield conn
        except BaseException:
            rollback(conn)
            raise
        commit(conn)
