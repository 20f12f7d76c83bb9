"""Who a node's people rules name, resolved when the node starts (and recorded with it).

A rule is one of ``{"user": name}``, ``{"role": r}``, ``{"department": d}``, ``{"field":
"owner"}`` (a user field of the record), ``{"manager_of": "starter" | "owner"}``, ``{"head_of":
"starter" | "owner" | department}``, ``{"starter": true}`` (who started the flow) or ``{"admins":
true}``; a list of rules adds up, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from engine import directory


def _person(record: Mapping[str, Any], starter: int | None, who: str) -> int | None:
    if who == "starter":
        return starter
    value = record.get("owner")
    return value if isinstance(value, int) else None


def resolve(
    conn: sa.Connection,
    app: str,
    specs: Iterable[Mapping[str, Any]],
    record: Mapping[str, Any],
    starter: int | None,
) -> list[int]:
    """User ids, without repeats, in the order the rules give them."""
    found: list[int] = []
    for spec in specs:
        ids: list[int] = []
        if "user" in spec:
            ids = directory.user_ids(conn, [spec["user"]])
        elif "role" in spec:
            ids = directory.role_members(conn, app, spec["role"])
        elif "department" in spec:
            ids = directory.department_members(conn, spec["department"])
        elif "field" in spec:
            value = record.get(spec["field"])
            values = value if isinstance(value, list) else [value]
            ids = directory.user_ids(conn, [v for v in values if isinstance(v, int)])
        elif "manager_of" in spec:
            person = _person(record, starter, spec["manager_of"])
            manager = directory.manager_of(conn, person) if person is not None else None
            ids = [manager] if manager is not None else []
        elif "head_of" in spec:
            ref = spec["head_of"]
            if ref in ("starter", "owner"):
                person = _person(record, starter, ref)
                head = directory.head_of(conn, user_id=person) if person is not None else None
            else:
                head = directory.head_of(conn, department=ref)
            ids = [head] if head is not None else []
        elif spec.get("starter"):
            ids = [starter] if starter is not None else []
        elif spec.get("admins"):
            ids = directory.admins(conn)
        found.extend(i for i in ids if i not in found)
    return found
