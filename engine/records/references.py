"""References from a record to other rows must name something that exists.

Lookups point at live records of their target entity, user fields at active platform users,
department fields at departments, many-to-many ids at live target records. One query per field
(in chunks), all problems of a write reported together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.errors import InvalidInput
from engine.messages import problem
from engine.schema.row_ids import Target, department_target, existing_ids, user_target
from form_engine import LookupConfig, Problem

#: The writer's read scope on a target entity (None: every row), for lookups.
ScopeOf = Callable[[EntityRuntime], Any]


def record_target(runtime: AppRuntime, entity: str, scope_of: ScopeOf | None = None) -> Target:
    """Live records of ``entity``; with ``scope_of``, only those the writer may read (a lookup
    to a record they cannot see is as missing as one that does not exist, so ids cannot be
    probed)."""
    target = runtime.entities[entity]
    table = target.table
    usable: Any = table.c.deleted_at.is_(None)
    scope = scope_of(target) if scope_of is not None else None
    if scope is not None:
        usable = sa.and_(usable, scope)
    return Target(entity, table, usable)


def reference_targets(
    runtime: AppRuntime, er: EntityRuntime, scope_of: ScopeOf | None = None
) -> dict[str, Target]:
    """Field name -> target, for every single-id reference field of the entity."""
    out: dict[str, Target] = {}
    for f in er.entity.fields:
        if f.type == "lookup":
            out[f.name] = record_target(runtime, f.config_as(LookupConfig).entity, scope_of)
        elif f.type == "user":
            out[f.name] = user_target()
        elif f.type == "department":
            out[f.name] = department_target()
    return out


def missing_problem(er: EntityRuntime, field: str, target: Target, value: Any, pointer: str) -> Problem:
    label = er.entity.field(field).label
    return Problem(
        "reference_not_found",
        field=field,
        pointer=pointer,
        params={"label": {"zh": label.zh, "en": label.en}, "target": target.name, "value": value},
    )


def reference_problems(
    conn: sa.Connection,
    runtime: AppRuntime,
    er: EntityRuntime,
    rows: Sequence[dict[str, Any]],
    pointers: Sequence[str],
    *,
    scope_of: ScopeOf | None = None,
) -> list[Problem]:
    """Problems for every reference value in ``rows`` (row ``i`` located at ``pointers[i]``)."""
    problems: list[Problem] = []
    for field_name, target in reference_targets(runtime, er, scope_of).items():
        wanted = {row[field_name] for row in rows if row.get(field_name) is not None}
        if not wanted:
            continue
        missing = wanted - existing_ids(conn, target, wanted)
        for row, at in zip(rows, pointers, strict=True):
            if row.get(field_name) in missing:
                problems.append(
                    missing_problem(er, field_name, target, row[field_name], f"{at}/{field_name}")
                )
    return problems


__all__ = ["Target", "department_target", "existing_ids", "user_target"]

_MAX_ID = 2**63 - 1


def owner_problems(
    conn: sa.Connection, rows: Sequence[dict[str, Any]], pointers: Sequence[str], actor: int | None = None
) -> list[Problem]:
    """An ``owner`` given by the client must be the id of an active platform user (the signed-in
    ``actor`` is one: most records are owned by their creator, and need no query for it)."""
    problems: list[Problem] = []
    given = [
        (row["owner"], at) for row, at in zip(rows, pointers, strict=True) if row.get("owner") is not None
    ]
    bad = [(v, at) for v, at in given if type(v) is not int or not 0 < v <= _MAX_ID]
    good = {v for v, _at in given if (v, _at) not in bad and v != actor}
    missing = good - existing_ids(conn, user_target(), good) if good else set()
    for value, at in given:
        if (value, at) in bad or value in missing:
            problems.append(problem("invalid_owner", field="owner", pointer=f"{at}/owner", value=value))
    return problems


def refuse(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput("references_missing", count=len(problems), problems=problems)
