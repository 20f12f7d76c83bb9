"""Field rules carried through derived values: a formula or roll-up reading a field the caller
may not see is hidden from them too.

``if(salary > 500, 'high', 'low')`` shows one bit of a hidden salary; a sum of hidden prices
shows their total. So a formula reading a hidden or masked field (of its own entity, or of a
record it reaches through a lookup), and a roll-up aggregating one of a child entity (or
filtering children by one), is hidden wherever the caller's field rules apply: records, lists,
history, filters and sorts (refused as for the field it reads), lookups read by other formulas.
The closure is taken: a formula reading such a formula is hidden as well.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import rule_engine
from engine.apps.runtime import EntityRuntime
from form_engine import FormulaConfig, LookupConfig, RollupConfig

#: The fields of another entity the caller may not see (by entity name).
SecretOf = Callable[[str], Collection[str]]


@dataclass(frozen=True)
class Reads:
    """What one derived field reads: fields of its own entity, and (entity, field) pairs of
    others (through a lookup, or a roll-up's children)."""

    local: frozenset[str]
    remote: frozenset[tuple[str, str]]


def _paths(er: EntityRuntime, text: str) -> set[str]:
    return set(rule_engine.compile(text, er.validator.fields_map).fields)


def derived_reads(er: EntityRuntime, resolve: Callable[[str], EntityRuntime | None]) -> dict[str, Reads]:
    """Derived field -> what it reads, computed once per compiled entity."""
    cached: dict[str, Reads] | None = er.derived.get("derived_reads")
    if cached is not None:
        return cached
    out: dict[str, Reads] = {}
    for f in er.entity.fields:
        local: set[str] = set()
        remote: set[tuple[str, str]] = set()
        if f.type == "formula":
            for path in _paths(er, f.config_as(FormulaConfig).expression):
                head, _, rest = path.partition(".")
                local.add(head)
                if rest:
                    remote.add((er.entity.field(head).config_as(LookupConfig).entity, rest))
        elif f.type == "rollup":
            config = f.config_as(RollupConfig)
            child = resolve(config.entity)
            if config.field:
                remote.add((config.entity, config.field))
            if config.filter and child is not None:
                remote |= {(config.entity, p.partition(".")[0]) for p in _paths(child, config.filter)}
        else:
            continue
        out[f.name] = Reads(frozenset(local), frozenset(remote))
    er.derived["derived_reads"] = out
    return out


def derived_secrets(
    er: EntityRuntime,
    secret: Collection[str],
    secret_of: SecretOf | None,
    resolve: Callable[[str], EntityRuntime | None],
) -> set[str]:
    """The derived fields of ``er`` that read a field in ``secret`` (hidden or masked for the
    caller), directly or through another derived field; ``secret_of`` tells the fields of
    other entities (None: other entities are not looked at)."""
    reads = derived_reads(er, resolve)
    found: set[str] = set()
    closed = set(secret)
    changed = True
    while changed:
        changed = False
        for name, what in reads.items():
            if name in closed:
                continue
            if what.local & closed or (
                secret_of is not None and any(field in secret_of(entity) for entity, field in what.remote)
            ):
                found.add(name)
                closed.add(name)
                changed = True
    return found
