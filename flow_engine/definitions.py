"""Flow definitions: drafts in the app package, published versions in ``flow_versions``.

A draft is edited with the app (``flows`` section); publishing copies it into an immutable row
with the next version number. Running instances read the version they started on, so a
published version is cached for ever; which version is current is asked per write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa

import rule_engine
from engine import (
    AppRuntime,
    Context,
    EntityRuntime,
    WriteUnit,
    entity_dsl_fields,
    entity_relations,
    load_app,
    put_section,
)
from flow_engine import tables as t
from flow_engine.messages import FlowNotFound


@dataclass
class Flow:
    """One published version of a flow, with its nodes by id and its rules compiled on use."""

    app: str
    name: str
    version: int
    definition: dict[str, Any]
    nodes: dict[str, dict[str, Any]] = field(init=False)
    _rules: dict[str, rule_engine.Expression] = field(default_factory=dict, init=False)
    _watched: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.nodes = {n["id"]: n for n in self.definition["nodes"]}

    @property
    def entity(self) -> str:
        return str(self.definition["entity"])

    @property
    def trigger(self) -> dict[str, Any]:
        return dict(self.definition["trigger"])

    @property
    def start(self) -> str:
        return next(n["id"] for n in self.definition["nodes"] if n["type"] == "start")

    def watched(self, runtime: AppRuntime) -> dict[str, tuple[str, ...]]:
        """The entities whose rows the flow's waits and pauses count (``until: any(payment via
        contract: ...)``), each with its lookups pointing at the flow's entity: a change to such
        a row may end a wait on the record those lookups hold."""
        key = f"{runtime.version}:watched"
        found = self._watched.get(key)
        if found is None:
            texts = [n["until"] for n in self.nodes.values() if n["type"] == "wait" and n.get("until")]
            texts += [
                n["limit"]["pause_while"]
                for n in self.nodes.values()
                if n.get("limit", {}).get("pause_while")
            ]
            relations = entity_relations(runtime, runtime.entity(self.entity))
            counted = {name for text in texts for name in self.rule(runtime, text).relations}
            found = self._watched[key] = {name: relations[name].links for name in sorted(counted)}
        return found

    def rule(self, runtime: AppRuntime, text: str) -> rule_engine.Expression:
        """``text`` compiled against the flow's entity as it is in ``runtime``."""
        key = f"{runtime.version}:{text}"
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = compile_rule(runtime, runtime.entity(self.entity), text)
        return found


def compile_rule(
    runtime: AppRuntime, er: EntityRuntime, text: str, expect: str | None = "boolean"
) -> rule_engine.Expression:
    """A rule of a flow over ``er`` as it is in ``runtime``: its fields, the records its lookups
    reach and the records pointing at it (``any(case via account: status == 'open')``), as a
    segment or a list filter reads them in SQL."""
    fields = entity_dsl_fields(runtime, er)
    return rule_engine.compile(text, fields, expect=expect, relations=entity_relations(runtime, er))


class RuleReads(TypedDict):
    """What a rule evaluated in Python reads beyond its record (``matches(record, **reads)``)."""

    loader: Callable[[str, Any], Any]
    related: rule_engine.Related


def rule_reads(unit: WriteUnit, er: EntityRuntime) -> RuleReads:
    """Records through ``er``'s lookups and records pointing at one, as the unit's caller may
    read them: the rows the same rule would see in SQL for that caller."""
    return {"loader": unit.loader(er), "related": unit.related(er)}


#: The id of an app's newest published version: whether the current ones changed.
_NEWEST_ID = sa.select(sa.func.max(t.versions.c.id)).where(t.versions.c.app == sa.bindparam("app"))


class VersionCache:
    """Published versions (immutable) and, per app, the current ones (checked against the
    newest ``flow_versions`` id on every ask: one indexed query)."""

    def __init__(self) -> None:
        self._versions: dict[tuple[str, str, int], Flow] = {}
        self._current: dict[str, tuple[int, list[Flow]]] = {}
        self._lock = threading.Lock()

    def get(self, conn: sa.Connection, app: str, name: str, version: int) -> Flow:
        key = (app, name, version)
        flow = self._versions.get(key)
        if flow is None:
            v = t.versions
            row = conn.execute(
                sa.select(v.c.definition).where(v.c.app == app, v.c.flow == name, v.c.version == version)
            ).first()
            if row is None:
                raise FlowNotFound("flow_not_found", app=app, flow=name)
            flow = Flow(app, name, version, row.definition)
            with self._lock:
                self._versions[key] = flow
        return flow

    def current(self, conn: sa.Connection, app: str) -> list[Flow]:
        """The newest published version of each flow of ``app``."""
        v = t.versions
        stamp = conn.execute(_NEWEST_ID, {"app": app}).scalar()
        if stamp is None:
            return []
        cached = self._current.get(app)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        newest = (
            sa.select(v.c.flow, sa.func.max(v.c.version).label("version"))
            .where(v.c.app == app)
            .group_by(v.c.flow)
        ).subquery()
        rows = conn.execute(sa.select(newest.c.flow, newest.c.version).order_by(newest.c.flow)).all()
        flows = [self.get(conn, app, r.flow, r.version) for r in rows]
        with self._lock:
            self._current[app] = (stamp, flows)
        return flows

    def latest(self, conn: sa.Connection, app: str, name: str) -> Flow:
        for flow in self.current(conn, app):
            if flow.name == name:
                return flow
        raise FlowNotFound("flow_not_published", flow=name)


def drafts(conn: sa.Connection, app: str) -> list[dict[str, Any]]:
    return list(load_app(conn, app).package.section("flows"))


def draft(conn: sa.Connection, app: str, name: str) -> dict[str, Any]:
    for item in drafts(conn, app):
        if item["name"] == name:
            return item
    raise FlowNotFound("flow_not_found", app=app, flow=name)


def save_draft(conn: sa.Connection, app: str, definition: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """Replace (or add) one flow in the package; the whole package is checked."""
    items = [f for f in drafts(conn, app) if f.get("name") != definition.get("name")]
    position = next(
        (i for i, f in enumerate(drafts(conn, app)) if f.get("name") == definition.get("name")), None
    )
    items.insert(len(items) if position is None else position, definition)
    put_section(conn, app, "flows", items, ctx)
    return definition


def publish(conn: sa.Connection, app: str, name: str, ctx: Context, now: datetime) -> int:
    """Copy the draft into the next immutable version; returns its number."""
    definition = draft(conn, app, name)
    v = t.versions
    last = (
        conn.execute(sa.select(sa.func.max(v.c.version)).where(v.c.app == app, v.c.flow == name)).scalar()
        or 0
    )
    conn.execute(
        v.insert().values(
            app=app,
            flow=name,
            version=last + 1,
            definition=definition,
            published_at=now,
            published_by=ctx.user_id,
        )
    )
    return last + 1


def list_versions(conn: sa.Connection, app: str, name: str) -> list[dict[str, Any]]:
    v = t.versions
    rows = conn.execute(
        sa.select(v.c.version, v.c.published_at, v.c.published_by, v.c.definition)
        .where(v.c.app == app, v.c.flow == name)
        .order_by(v.c.version)
    ).all()
    return [
        {
            "version": r.version,
            "published_at": r.published_at,
            "published_by": r.published_by,
            "definition": r.definition,
        }
        for r in rows
    ]
