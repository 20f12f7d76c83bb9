"""References from a record to other rows must name something that exists.

Lookups point at live records of their target entity, user fields at active platform users,
department fields at departments, many-to-many ids at live target records. One query per field
(in chunks), all problems of a write reported together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.errors import InvalidInput
from engine.schema import system_tables as st
from form_engine import Problem

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


def record_target(runtime: AppRuntime, entity: str) -> Target:
    table = runtime.entities[entity].table
    return Target(entity, table, table.c.deleted_at.is_(None))


def reference_targets(runtime: AppRuntime, er: EntityRuntime) -> dict[str, Target]:
    """Field name -> target, for every single-id reference field of the entity."""
    out: dict[str, Target] = {}
    for f in er.entity.fields:
        if f.type == "lookup":
            out[f.name] = record_target(runtime, f.config.entity)
        elif f.type == "user":
            out[f.name] = user_target()
        elif f.type == "department":
            out[f.name] = department_target()
    return out


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
) -> list[Problem]:
    """Problems for every reference value in ``rows`` (row ``i`` located at ``pointers[i]``)."""
    problems: list[Problem] = []
    for field_name, target in reference_targets(runtime, er).items():
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


_MAX_ID = 2**63 - 1


def owner_problems(
    conn: sa.Connection, rows: Sequence[dict[str, Any]], pointers: Sequence[str]
) -> list[Problem]:
    """An ``owner`` given by the client must be the id of an active platform user."""
    problems: list[Problem] = []
    given = [
        (row["owner"], at) for row, at in zip(rows, pointers, strict=True) if row.get("owner") is not None
    ]
    bad = [(v, at) for v, at in given if type(v) is not int or not 0 < v <= _MAX_ID]
    good = {v for v, _at in given if (v, _at) not in bad}
    missing = good - existing_ids(conn, user_target(), good) if good else set()
    for value, at in given:
        if (value, at) in bad or value in missing:
            problems.append(
                Problem(
                    "invalid_owner",
                    field="owner",
                    pointer=f"{at}/owner",
                    params={
                        "en": f"owner must be the id of an active user, got {value!r}",
                        "zh": f"负责人应为有效用户的编号，收到 {value!r}",
                    },
                )
            )
    return problems


def refuse(problems: list[Problem]) -> None:
    if problems:
        raise InvalidInput(
            f"{len(problems)} reference(s) point to records that do not exist",
            f"有 {len(problems)} 个关联指向不存在的记录",
            problems=problems,
        )
