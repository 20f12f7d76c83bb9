"""Whole-graph checks of flow definitions, run when the app package is saved.

Every problem is pointed at the node it is about (``/0/nodes/3/next``), so a builder can put
the message beside it: a dangling edge, an unreachable node, a branch without a default, a join
without its split, a rule that does not compile, an unknown field or action, an approver rule
that may find nobody without a policy saying what then.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import rule_engine
from engine import ActionRegistry, AppPackage
from flow_engine.cron import cron_trigger
from form_engine import EntityDef, Problem, dsl_fields, dsl_relations

#: People specs that may find nobody at run time (named users and admins always exist or fail
#: at the check of the user).
DYNAMIC_PEOPLE = ("role", "department", "field", "manager_of", "head_of", "starter")
#: Node keys that point at another node, with how they are read.
TARGET_KEYS = ("next", "default")
RESERVED_TARGETS = ("end", "starter")


def _p(code: str, pointer: str, **params: Any) -> Problem:
    return Problem(code, pointer=pointer, params=params)


def targets(node: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(pointer suffix, node id)`` of every edge leaving ``node``."""
    nxt = node.get("next")
    if isinstance(nxt, str):
        yield "/next", nxt
    elif isinstance(nxt, list):
        for i, t in enumerate(nxt):
            yield f"/next/{i}", t
    for i, branch in enumerate(node.get("branches", [])):
        yield f"/branches/{i}/next", branch["next"]
    if "default" in node:
        yield "/default", node["default"]
    reject = node.get("on_reject")
    if reject and reject not in RESERVED_TARGETS:
        yield "/on_reject", reject


def reachable(nodes: dict[str, dict[str, Any]], start: str) -> set[str]:
    seen = {start}
    frontier = [start]
    while frontier:
        node = nodes.get(frontier.pop())
        if node is None:
            continue
        for _at, target in targets(node):
            if target in nodes and target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


class RuleNames(NamedTuple):
    """What a flow's rules compile against: the entity's fields (and one level through its
    lookups) and the records pointing at it, which ``any``/``none``/``count`` range over."""

    fields: dict[str, Any]
    relations: dict[str, rule_engine.Relation]


def _rule(
    text: str, names: RuleNames, pointer: str, *, in_python: bool = True, expect: str | None = "boolean"
) -> list[Problem]:
    """Problems of one rule. One the flow engine evaluates in Python (all but a schedule's SQL
    filter) reads related records as stored: their lookups hold ids, which the condition of a
    quantifier cannot follow there, so a path through one is refused here, not at run time."""
    try:
        expression = rule_engine.compile(text, names.fields, expect=expect, relations=names.relations)
    except rule_engine.RuleError as exc:
        detail = {"zh": exc.message("zh"), "en": exc.message("en")}
        return [
            Problem("flow_dsl", pointer=pointer, params={"detail": detail}, line=exc.line, column=exc.column)
        ]
    through = sorted((name, p) for name, paths in expression.relations.items() for p in paths if "." in p)
    if in_python and through:
        return [_p("flow_related_path", pointer, relation=through[0][0], path=through[0][1])]
    return []


def _fields(entity: EntityDef, names: Iterable[str], pointer: str) -> list[Problem]:
    known = {f.name for f in entity.fields} | {"owner"}
    return [
        _p(
            "flow_unknown_field",
            f"{pointer}/{i}" if not pointer.endswith("field") else pointer,
            entity=entity.name,
            name=name,
        )
        for i, name in enumerate(names)
        if name not in known
    ]


def _people(node: dict[str, Any], key: str, entity: EntityDef, at: str) -> list[Problem]:
    found: list[Problem] = []
    for i, spec in enumerate(node.get(key, [])):
        if "field" in spec:
            found += _fields(entity, [spec["field"]], f"{at}/{key}/{i}/field")
    dynamic = any(k in spec for spec in node.get(key, []) for k in DYNAMIC_PEOPLE)
    if node["type"] == "approval" and dynamic and "if_nobody" not in node:
        found.append(_p("flow_nobody_policy", f"{at}/{key}", node=node["id"]))
    return found


def _names(package: AppPackage, entity: EntityDef) -> RuleNames:
    by_name = {e.name: e for e in package.entities}
    return RuleNames(dsl_fields(entity, by_name.get), dsl_relations(entity, package.entities, by_name.get))


def _strategy_rules(strategy: Any, pointer: str) -> Iterator[tuple[str, str, bool]]:
    """The rules of an owner-assignment strategy, nested ones too: (text, pointer, whether it
    runs in Python). A rule's ``when`` picks in Python; ``open`` filters count in SQL."""
    if not isinstance(strategy, Mapping):
        return
    for i, rule in enumerate(strategy.get("rules") or []):
        if isinstance(rule, Mapping):
            if isinstance(rule.get("when"), str):
                yield rule["when"], f"{pointer}/rules/{i}/when", True
            yield from _strategy_rules(rule, f"{pointer}/rules/{i}")
    yield from _strategy_rules(strategy.get("default"), f"{pointer}/default")
    if isinstance(strategy.get("open"), str):
        yield strategy["open"], f"{pointer}/open", False
    limit = strategy.get("limit")
    if isinstance(limit, Mapping) and isinstance(limit.get("open"), str):
        yield limit["open"], f"{pointer}/limit/open", False


def _action_rules(package: AppPackage, names: RuleNames, spec: dict[str, Any], pointer: str) -> list[Problem]:
    """The rules inside an action: computed values (``{"expr": ...}``, any type), an owner
    strategy's rules, and a search filter over another entity."""
    found: list[Problem] = []
    values = spec.get("values")
    for name, value in values.items() if isinstance(values, dict) else ():
        if isinstance(value, Mapping) and isinstance(value.get("expr"), str):
            found += _rule(value["expr"], names, f"{pointer}/values/{name}/expr", expect=None)
    if spec.get("type") == "assign_owner":
        for text, at, in_python in _strategy_rules(spec, pointer):
            found += _rule(text, names, at, in_python=in_python)
    if isinstance(spec.get("filter"), str) and package.has_entity(str(spec.get("entity", ""))):
        other = _names(package, package.entity(spec["entity"]))
        found += _rule(spec["filter"], other, f"{pointer}/filter", in_python=False)
    return found


def _actions(
    registry: ActionRegistry, package: AppPackage, entity: EntityDef, node: dict[str, Any], at: str
) -> list[Problem]:
    found: list[Problem] = []
    names = _names(package, entity)
    for i, spec in enumerate(node.get("actions", [])):
        pointer = f"{at}/actions/{i}"
        found += _action_rules(package, names, spec, pointer)
        for p in registry.check(spec, pointer):
            params = dict(p.params)
            if p.code == "unknown_action":
                found.append(
                    _p(
                        "flow_unknown_action",
                        p.pointer or pointer,
                        action=spec.get("type"),
                        known=", ".join(registry.names()),
                    )
                )
            else:
                found.append(_p("flow_action_invalid", p.pointer or pointer, detail=params.get("detail", "")))
        target = entity
        if spec.get("type") == "create_record":
            if not package.has_entity(spec.get("entity", "")):
                found.append(_p("flow_unknown_entity", f"{pointer}/entity", name=spec.get("entity")))
                continue
            target = package.entity(spec["entity"])
        if spec.get("type") in ("set_fields", "create_record") and isinstance(spec.get("values"), dict):
            known = {f.name for f in target.fields} | {"owner"}
            found += [
                _p("flow_unknown_field", f"{pointer}/values/{n}", entity=target.name, name=n)
                for n in spec["values"]
                if n not in known
            ]
    return found


def check_flow(
    flow: dict[str, Any], at: str, package: AppPackage, registry: ActionRegistry, calendars: set[str]
) -> list[Problem]:
    """Every problem of one flow; pointers start with ``at`` (``/3``)."""
    if not package.has_entity(flow["entity"]):
        return [_p("flow_unknown_entity", f"{at}/entity", name=flow["entity"])]
    entity = package.entity(flow["entity"])
    names = _names(package, entity)
    found: list[Problem] = []
    trigger = flow["trigger"]
    if trigger.get("when"):
        found += _rule(trigger["when"], names, f"{at}/trigger/when")
    if trigger.get("filter"):
        found += _rule(trigger["filter"], names, f"{at}/trigger/filter", in_python=False)
    found += _fields(entity, trigger.get("fields", []), f"{at}/trigger/fields")
    if trigger.get("field"):
        found += _fields(entity, [trigger["field"]], f"{at}/trigger/field")
    if trigger.get("cron"):
        try:
            cron_trigger(trigger["cron"], trigger.get("timezone", "Asia/Shanghai"))
        except (ValueError, ZoneInfoNotFoundError) as exc:
            found.append(_p("flow_bad_cron", f"{at}/trigger/cron", detail=str(exc)))
    if flow.get("calendar") and flow["calendar"] not in calendars:
        found.append(_p("flow_unknown_calendar", f"{at}/calendar", name=flow["calendar"]))

    nodes: dict[str, dict[str, Any]] = {}
    index: dict[str, int] = {}
    for i, node in enumerate(flow["nodes"]):
        if node["id"] in nodes:
            found.append(_p("flow_duplicate_node", f"{at}/nodes/{i}/id", node=node["id"]))
            continue
        nodes[node["id"]] = node
        index[node["id"]] = i
    starts = [n for n in nodes.values() if n["type"] == "start"]
    if len(starts) != 1:
        found.append(_p("flow_start_count", f"{at}/nodes", count=len(starts)))
    if not any(n["type"] == "end" for n in nodes.values()):
        found.append(_p("flow_no_end", f"{at}/nodes"))
    for node_id, node in nodes.items():
        here = f"{at}/nodes/{index[node_id]}"
        for suffix, target in targets(node):
            if target not in nodes:
                code = "flow_reject_target" if suffix == "/on_reject" else "flow_dangling_edge"
                found.append(_p(code, here + suffix, node=node_id, target=target))
        kind = node["type"]
        if kind == "condition":
            if "default" not in node:
                found.append(_p("flow_no_default", here, node=node_id))
            for j, branch in enumerate(node.get("branches", [])):
                found += _rule(branch["when"], names, f"{here}/branches/{j}/when")
        if kind == "join":
            split = nodes.get(node.get("split", ""))
            if split is None or split["type"] != "split" or node_id not in reachable(nodes, split["id"]):
                found.append(
                    _p("flow_join_without_split", f"{here}/split", node=node_id, split=node.get("split"))
                )
        if kind == "wait":
            if node.get("until"):
                found += _rule(node["until"], names, f"{here}/until")
            if node.get("until_field"):
                found += _fields(entity, [node["until_field"]], f"{here}/until_field")
        if node.get("limit", {}).get("pause_while"):
            found += _rule(node["limit"]["pause_while"], names, f"{here}/limit/pause_while")
        for key in ("approvers", "assignee", "to"):
            found += _people(node, key, entity, here)
        found += _fields(entity, node.get("editable", []), f"{here}/editable")
        found += _fields(entity, node.get("fields", []), f"{here}/fields")
        found += _actions(registry, package, entity, node, here)
    if len(starts) == 1:
        seen = reachable(nodes, starts[0]["id"])
        found += [_p("flow_unreachable", f"{at}/nodes/{index[n]}", node=n) for n in nodes if n not in seen]
    return found


def check_flows(
    package: AppPackage, items: Sequence[dict[str, Any]], registry: ActionRegistry
) -> list[Problem]:
    calendars = {c.get("name") for c in package.section("calendars")} | {"default"}
    found: list[Problem] = []
    names: set[str] = set()
    for i, flow in enumerate(items):
        if flow["name"] in names:
            found.append(_p("flow_duplicate_name", f"/{i}/name", name=flow["name"]))
        names.add(flow["name"])
        found += check_flow(flow, f"/{i}", package, registry, {c for c in calendars if c})
    return found


def check_calendars(package: AppPackage, items: Sequence[dict[str, Any]]) -> list[Problem]:
    found: list[Problem] = []
    for i, item in enumerate(items):
        zone = item.get("timezone")
        if zone is None:
            continue
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            found.append(_p("flow_bad_timezone", f"/{i}/timezone", name=zone))
    return found
