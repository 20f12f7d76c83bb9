"""Which ids name usable rows of a table: the existence check under every reference.

A record's lookups, user and department fields, and the kernel's own checks (a user's
department) all ask the same question; it is asked here once, in chunks, one query per chunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.schema import system_tables as st

_CHUNK = 500


@dataclass(frozen=True)
class Target:
    """Where ids of one reference field must exist: a table, and what makes a row usable."""

    name: str
    table: sa.Table
    usable: Any


def user_target() -> Target:
    return Target("user", st.users, st.users.c.is_active.is_(True))


def department_target() -> Target:
    return Target("department", st.departments, sa.true())


def existing_ids(conn: sa.Connection, target: Target, ids: Iterable[int]) -> set[int]:
    """The subset of ``ids`` that names a usable row of ``target``."""
    wanted = sorted(set(ids))
    found: set[int] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            conn.execute(
                sa.select(target.table.c.id).where(target.table.c.id.in_(chunk), target.usable)
            ).scalars()
        )
    return found
