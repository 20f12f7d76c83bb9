"""The flow engine's actions, registered in the kernel's action registry (so rules and other
plugins may use them, and a flow may use actions other plugins register).

Each runs in the write unit of the step that calls it: record changes go through the unit
(validation, permissions, history, roll-ups), jobs and notifications join its transaction.
A value in ``values`` is a literal, ``{"field": name}`` (copied from the record),
``{"expr": rule}`` (a DSL expression over the record) or ``{"due": duration}`` (now plus a
duration, in business time with ``"business": true``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from engine import ActionCall, ActionRegistry, EntityRuntime, directory, filter_clause
from flow_engine import delivery, webhooks
from flow_engine.assignment import STRATEGY, choose
from flow_engine.calendar import DEFAULT, Duration
from flow_engine.definitions import compile_rule, rule_reads
from flow_engine.messages import FlowInputError
from flow_engine.people import resolve
from flow_engine.runtime import CURRENT_RUN
from flow_engine.schema import LABEL, PEOPLE

VALUES = {"type": "object", "additionalProperties": True}
OWNER_LIMIT = {
    "type": "object",
    "description": "refuse an owner already holding max records (those matching the rule open)",
    "properties": {"max": {"type": "integer", "minimum": 0}, "open": {"type": "string"}},
    "required": ["max"],
    "additionalProperties": False,
}


def _row(call: ActionCall, er: EntityRuntime) -> dict[str, Any]:
    record_id = call.record.get("id")
    row = call.unit.conn.execute(sa.select(er.table).where(er.table.c.id == record_id)).mappings().first()
    return dict(row) if row is not None else dict(call.record)


def _now() -> datetime:
    run = CURRENT_RUN.get()
    return run.now if run is not None else datetime.now(UTC)


def values_of(call: ActionCall, target: EntityRuntime, spec: Mapping[str, Any]) -> dict[str, Any]:
    """The values an action writes, computed from the triggering record."""
    source = call.unit.runtime.entity(call.entity)
    record = _row(call, source)
    out: dict[str, Any] = {}
    for name, value in spec.items():
        if isinstance(value, Mapping) and "field" in value:
            value = source.value_json(value["field"], record.get(value["field"]))
        elif isinstance(value, Mapping) and "expr" in value:
            expression = compile_rule(call.unit.runtime, source, value["expr"], expect=None)
            value = expression.evaluate(record, now=_now(), **rule_reads(call.unit, source))
        elif isinstance(value, Mapping) and "due" in value:
            run = CURRENT_RUN.get()
            calendar = run.calendar() if run is not None else DEFAULT
            value = calendar.add(_now(), Duration.of(value["due"]))
        if isinstance(value, datetime):
            field = next((f for f in target.entity.fields if f.name == name), None)
            value = (
                value.date().isoformat() if field is not None and field.type == "date" else value.isoformat()
            )
        elif isinstance(value, date):
            value = value.isoformat()
        out[name] = value
    return out


def set_fields(call: ActionCall) -> None:
    er = call.unit.runtime.entity(call.entity)
    call.unit.update(er, [(call.record["id"], values_of(call, er, call.spec["values"]))])


def create_record(call: ActionCall) -> int:
    """Create a record; with ``store`` (a lookup of this record) keep its id on this record, so
    later actions can use it (``{"field": store}``) and a record whose ``store`` is already
    filled is not given a second one (converting twice creates nothing new)."""
    target = call.unit.runtime.entity(call.spec["entity"])
    store = call.spec.get("store")
    source = call.unit.runtime.entity(call.entity)
    if store and (existing := _row(call, source).get(store)) is not None:
        return int(existing)
    values = values_of(call, target, call.spec.get("values", {}))
    if call.spec.get("link"):
        values[call.spec["link"]] = call.record["id"]
    created = int(call.unit.create(target, [values])[0]["id"])
    if store:
        call.unit.update(source, [(call.record["id"], {store: created})])
    return created


def update_related(call: ActionCall) -> int:
    """Change the records of ``entity`` whose lookup ``via`` points at this record."""
    target = call.unit.runtime.entity(call.spec["entity"])
    table = target.table
    where = [table.c[call.spec["via"]] == call.record["id"], table.c.deleted_at.is_(None)]
    ids = list(call.unit.conn.execute(sa.select(table.c.id).where(*where).order_by(table.c.id)).scalars())
    if ids:
        values = values_of(call, target, call.spec["values"])
        call.unit.update(target, [(i, values) for i in ids])
    return len(ids)


def update_linked(call: ActionCall) -> int | None:
    """Change the one record this record's lookup ``via`` points at (an activity moving its
    deal's last follow-up); nothing when the lookup is empty."""
    source = call.unit.runtime.entity(call.entity)
    target_id = _row(call, source).get(call.spec["via"])
    if target_id is None:
        return None
    lookup = next(f for f in source.entity.fields if f.name == call.spec["via"])
    target = call.unit.runtime.entity(str((lookup.model_extra or {})["entity"]))
    call.unit.update(target, [(int(target_id), values_of(call, target, call.spec["values"]))])
    return int(target_id)


def _words(value: Any) -> list[str]:
    """Keywords from a tags list or a text of words separated by commas or spaces."""
    items = value if isinstance(value, list) else re.split(r"[,，;；、\s]+", str(value or ""))
    return [w.strip().casefold() for w in items if isinstance(w, str) and w.strip()]


def link_matching(call: ActionCall) -> list[int]:
    """Fill the many-to-many field ``store`` of this record with the records of ``entity``
    (those matching ``filter``) one of whose ``keywords`` occurs in the text of this record's
    ``in`` fields: knowledge articles suggested on a case by its subject. The candidates are
    read in full, so this suits reference lists (hundreds or thousands of records)."""
    spec = call.spec
    source = call.unit.runtime.entity(call.entity)
    record = _row(call, source)
    text = " ".join(str(record.get(name) or "") for name in spec["in"]).casefold()
    target = call.unit.runtime.entity(spec["entity"])
    table = target.table
    query = sa.select(table.c.id, table.c[spec["keywords"]]).where(table.c.deleted_at.is_(None))
    if spec.get("filter"):
        query = query.where(filter_clause(call.unit.runtime, target, spec["filter"], now=_now()))
    found = [
        int(target_id)
        for target_id, words in call.unit.conn.execute(query.order_by(table.c.id))
        if any(word in text for word in _words(words))
    ][: int(spec.get("limit", 10))]
    call.unit.update(source, [(call.record["id"], {spec["store"]: found})])
    return found


def _check_owner_limit(call: ActionCall, er: EntityRuntime, owner: int, limit: Mapping[str, Any]) -> None:
    """Refuse an owner who already holds ``limit.max`` records (matching ``limit.open``)."""
    table = er.table
    where = [table.c.deleted_at.is_(None), table.c.owner == owner, table.c.id != call.record["id"]]
    if limit.get("open"):
        where.append(filter_clause(call.unit.runtime, er, limit["open"], now=_now()))
    counted = sa.select(sa.func.count()).select_from(table).where(*where)
    held = int(call.unit.conn.execute(counted).scalar() or 0)
    if held >= int(limit["max"]):
        name = directory.usernames(call.unit.conn, [owner]).get(owner, str(owner))
        raise FlowInputError("owner_limit_reached", person=name, count=held, max=limit["max"])


def assign_owner(call: ActionCall) -> int | None:
    er = call.unit.runtime.entity(call.entity)
    run = CURRENT_RUN.get()
    strategy = {k: v for k, v in call.spec.items() if k not in ("type", "limit")}
    owner = choose(call.unit, er, strategy, _row(call, er), run.starter if run else call.unit.ctx.user_id)
    if owner is not None and call.spec.get("limit"):
        _check_owner_limit(call, er, owner, call.spec["limit"])
    if owner is not None:
        call.unit.update(er, [(call.record["id"], {"owner": owner})])
    return owner


def notify(call: ActionCall) -> None:
    er = call.unit.runtime.entity(call.entity)
    record = _row(call, er)
    run = CURRENT_RUN.get()
    people = resolve(
        call.unit.conn, call.app, call.spec["to"], record, run.starter if run else call.unit.ctx.user_id
    )
    from flow_engine.runtime import fill

    shown = er.to_json(record)
    title = fill(call.spec["title"], shown)
    body = fill(call.spec.get("body", call.spec["title"]), shown)
    delivery.notify(
        call.unit.conn,
        people,
        title,
        body,
        (call.app, call.entity, call.record["id"]),
        call.spec.get("channels"),
    )


def start_flow(call: ActionCall) -> int | None:
    """Start another flow on this record (or on the record a lookup ``record`` points at)."""
    run = CURRENT_RUN.get()
    if run is None:
        return None
    runner = run.runner
    record_id = call.record["id"]
    if call.spec.get("record"):
        record_id = call.record.get(call.spec["record"])
        if record_id is None:
            return None
    flow = runner.versions.latest(call.unit.conn, call.app, call.spec["flow"])
    key = f"flow-action:{run.id}:{call.spec['flow']}:{record_id}"
    instance = runner.create_instance(
        call.unit, flow, int(record_id), starter=run.starter, cause="flow", start_key=key
    )
    if instance is not None:
        runner.triggers.remember(instance)  # started as soon as this step commits
    return instance


def cc(call: ActionCall) -> None:
    run = CURRENT_RUN.get()
    if run is None:
        return
    people = resolve(call.unit.conn, call.app, call.spec["to"], run.record(), run.starter)
    run.runner.approvals.carbon_copy(run, 0, "cc", people)


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def register(registry: ActionRegistry) -> None:
    registry.register(
        "set_fields",
        set_fields,
        schema=_schema({"values": VALUES}, ["values"]),
        label={"zh": "设置字段", "en": "Set fields"},
    )
    registry.register(
        "create_record",
        create_record,
        schema=_schema(
            {
                "entity": {"type": "string"},
                "values": VALUES,
                "link": {"type": "string"},
                "store": {"type": "string", "description": "a lookup of this record to keep the new id in"},
            },
            ["entity"],
        ),
        label={"zh": "新建记录", "en": "Create a record"},
    )
    registry.register(
        "update_related",
        update_related,
        schema=_schema(
            {"entity": {"type": "string"}, "via": {"type": "string"}, "values": VALUES},
            ["entity", "via", "values"],
        ),
        label={"zh": "更新关联记录", "en": "Update related records"},
    )
    registry.register(
        "update_linked",
        update_linked,
        schema=_schema({"via": {"type": "string"}, "values": VALUES}, ["via", "values"]),
        label={"zh": "更新所关联的记录", "en": "Update the linked record"},
    )
    registry.register(
        "link_matching",
        link_matching,
        schema=_schema(
            {
                "entity": {"type": "string"},
                "keywords": {"type": "string", "description": "the target's tags or text of keywords"},
                "in": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "store": {"type": "string", "description": "a many-to-many field of this record"},
                "filter": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            },
            ["entity", "keywords", "in", "store"],
        ),
        label={"zh": "按关键词关联记录", "en": "Link records by keywords"},
    )
    strategy = {
        **STRATEGY,
        "properties": {
            k: PEOPLE if k in ("to", "round_robin", "least_open") else v
            for k, v in STRATEGY["properties"].items()
        }
        | {"limit": OWNER_LIMIT},
        "additionalProperties": False,
    }
    registry.register(
        "assign_owner", assign_owner, schema=strategy, label={"zh": "分配负责人", "en": "Assign owner"}
    )
    registry.register(
        "notify",
        notify,
        schema=_schema(
            {
                "to": PEOPLE,
                "title": LABEL,
                "body": LABEL,
                "channels": {"type": "array", "items": {"type": "string"}},
            },
            ["to", "title"],
        ),
        label={"zh": "发送通知", "en": "Notify"},
    )
    # One webhook action: the sender's, whose idempotency key is a digest of what is sent, so
    # a step run again on the same record state enqueues no second delivery.
    registry.register(
        "call_webhook",
        webhooks.call_webhook,
        schema=webhooks.ACTION_SCHEMA,
        label={"zh": "调用 Webhook", "en": "Call a webhook"},
    )
    registry.register(
        "start_flow",
        start_flow,
        schema=_schema({"flow": {"type": "string"}, "record": {"type": "string"}}, ["flow"]),
        label={"zh": "发起流程", "en": "Start a flow"},
    )
    registry.register(
        "cc", cc, schema=_schema({"to": PEOPLE}, ["to"]), label={"zh": "抄送", "en": "Carbon copy"}
    )


__all__ = ["register"]
