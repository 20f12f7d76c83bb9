"""Record scopes as SQL: the WHERE clause selecting the rows a user may touch.

Everything is a subquery or an IN list inside the one query the record service runs, so lists,
counts, reports and exports see the same rows and nothing is fetched only to be dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.apps.role_definitions import Grant
from engine.context import Principal
from engine.identity import departments
from engine.schema import system_tables as st

#: Compiles a grant's DSL condition to a clause on the entity's table.
ConditionCompiler = Callable[[str], Any]


@dataclass
class Subject:
    """The user a scope is computed for, with their departments resolved once per query."""

    user: Principal
    conn: sa.Connection
    _departments: set[int] | None = None
    _tree: set[int] | None = None

    @property
    def departments(self) -> set[int]:
        """The user's own department and the departments they head."""
        if self._departments is None:
            own = {self.user.department_id} if self.user.department_id is not None else set()
            self._departments = own | departments.led_by(self.conn, self.user.id)
        return self._departments

    @property
    def tree(self) -> set[int]:
        if self._tree is None:
            self._tree = departments.subtree(self.conn, self.departments)
        return self._tree


def _owned_in(table: sa.Table, department_ids: set[int]) -> Any:
    members = sa.select(st.users.c.id).where(st.users.c.department_id.in_(sorted(department_ids)))
    return table.c.owner.in_(members)


def scope_clause(table: sa.Table, subject: Subject, scope: str | None) -> Any:
    """The rows of ``scope``; a user without a department has only their own in department
    scopes (never everyone's records whose owner has no department)."""
    if scope is None:
        return sa.false()
    if scope == "all":
        return sa.true()
    mine = table.c.owner == subject.user.id
    if scope == "own":
        return mine
    ids = subject.departments if scope == "department" else subject.tree
    return sa.or_(mine, _owned_in(table, ids)) if ids else mine


def grant_clause(table: sa.Table, subject: Subject, grant: Grant, condition: ConditionCompiler) -> Any:
    parts = []
    if grant.scope is not None:
        parts.append(scope_clause(table, subject, grant.scope))
    if grant.condition is not None:
        parts.append(condition(grant.condition))
    return sa.or_(*parts) if len(parts) > 1 else parts[0]


def shared_clause(table: sa.Table, subject: Subject, app: str, entity: str, op: str) -> Any | None:
    """Records shared with the user or one of their departments: read for ``read``/``export``,
    also update for an ``edit`` share; never delete."""
    if op not in ("read", "export", "update"):
        return None
    s = st.shares
    who = [s.c.user_id == subject.user.id]
    if subject.departments:
        who.append(s.c.department_id.in_(sorted(subject.departments)))
    where = [s.c.app == app, s.c.entity == entity, sa.or_(*who)]
    if op == "update":
        where.append(s.c.access == "edit")
    return table.c.id.in_(sa.select(s.c.record_id).where(*where))
