"""Conflicts with records the caller cannot see: refused without naming them, and rationed.

A ``block`` duplicate rule or a unique field must hold across the whole table, so a write that
matches a record the caller cannot read (or whose matched fields are hidden or masked for
them) is still refused. Such a refusal is *blind*: it names no record, no value and, in a
bulk, no item, so it says only "one of these values is taken". Every refusal still answers a
question about data the caller may not see, so each is written to the audit log
(``blind_conflict``) and charged to the caller: a blind refusal of a write of ``n`` rows costs
``n`` (any of them may be the match). A caller who spent ``BUDGET`` within ``WINDOW`` gets 429
for every write that would need such a check, whatever its outcome, until the charges age
out; a charge above the budget stays counted proportionally longer (a 10,000-row probe that
hits keeps its author waiting for days, not an hour). A person typing candidates one at a time
is not slowed down by this; a script trying thousands per request is stopped at the first hit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine.access import AccessPolicy
from engine.apps.runtime import EntityRuntime
from engine.clock import utcnow
from engine.context import Context
from engine.errors import Conflict, TooManyAttempts
from engine.identity import audit
from engine.records.loader import readable_scope
from engine.schema import system_tables as st

#: Candidates a user may test blindly per window.
BUDGET = 20
WINDOW = timedelta(hours=1)
#: However large a charge, it ages out after this long.
MAX_HOLD = timedelta(days=7)
EVENT = "blind_conflict"
#: ``visible_ids`` was not given the caller's scope and looks it up itself.
UNSET: Any = object()


class BlindConflict(Conflict):
    """A write matched a record the caller cannot see; the answer names none of it."""

    code = "duplicate_hidden"
    #: how many candidates the refused write tested (its rows), and where
    cost: int = 1
    app: str = ""
    entity: str = ""


def unrestricted(ctx: Context) -> bool:
    """The system and administrators see every record: their conflicts are never blind."""
    return ctx.user is None or ctx.user.is_admin


def _hold(cost: int) -> timedelta:
    return min(WINDOW * max(1.0, cost / BUDGET), MAX_HOLD)


def spent(charges: Iterable[tuple[datetime, int]], now: datetime) -> tuple[int, datetime | None]:
    """(candidates still counted at ``now``, when the oldest counted charge ages out)."""
    total = 0
    frees: datetime | None = None
    for at, cost in charges:
        until = at + _hold(cost)
        if until > now:
            total += min(cost, BUDGET)
            frees = until if frees is None else min(frees, until)
    return total, frees


def _charges(conn: sa.Connection, user_id: int, now: datetime) -> list[tuple[datetime, int]]:
    t = st.audit
    rows = conn.execute(
        sa.select(t.c.at, t.c.details).where(
            t.c.event == EVENT, t.c.actor == user_id, t.c.at > now - MAX_HOLD
        )
    )
    return [(at, int((details or {}).get("cost", 1))) for at, details in rows]


def refuse_if_exhausted(conn: sa.Connection, ctx: Context, now: datetime | None = None) -> None:
    """429 when the caller spent their blind-check budget: asked before a write is checked
    for duplicates, so the refusal does not depend on what the write would have matched."""
    if unrestricted(ctx):
        return
    assert ctx.user is not None
    now = now or utcnow()
    total, frees = spent(_charges(conn, ctx.user.id, now), now)
    if total >= BUDGET and frees is not None:
        minutes = max(1, int((frees - now).total_seconds() // 60) + 1)
        raise TooManyAttempts(
            "blind_conflicts_exhausted", minutes=minutes, details={"retry_after_minutes": minutes}
        )


def blind(er: EntityRuntime, rows: int, rule: Any) -> BlindConflict:
    """The refusal of a write of ``rows`` rows that matched records the caller cannot see."""
    error = BlindConflict("duplicate_hidden", label=er.entity.label, rule=rule)
    error.cost, error.app, error.entity = max(rows, 1), er.app, er.entity.name
    return error


def charge(engine: sa.Engine, ctx: Context, error: BlindConflict) -> None:
    """Record the refusal (audit log and budget); called once the refused write rolled back."""
    if unrestricted(ctx):
        return
    details = {"cost": error.cost}
    audit.record_apart(engine, EVENT, ctx=ctx, app=error.app, target=error.entity, details=details)


def needs_check(er: EntityRuntime, names: Collection[str]) -> bool:
    """Whether writing ``names`` of ``er`` is checked against other records' values (a
    duplicate rule's or a unique field's)."""
    entity = er.entity
    keyed = {n for rule in entity.duplicate_rules for n in rule.fields}
    keyed |= {f.name for f in entity.stored_fields() if f.unique}
    keyed |= {n for ix in entity.indexes if ix.unique for n in ix.fields}
    return bool(keyed.intersection(names))


def visible_ids(
    conn: sa.Connection,
    access: AccessPolicy,
    ctx: Context,
    er: EntityRuntime,
    ids: Collection[int],
    fields: Collection[str],
    scope: Any = UNSET,
) -> set[int]:
    """The records among ``ids`` a match may name to the caller: those they can read with every
    one of ``fields`` shown in full (a match on a masked or hidden value would reveal it).
    ``scope`` is the caller's read scope on ``er`` when the caller already has it."""
    wanted = set(ids)
    if unrestricted(ctx) or not wanted:
        return wanted
    plan = access.field_plan(ctx, er)
    if plan.secret.intersection(fields):
        return set()
    if scope is UNSET:
        scope = readable_scope(access, ctx, conn, er)
    if scope is None:
        return wanted
    table = er.table
    query = sa.select(table.c.id).where(table.c.id.in_(sorted(wanted)), scope)
    return set(conn.execute(query).scalars())
