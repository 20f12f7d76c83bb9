"""The action registry: named things rules and flows can do, each with its own JSON Schema.

Rules and flows carry actions as data (``{"type": "notify", ...}``); the kernel looks the type up
here, validates the spec against the action's schema, and runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jsonschema

from engine.errors import InvalidInput
from engine.messages import name_list, problem
from form_engine import Problem

if TYPE_CHECKING:
    from engine.context import Context
    from engine.records import WriteUnit

Handler = Callable[["ActionCall"], Any]


@dataclass(frozen=True)
class ActionCall:
    """Everything an action handler may use: the write unit it runs in (records it changes go
    through it, in the same transaction and under the same caller), the spec, and the record
    that triggered it."""

    unit: WriteUnit
    spec: dict[str, Any]
    entity: str
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def context(self) -> Context:
        return self.unit.ctx

    @property
    def app(self) -> str:
        return self.unit.runtime.package.name


@dataclass(frozen=True)
class ActionType:
    name: str
    handler: Handler
    schema: dict[str, Any]
    label: dict[str, str]


class ActionRegistry:
    def __init__(self) -> None:
        self._actions: dict[str, ActionType] = {}

    def register(
        self,
        name: str,
        handler: Handler,
        *,
        schema: dict[str, Any] | None = None,
        label: dict[str, str] | None = None,
    ) -> None:
        if name in self._actions:
            raise ValueError(f"action {name!r} is registered already")
        self._actions[name] = ActionType(
            name, handler, schema or {"type": "object"}, label or {"zh": name, "en": name}
        )

    @classmethod
    def union(cls, *registries: ActionRegistry) -> ActionRegistry:
        """Every action of ``registries``; where two name the same action, the first's."""
        merged = cls()
        for registry in reversed(registries):
            merged._actions.update(registry._actions)
        return merged

    def names(self) -> list[str]:
        return sorted(self._actions)

    def get(self, name: str) -> ActionType:
        try:
            return self._actions[name]
        except KeyError:
            raise InvalidInput("unknown_action", action=name, known=name_list(self.names())) from None

    def check(self, spec: dict[str, Any], pointer: str = "") -> list[Problem]:
        """Problems with an action spec, as JSON-pointer problems (empty when valid)."""
        name = spec.get("type")
        if name not in self._actions:
            return [
                problem(
                    "unknown_action", pointer=f"{pointer}/type", action=name, known=name_list(self.names())
                )
            ]
        validator = jsonschema.Draft202012Validator(self._actions[name].schema)
        return [
            problem(
                "schema", pointer=pointer + "".join(f"/{p}" for p in err.absolute_path), detail=err.message
            )
            for err in validator.iter_errors({k: v for k, v in spec.items() if k != "type"})
        ]

    def run(self, call: ActionCall) -> Any:
        action = self.get(call.spec.get("type", ""))
        problems = self.check(call.spec)
        if problems:
            raise InvalidInput("action_invalid", action=action.name, problems=problems)
        return action.handler(call)
