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

from engine import AppRuntime, EntityRuntime
from report_engine.fields import ResolvedPath

#: The caller's read scope on an entity (None: every row).
ScopeOf = Callable[[EntityRuntime], Any]


class Source:
    """One report's source table and the joins its paths need, built once per query."""

    def __init__(self, runtime: AppRuntime, er: EntityRuntime, scope_of: ScopeOf) -> None:
        self.runtime = runtime
        self.er = er
        self.scope_of = scope_of
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
        return table.c[er.system_aliases.get(path.name, path.name)]

    def entities(self) -> set[str]:
        """Names of the entities this source reads (for cache invalidation)."""
        return {self.er.entity.name, *(er.entity.name for _alias, er in self.joins.values())}
