"""The FROM clause of a report: the source entity's table under the caller's row scope, joined
through the lookups its paths follow, each joined entity under the caller's scope too.

A joined row the caller may not read (or in the trash) joins as nothing, so its values fall in
the empty group, exactly as a list filter through that lookup sees null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import util as sql_util

from engine import AppRuntime, EntityRuntime, directory
from report_engine.fields import ResolvedPath

#: The caller's read scope on an entity (None: every row).
ScopeOf = Callable[[EntityRuntime], Any]


class Source:
    """One report's source table and the joins its paths need, built once per query."""

    def __init__(
        self, runtime: AppRuntime, er: EntityRuntime, scope_of: ScopeOf, conn: sa.Connection | None = None
    ) -> None:
        self.runtime = runtime
        self.er = er
        self.scope_of = scope_of
        self.conn = conn
        self._people: dict[int, int | None] | None = None
        self.table: Any = er.table
        self.from_clause: Any = er.table
        #: lookup path prefix ("account", "account.parent") -> (alias, its entity)
        self.joins: dict[str, tuple[Any, EntityRuntime]] = {}

    def where(self) -> list[Any]:
        """Live rows of the source in the caller's scope."""
        clauses: list[Any] = [self.table.c.deleted_at.is_(None)]
        scope = self.scope_of(self.er)
        if scope is not None:
            clauses.append(scope)
        return clauses

    def _join(
        self, prefix: str, parent: Any, parent_er: EntityRuntime, lookup: str
    ) -> tuple[Any, EntityRuntime]:
        found = self.joins.get(prefix)
        if found is not None:
            return found
        target = self.runtime.entity(parent_er.lookups()[lookup])
        alias = target.table.alias(f"j{len(self.joins)}")
        on = [alias.c.id == parent.c[lookup], alias.c.deleted_at.is_(None)]
        scope = self.scope_of(target)
        if scope is not None:
            on.append(sql_util.ClauseAdapter(alias).traverse(scope))
        self.from_clause = self.from_clause.outerjoin(alias, sa.and_(*on))
        self.joins[prefix] = (alias, target)
        return alias, target

    def owner_of(self, path: ResolvedPath) -> tuple[Any, EntityRuntime]:
        """The table (or join alias) holding the path's field, and its entity."""
        table, er = self.table, self.er
        walked: list[str] = []
        for lookup in path.lookups:
            walked.append(lookup)
            table, er = self._join(".".join(walked), table, er, lookup)
        return table, er

    def column(self, path: ResolvedPath) -> Any:
        table, er = self.owner_of(path)
        column = table.c[er.system_aliases.get(path.name, path.name)]
        return self.department_of(column) if path.through_user else column

    def people(self) -> dict[int, int | None]:
        """Every user's department (None: none), read once per source."""
        if self._people is None:
            assert self.conn is not None, "a source reading departments needs its connection"
            self._people = {p["id"]: p["department_id"] for p in directory.directory(self.conn)}
        return self._people

    def department_of(self, user_column: Any) -> Any:
        """The department of the person in ``user_column``: a CASE over each department's
        members, inlined so PostgreSQL sees the same expression in SELECT and GROUP BY."""
        members: dict[int, list[int]] = {}
        for user, department in self.people().items():
            if department is not None:
                members.setdefault(department, []).append(user)
        if not members:
            return sa.cast(sa.null(), sa.BigInteger)
        whens: list[tuple[Any, Any]] = [
            (user_column.in_([sa.literal_column(str(u)) for u in sorted(ids)]), sa.literal_column(str(d)))
            for d, ids in sorted(members.items())
        ]
        return sa.case(*whens)

    def entities(self) -> set[str]:
        """Names of the entities this source reads (for cache invalidation)."""
        return {self.er.entity.name, *(er.entity.name for _alias, er in self.joins.values())}
