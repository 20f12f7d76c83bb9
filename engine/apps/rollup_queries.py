"""What a roll-up reads and the SQL that computes it, shared by the write step that keeps
roll-ups current and the recompute that fills them for every stored row after a schema change.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

import rule_engine
from engine.apps.record_query import entity_dsl_fields, filter_clause
from engine.apps.runtime import AppRuntime, EntityRuntime
from form_engine import FieldDef, RollupConfig

RollupOver = tuple[EntityRuntime, FieldDef, frozenset[str]]


def rollups_over(runtime: AppRuntime, child: str) -> list[RollupOver]:
    """(parent runtime, roll-up field, fields read) for every roll-up aggregating ``child``.
    Derived once per app version (kept on the runtime), not on every write."""
    index: dict[str, list[RollupOver]] | None = runtime.derived.get("rollups_over")
    if index is None:
        index = {}
        for er in runtime.entities.values():
            for f in er.fields_of_type("rollup"):
                over = f.config_as(RollupConfig).entity
                index.setdefault(over, []).append((er, f, frozenset(_reads(runtime, f))))
        runtime.derived["rollups_over"] = index
    return index.get(child, [])


def _reads(runtime: AppRuntime, f: FieldDef) -> set[str]:
    config = f.config_as(RollupConfig)
    names = {config.link_field, "deleted_at"}
    if config.field:
        names.add(config.field)
    if config.filter:
        child = runtime.entities[config.entity]
        names |= {
            p.split(".")[0]
            for p in rule_engine.compile(config.filter, entity_dsl_fields(runtime, child)).fields
        }
    return names


def aggregate(runtime: AppRuntime, parent: EntityRuntime, f: FieldDef) -> Any:
    """The correlated scalar subquery computing ``f`` for the parent row of the outer UPDATE."""
    config = f.config_as(RollupConfig)
    child = runtime.entities[config.entity]
    table = child.table
    if config.function == "count" or config.field is None:  # the package check requires a field
        value: Any = sa.func.count(table.c.id)
    else:
        column = table.c[config.field]
        value = getattr(sa.func, config.function)(column)  # sum, min, max or avg
        if config.function == "sum":
            value = sa.func.coalesce(value, 0)
    where = [table.c[config.link_field] == parent.table.c.id, table.c.deleted_at.is_(None)]
    if config.filter:
        where.append(filter_clause(runtime, child, config.filter))
    return sa.select(value).where(*where).scalar_subquery()
