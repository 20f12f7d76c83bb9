"""Rule sets: rules as data (event + condition + actions), compiled once, asked which fire."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from rule_engine.errors import RuleError, RuleSetError
from rule_engine.expression import Expression, compile
from rule_engine.runtime import Loader
from rule_engine.types import FieldMap

EVENTS: tuple[str, ...] = ("create", "update", "delete")


@dataclass(frozen=True)
class Rule:
    """One compiled rule; ``when`` is None for a rule that always fires on its events."""

    name: str
    entity: str | None
    on: tuple[str, ...]
    when: Expression | None
    actions: tuple[Mapping[str, Any], ...]
    order: int = 0
    enabled: bool = True


@dataclass(frozen=True)
class FiredAction:
    """An action to run, with the rule it came from; the kernel's action registry runs it."""

    rule: str
    action: Mapping[str, Any]
    index: int = 0
    entity: str | None = field(default=None)

    @property
    def type(self) -> str:
        return str(self.action["type"])


def _invalid(name: str, reason: str, **params: Any) -> RuleError:
    """An ``invalid_rule`` error; ``reason`` picks its wording in :data:`rule_engine.messages.MESSAGES`."""
    return RuleError(code="invalid_rule", rule=name, params={"rule": name, "reason": reason, **params})


def _build(data: Mapping[str, Any], position: int, fields: FieldMap) -> Rule:
    if not isinstance(data, Mapping):
        raise _invalid(f"#{position + 1}", "not_object", found=type(data).__name__)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise _invalid(f"#{position + 1}", "no_name")
    on = data.get("on", list(EVENTS))
    if isinstance(on, str):
        on = [on]
    if not isinstance(on, list | tuple) or not on or any(e not in EVENTS for e in on):
        raise _invalid(name, "on", found=on, events=", ".join(EVENTS))
    actions = data.get("actions", [])
    if not isinstance(actions, list | tuple) or any(
        not isinstance(a, Mapping) or not isinstance(a.get("type"), str) for a in actions
    ):
        raise _invalid(name, "actions")
    entity = data.get("entity")
    if entity is not None and (not isinstance(entity, str) or not entity):
        raise _invalid(name, "entity", found=entity)
    order = data.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        raise _invalid(name, "order", found=order)
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _invalid(name, "enabled", found=enabled)
    text = data.get("when")
    when = None
    if text not in (None, ""):
        try:
            when = compile(text, fields, expect="boolean")
        except RuleError as exc:
            raise exc.with_rule(name) from None
    return Rule(
        name=name,
        entity=entity,
        on=tuple(on),
        when=when,
        actions=tuple(MappingProxyType(dict(a)) for a in actions),
        order=order,
        enabled=enabled,
    )


class RuleSet:
    """Compiles every rule at once and reports every broken one in a single RuleSetError."""

    def __init__(self, rules: Iterable[Mapping[str, Any]], fields: FieldMap) -> None:
        built: list[Rule] = []
        errors: list[RuleError] = []
        names: set[str] = set()
        for position, data in enumerate(rules):
            try:
                rule = _build(data, position, fields)
            except RuleError as exc:
                errors.append(exc)
                continue
            if rule.name in names:
                errors.append(_invalid(rule.name, "duplicate", found=rule.name))
                continue
            names.add(rule.name)
            built.append(rule)
        if errors:
            raise RuleSetError(errors)
        # stable sort: equal `order` keeps the order the rules were given in
        self.rules: tuple[Rule, ...] = tuple(sorted(built, key=lambda r: r.order))

    def fire(
        self,
        event: str,
        record: Mapping[str, Any],
        old: Mapping[str, Any] | None = None,
        now: datetime | None = None,
        *,
        loader: Loader | None = None,
        entity: str | None = None,
    ) -> list[FiredAction]:
        """The actions that fire for ``event``, in rule order then list order."""
        if event not in EVENTS:
            raise RuleError(
                code="invalid_rule", params={"reason": "event", "found": event, "events": ", ".join(EVENTS)}
            )
        fired: list[FiredAction] = []
        for rule in self.rules:
            if not rule.enabled or event not in rule.on:
                continue
            if entity is not None and rule.entity not in (None, entity):
                continue
            if rule.when is not None and not rule.when.matches(record, now=now, old=old, loader=loader):
                continue
            fired.extend(
                FiredAction(rule=rule.name, action=action, index=i, entity=rule.entity)
                for i, action in enumerate(rule.actions)
            )
        return fired

    def __len__(self) -> int:
        return len(self.rules)
