"""Choosing one person for a record: a named user, round-robin or least-open among a group,
or by rule (``region == '华东'`` -> the Shanghai team).

A strategy is data: ``{"to": people}``, ``{"round_robin": people}``, ``{"least_open": people,
"open": rule}`` or ``{"rules": [{"when": rule, ...strategy}], "default": strategy}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from engine import EntityRuntime, WriteUnit, filter_clause
from flow_engine import tables as t
from flow_engine.definitions import compile_rule, rule_reads
from flow_engine.people import resolve

PEOPLE_REF = {"$ref": "#/$defs/FlowPeople"}
STRATEGY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "to": PEOPLE_REF,
        "round_robin": PEOPLE_REF,
        "least_open": PEOPLE_REF,
        "open": {"type": "string", "description": "least_open: the records that count as open"},
        "rules": {
            "type": "array",
            "items": {"type": "object", "properties": {"when": {"type": "string"}}, "required": ["when"]},
        },
        "default": {"type": "object"},
    },
}


def _cursor(conn: sa.Connection, key: str) -> int:
    """The next turn of a round robin, counted in the database (so every process agrees)."""
    c = t.cursors
    query = sa.select(c.c.value).where(c.c.key == key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    current = conn.execute(query).scalar()
    if current is None:
        conn.execute(c.insert().values(key=key, value=1))
        return 0
    conn.execute(c.update().where(c.c.key == key).values(value=current + 1))
    return int(current)


def choose(
    unit: WriteUnit,
    er: EntityRuntime,
    strategy: Mapping[str, Any],
    record: Mapping[str, Any],
    starter: int | None = None,
) -> int | None:
    """The user ``strategy`` picks for ``record`` (None when its group is empty)."""
    conn, app = unit.conn, unit.runtime.package.name
    if "rules" in strategy:
        for rule in strategy["rules"]:
            if compile_rule(unit.runtime, er, rule["when"]).matches(record, **rule_reads(unit, er)):
                return choose(unit, er, {k: v for k, v in rule.items() if k != "when"}, record, starter)
        default = strategy.get("default")
        return choose(unit, er, default, record, starter) if default else None
    if "to" in strategy:
        people = resolve(conn, app, strategy["to"], record, starter)
        return people[0] if people else None
    if "round_robin" in strategy:
        people = sorted(resolve(conn, app, strategy["round_robin"], record, starter))
        if not people:
            return None
        digest = hashlib.sha256(json.dumps(strategy["round_robin"], sort_keys=True).encode()).hexdigest()[:16]
        return people[_cursor(conn, f"rr:{app}:{er.entity.name}:{digest}") % len(people)]
    if "least_open" in strategy:
        people = sorted(resolve(conn, app, strategy["least_open"], record, starter))
        if not people:
            return None
        table = er.table
        where = [table.c.deleted_at.is_(None), table.c.owner.in_(people)]
        if strategy.get("open"):
            where.append(filter_clause(unit.runtime, er, strategy["open"]))
        if record.get("id") is not None:
            where.append(table.c.id != record["id"])
        grouped = sa.select(table.c.owner, sa.func.count()).where(*where).group_by(table.c.owner)
        counts: dict[int, int] = {owner: n for owner, n in conn.execute(grouped)}
        return min(people, key=lambda p: (counts.get(p, 0), p))
    return None
