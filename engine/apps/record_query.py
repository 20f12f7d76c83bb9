"""Turning list parameters (DSL filter, sort, page) into one SQL query per page and count."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import util as sql_util

import rule_engine
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.errors import InvalidInput
from engine.messages import did_you_mean, problem
from form_engine import SYSTEM_FIELDS, LookupConfig, Problem, dsl_fields, dsl_relations

MAX_LIMIT = 1000
#: More sort keys than any screen needs; thousands made SQLite refuse the query (a 500).
MAX_SORT_KEYS = 20
MAX_OFFSET = 10**12
DEFAULT_LIMIT = 50
#: Every system column sorts meaningfully.
SYSTEM_SORTABLE = SYSTEM_FIELDS


def entity_dsl_fields(runtime: AppRuntime, er: EntityRuntime) -> dict[str, Any]:
    """The field map rule_engine type-checks against: system columns, fields, and one level of
    lookups as nested maps (``account.grade``)."""
    return dsl_fields(er.entity, runtime.resolve_entity)


#: The caller's read scope on another entity (None: every row), for paths through lookups.
TargetScope = Callable[[EntityRuntime], Any]


def column_resolver(
    runtime: AppRuntime, er: EntityRuntime, target_scope: TargetScope | None = None, table: Any = None
) -> Callable[[str], Any]:
    """Columns for DSL paths; a dotted path through a lookup is a correlated scalar subquery,
    so the outer query keeps one row per record. The subquery only sees referenced rows the
    caller may read, so a filter cannot probe values of records outside their scope.
    ``table`` is an alias of ``er.table`` to read from instead (a quantifier's related rows)."""
    table = er.table if table is None else table

    def resolve(path: str) -> Any:
        head, _, rest = path.partition(".")
        if not rest:
            return table.c[er.system_aliases.get(head, head)]
        field = er.entity.field(head)
        target = runtime.entities[field.config_as(LookupConfig).entity]
        inner = target.table.alias()
        conditions: list[Any] = [inner.c.id == table.c[head], inner.c.deleted_at.is_(None)]
        scope = target_scope(target) if target_scope is not None else None
        if scope is not None:
            conditions.append(sql_util.ClauseAdapter(inner).traverse(scope))
        return sa.select(inner.c[rest]).where(*conditions).scalar_subquery()

    return resolve


def entity_relations(runtime: AppRuntime, er: EntityRuntime) -> dict[str, rule_engine.Relation]:
    """What a rule over ``er`` may quantify over (``any(activity via account: ...)``): every
    entity with a lookup pointing at ``er``, with those lookups. Derived once per app version."""
    found: dict[str, rule_engine.Relation] | None = er.derived.get("dsl_relations")
    if found is None:
        entities = [other.entity for other in runtime.entities.values()]
        found = er.derived["dsl_relations"] = dsl_relations(er.entity, entities, runtime.resolve_entity)
    return found


def related_resolver(
    runtime: AppRuntime, er: EntityRuntime, target_scope: TargetScope | None = None
) -> rule_engine.RelatedSql:
    """The rows a quantifier ranges over, for the SQL backend: live rows of the other entity
    whose lookup holds the outer record's id, and only those the caller may read (so a segment
    or filter cannot count records outside the reader's scope)."""

    def related(entity: str, via: str) -> rule_engine.RelatedTable:
        target = runtime.entities[entity]
        inner = target.table.alias()
        scope = target_scope(target) if target_scope is not None else None
        columns = column_resolver(runtime, target, target_scope, table=inner)
        return rule_engine.RelatedTable(inner, columns, related_clause(inner, via, er.table.c.id, scope))

    return related


def related_clause(table: Any, via: str, key: Any, scope: Any) -> Any:
    """The rows of ``table`` a quantifier ranges over: live, their lookup ``via`` holding ``key``
    (the outer record's id column in SQL, its id in Python), and within ``scope`` (the reader's
    scope on that entity, None: every row). One definition, so Python and SQL count the same."""
    conditions: list[Any] = [table.c[via] == key, table.c.deleted_at.is_(None)]
    if scope is not None:
        conditions.append(sql_util.ClauseAdapter(table).traverse(scope))
    return sa.and_(*conditions)


def filter_clause(
    runtime: AppRuntime,
    er: EntityRuntime,
    text: str,
    *,
    target_scope: TargetScope | None = None,
    **kwargs: Any,
) -> Any:
    """Compile a DSL filter to a WHERE clause; a bad filter answers 422 with line and column.

    A filter must be a condition, and a select field compares only with its options. It may
    quantify over the records of other entities that point at this one (``entity_relations``)."""
    try:
        expression = rule_engine.compile(
            text,
            fields=entity_dsl_fields(runtime, er),
            expect="boolean",
            relations=entity_relations(runtime, er),
        )
        related = related_resolver(runtime, er, target_scope)
        return expression.to_sql(column_resolver(runtime, er, target_scope), related=related, **kwargs)
    except rule_engine.RuleError as exc:
        raise filter_error(exc) from None


def filter_error(exc: rule_engine.RuleError) -> InvalidInput:
    """The 422 for a filter that does not compile; the rule error's text carries its line,
    column and "did you mean"."""
    found = dataclasses.replace(
        problem("invalid_filter", pointer="/filter", detail=exc), line=exc.line, column=exc.column
    )
    return InvalidInput("filter_invalid", detail=exc, problems=[found])


def order_by(
    er: EntityRuntime, sort: str | None, unseen: Collection[str] = (), *, collation: str | None = None
) -> list[Any]:
    """``-amount,name`` -> ORDER BY amount DESC, name ASC, id (a stable page order). A "did
    you mean" hint never names a field in ``unseen`` (hidden from the caller). Text fields sort
    under ``collation`` when given (pinyin order for Chinese, ``engine.schema.pinyin_order``)."""
    table = er.table
    clauses: list[Any] = []
    problems: list[Problem] = []
    names = [f.name for f in er.entity.stored_fields()]
    known = [n for n in [*names, *SYSTEM_SORTABLE] if n not in unseen]
    descending = False
    keys = (sort or "").split(",")
    if len(keys) > MAX_SORT_KEYS:
        raise InvalidInput(
            "sort_invalid", problems=[problem("too_many_sort_keys", pointer="/sort", max=MAX_SORT_KEYS)]
        )
    for raw in keys:
        key = raw.strip()
        if not key:
            continue
        descending = key.startswith("-")
        name = key.lstrip("-+")
        if name in er.system_aliases:
            column = table.c[er.system_aliases[name]]
        elif name in SYSTEM_SORTABLE or (name in names and er.entity.field(name).field_type.sortable):
            column = table.c[name]
            if collation is not None and name in names and isinstance(column.type, sa.String):
                clauses.append(_directed(column.collate(collation), descending))
                continue
        elif name in er.entity.field_names:
            kind = er.entity.field(name).type
            problems.append(problem("unsortable_field", field=name, pointer="/sort", name=name, kind=kind))
            continue
        else:
            close = difflib.get_close_matches(name, known, n=1)
            hint = did_you_mean(close[0] if close else None)
            problems.append(problem("invalid_sort", pointer="/sort", name=name, hint=hint))
            continue
        clauses.append(_directed(column, descending))
    if problems:
        raise InvalidInput("sort_invalid", problems=problems)
    # The id tie-break follows the last key's direction, so an index on that key (which
    # orders equal keys by row id) yields the page without sorting the matches.
    clauses.append(table.c.id.desc() if descending else table.c.id.asc())
    return clauses


def _directed(column: Any, descending: bool) -> Any:
    return column.desc() if descending else column.asc()


def page_bounds(limit: int | None, offset: int | None) -> tuple[int, int]:
    limit = DEFAULT_LIMIT if limit is None else limit
    offset = 0 if offset is None else offset
    problems = []
    if not 1 <= limit <= MAX_LIMIT:
        problems.append(problem("invalid_limit", pointer="/limit", max=MAX_LIMIT))
    if offset < 0 or offset > MAX_OFFSET:
        problems.append(problem("invalid_offset", pointer="/offset", max=MAX_OFFSET))
    if problems:
        raise InvalidInput("page_invalid", problems=problems)
    return limit, offset
