"""Server-side enforcement of an entity's definition: the one call the kernel makes per write.

``compile_entity(entity)`` compiles everything once (coercion function, conditions, default
expressions, formulas, validation rules); ``EntityRuntime.validate`` then coerces the client's
values, applies defaults and lookup linkage, evaluates conditions on the merged record (old
values overlaid with new ones), drops values of hidden fields, enforces required and read-only
conditions, computes formulas and runs the validation rules, and reports every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

import rule_engine
from form_engine.coercion import compile_coercion
from form_engine.definitions import EntityDef, FieldDef
from form_engine.dsl_fields import EntityResolver, dsl_fields
from form_engine.entity_rules import ValidationRule
from form_engine.errors import FieldValueError, Problem, RecordInvalid
from form_engine.field_types.base import Coercer
from form_engine.field_types.computed import FormulaConfig
from form_engine.field_types.reference import LookupConfig
from form_engine.forms import DEFAULT_FORM, placed_fields
from form_engine.messages import add_messages

add_messages(
    {
        "readonly": {
            "zh": "{label}当前为只读，不能修改",
            "en": "{label} is read-only here and cannot be changed",
        },
        "hidden_field": {
            "zh": "{label}当前不显示，不能填写",
            "en": "{label} is hidden here and cannot be filled in",
        },
        "not_on_form": {
            "zh": "{label}不在表单 {form} 上，不能通过该表单填写",
            "en": "{label} is not on form {form} and cannot be filled in through it",
        },
        "rule_failed": {
            "zh": "{label}的规则无法计算：{reason}",
            "en": "the rule for {label} could not be evaluated: {reason}",
        },
        "unknown_form": {
            "zh": "表单 {form} 不存在，可用：{choices}",
            "en": "there is no form {form}; available: {choices}",
        },
    }
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})

#: ``loader(lookup field name, id) -> referenced record`` (the rule engine's loader contract).
Loader = Callable[[str, Any], Mapping[str, Any] | None]


class ValidatedValues(dict[str, Any]):
    """The column values to write, as a dict; what does not go in the row rides along.

    ``relations``: values of storage-"none" fields sent by the client (sub-table rows to save
    with the kernel's child runtime, many-to-many id lists). ``dropped``: names of fields whose
    client values were ignored because the field is hidden (or not on the form used).
    """

    relations: Mapping[str, Any] = _EMPTY
    dropped: tuple[str, ...] = ()


@dataclass
class _FieldRules:
    """Conditions on one field in one context (no form, or one form)."""

    visible: list[rule_engine.Expression] = field(default_factory=list)
    required: list[rule_engine.Expression] = field(default_factory=list)
    readonly: list[rule_engine.Expression] = field(default_factory=list)


@dataclass
class _Plan:
    """What a write through one form (or through no form: ``name`` None) must enforce."""

    name: str | None
    #: Field names accepted through this form (None: every field).
    accepted: frozenset[str] | None
    rules: dict[str, _FieldRules]

    @property
    def conditional(self) -> bool:
        return any(r.visible or r.required or r.readonly for r in self.rules.values())


@dataclass(frozen=True)
class _Computed:
    name: str
    expression: rule_engine.Expression
    coerce: Coercer


@dataclass(frozen=True)
class _Rule:
    field: str | None
    when: rule_engine.Expression | None
    condition: rule_engine.Expression
    message: dict[str, str]
    reads: frozenset[str]


class EntityRuntime:
    """The compiled definition of one entity version; build once, call ``validate`` per write."""

    def __init__(self, entity: EntityDef, resolve_entity: EntityResolver | None = None) -> None:
        self.entity = entity
        self.fields_map = dsl_fields(entity, resolve_entity)
        self._coerce = compile_coercion(entity, ValidatedValues)
        self._by_name: dict[str, FieldDef] = {f.name: f for f in entity.fields}
        self._labels = {f.name: {"zh": f.label.zh, "en": f.label.en} for f in entity.fields}
        self._coercers = {f.name: f.field_type.compile_coercer(f) for f in entity.fields}
        self._required = tuple(f.name for f in entity.fields if f.required and f.field_type.writable)
        self._literal_defaults = {
            f.name: f.field_type.coerce(f.default, f)
            for f in entity.fields
            if f.default is not None and f.field_type.writable
        }
        self._default_expressions = [
            _Computed(f.name, self._compile(f.default_expression), self._coercers[f.name])
            for f in entity.fields
            if f.default_expression is not None
        ]
        self._formulas = self._compile_formulas()
        self._rules = [self._compile_rule(rule) for rule in entity.validations]
        self._linkage = {
            f.name: dict(f.config.copy_fields)
            for f in entity.fields
            if isinstance(f.config, LookupConfig) and f.config.copy_fields
        }
        base = self._field_level_rules()
        self._plans: dict[str | None, _Plan] = {None: _Plan(None, None, base)}
        # "default" names the every-field form the forms API lists, unless a form takes the name
        self._plans[DEFAULT_FORM] = self._plans[None]
        for form in entity.forms:
            self._plans[form.name] = self._form_plan(form.name, base)
        self._simple = (
            not self._default_expressions
            and not self._formulas
            and not self._rules
            and not self._linkage
            and not self._plans[None].conditional
        )

    # -- compilation ---------------------------------------------------------------------
    def _compile(self, text: str) -> rule_engine.Expression:
        return rule_engine.compile(text, self.fields_map)

    def _compile_rule(self, rule: ValidationRule) -> _Rule:
        when = self._compile(rule.when) if rule.when else None
        condition = self._compile(rule.condition)
        reads = condition.fields | (when.fields if when else frozenset())
        return _Rule(rule.field, when, condition, {"zh": rule.message.zh, "en": rule.message.en}, reads)

    def _field_level_rules(self) -> dict[str, _FieldRules]:
        rules: dict[str, _FieldRules] = {}
        for f in self.entity.fields:
            entry = _FieldRules()
            if f.visible_if:
                entry.visible.append(self._compile(f.visible_if))
            if f.required_if:
                entry.required.append(self._compile(f.required_if))
            if f.readonly_if:
                entry.readonly.append(self._compile(f.readonly_if))
            rules[f.name] = entry
        return rules

    def _form_plan(self, form_name: str, base: dict[str, _FieldRules]) -> _Plan:
        form = self.entity.form(form_name)
        rules = {
            name: _FieldRules(list(r.visible), list(r.required), list(r.readonly)) for name, r in base.items()
        }
        accepted: set[str] = set()
        for _pointer, item, ancestors in placed_fields(form):
            f = self.entity.field_by_id(item.field)
            if f is None:
                continue
            accepted.add(f.name)
            entry = rules[f.name]
            for node in (*ancestors, item):
                if node.visible_if:
                    entry.visible.append(self._compile(node.visible_if))
                if node.required_if:
                    entry.required.append(self._compile(node.required_if))
                if node.readonly_if:
                    entry.readonly.append(self._compile(node.readonly_if))
        return _Plan(form_name, frozenset(accepted), rules)

    def _compile_formulas(self) -> list[_Computed]:
        """Formulas in dependency order, so one formula may use another's result."""
        pending = {
            f.name: _Computed(
                f.name, self._compile(f.config_as(FormulaConfig).expression), self._coercers[f.name]
            )
            for f in self.entity.fields
            if f.type == "formula"
        }
        ordered: list[_Computed] = []
        while pending:
            ready = [c for c in pending.values() if not (c.expression.fields & (pending.keys() - {c.name}))]
            if not ready:  # a cycle; refused by entity_problems, kept deterministic here
                ready = list(pending.values())
            for computed in ready:
                ordered.append(computed)
                del pending[computed.name]
        return ordered

    # -- the write path ------------------------------------------------------------------
    def validate(
        self,
        data: Mapping[str, Any],
        *,
        partial: bool = False,
        old: Mapping[str, Any] | None = None,
        form: str | None = None,
        locale: str = "en",
        now: datetime | None = None,
        loader: Loader | None = None,
        on_hidden: Literal["drop", "refuse"] = "drop",
    ) -> ValidatedValues:
        """The values to write, or ``RecordInvalid`` listing every problem (in ``locale``).

        ``partial``: an update; absent fields keep their stored value (``old``, the stored
        record as Python values, lets conditions and rules see them). ``form``: the form the
        client used; its layout limits which fields are accepted and adds its conditions.
        ``loader(field, id)`` loads a referenced record for ``account.grade`` paths and lookup
        linkage. ``now`` fixes ``today()``/``now()`` for repeatable results.
        """
        values, relations, problems = self._coerce(data, partial)
        plan = self._plans.get(form)
        if plan is None:
            choices = ", ".join([DEFAULT_FORM, *(f.name for f in self.entity.forms)])
            raise RecordInvalid([Problem("unknown_form", params={"form": form, "choices": choices})], locale)
        if relations:
            values.relations = relations
        if self._simple and plan.accepted is None:
            bad = {p.field for p in problems} if problems else set()
            for name in self._required:
                if (
                    name in bad
                    or (partial and name not in data)
                    or not self._blank(values.get(name, values.relations.get(name)))
                ):
                    continue
                problems = problems or []
                problems.append(Problem("required", field=name, params={"label": self._labels[name]}))
            if problems:
                raise RecordInvalid(problems, locale)
            return values
        problems = self._enforce(values, data, partial, old, plan, now, loader, on_hidden, problems or [])
        if problems:
            raise RecordInvalid(problems, locale)
        return values

    def _enforce(
        self,
        values: ValidatedValues,
        data: Mapping[str, Any],
        partial: bool,
        old: Mapping[str, Any] | None,
        plan: _Plan,
        now: datetime | None,
        loader: Any,
        on_hidden: str,
        problems: list[Problem],
    ) -> list[Problem]:
        bad = {p.field for p in problems if p.field is not None}
        creating = old is None and not partial
        self._apply_linkage(values, data, loader, problems, bad)
        merged: dict[str, Any] = {**(old or {}), **values}
        if creating:
            for computed in self._default_expressions:
                if merged.get(computed.name) is None and computed.name not in data:
                    value = self._evaluate(computed, merged, old, now, loader, problems, bad)
                    if value is not None:
                        values[computed.name] = merged[computed.name] = value

        def evaluate(expressions: list[rule_engine.Expression]) -> bool:
            return any(e.matches(merged, now=now, old=old, loader=loader) for e in expressions)

        hidden: set[str] = set()
        for _ in range(len(plan.rules) + 1):
            now_hidden = {
                name
                for name, rules in plan.rules.items()
                if (plan.accepted is not None and name not in plan.accepted)
                or (
                    rules.visible
                    and not all(e.matches(merged, now=now, old=old, loader=loader) for e in rules.visible)
                )
            }
            if now_hidden == hidden:
                break
            hidden = now_hidden
            for name in hidden:
                if name in values and name in data:
                    restored = (old or {}).get(name, self._literal_defaults.get(name) if creating else None)
                    if restored is None:
                        values.pop(name)
                    else:
                        values[name] = restored
                    merged[name] = (old or {}).get(name, restored)
        dropped = []
        for name in data:
            if name in hidden and name in self._by_name:
                dropped.append(name)
                if on_hidden == "refuse" and data[name] is not None:
                    code = "hidden_field" if plan.accepted is None or name in plan.accepted else "not_on_form"
                    problems.append(
                        Problem(
                            code, field=name, params={"label": self._labels[name], "form": plan.name or ""}
                        )
                    )
                if isinstance(values.relations, dict):
                    values.relations.pop(name, None)
        if dropped:
            values.dropped = tuple(dropped)
        for name, rules in plan.rules.items():
            if name in hidden:
                continue
            if rules.readonly and name in data and name not in bad and evaluate(rules.readonly):
                before = (old or {}).get(name, self._literal_defaults.get(name))
                if values.get(name) != before:
                    problems.append(Problem("readonly", field=name, params={"label": self._labels[name]}))
                    bad.add(name)
            conditional = bool(rules.required) and evaluate(rules.required)
            required = name in self._required or conditional
            if required and name not in bad and self._blank(merged.get(name, values.relations.get(name))):
                # An update that leaves a field alone is not refused for a gap it did not make
                # (as on the fast path), unless the update itself makes the field required.
                if partial and name not in data and (old is None or not conditional):
                    continue
                problems.append(Problem("required", field=name, params={"label": self._labels[name]}))
                bad.add(name)
        for computed in self._formulas:
            value = self._evaluate(computed, merged, old, now, loader, problems, bad)
            values[computed.name] = merged[computed.name] = value
        for rule in self._rules:
            if rule.reads & bad:
                continue
            try:
                if rule.when is not None and not rule.when.matches(merged, now=now, old=old, loader=loader):
                    continue
                outcome = rule.condition.evaluate(merged, now=now, old=old, loader=loader)
            except rule_engine.RuleError as exc:
                problems.append(self._rule_failure(rule.field, exc))
                continue
            if outcome is False:
                problems.append(Problem("validation_rule", field=rule.field, params=dict(rule.message)))
        return problems

    @staticmethod
    def _blank(value: Any) -> bool:
        """No value for ``required``: None, an empty list, text empty after trimming (stored
        before trimming was the rule, or computed)."""
        return value is None or value == [] or (isinstance(value, str) and (not value or value.isspace()))

    def _rule_failure(self, name: str | None, exc: Exception) -> Problem:
        label = self._labels.get(name or "", {"zh": self.entity.label.zh, "en": self.entity.label.en})
        return Problem("rule_failed", field=name, params={"label": label, "reason": str(exc)})

    def _evaluate(
        self,
        computed: _Computed,
        merged: Mapping[str, Any],
        old: Mapping[str, Any] | None,
        now: datetime | None,
        loader: Any,
        problems: list[Problem],
        bad: set[str],
    ) -> Any:
        if computed.expression.fields & bad:
            return None
        try:
            return computed.coerce(computed.expression.evaluate(merged, now=now, old=old, loader=loader))
        except rule_engine.RuleError as exc:
            problems.append(self._rule_failure(computed.name, exc))
        except FieldValueError as exc:
            params = {**exc.params, "label": self._labels[computed.name]}
            problems.append(Problem(exc.problem_code, field=computed.name, params=params))
        bad.add(computed.name)
        return None

    def _apply_linkage(
        self,
        values: ValidatedValues,
        data: Mapping[str, Any],
        loader: Any,
        problems: list[Problem],
        bad: set[str],
    ) -> None:
        """Copy fields from a newly chosen referenced record, unless the client sent them."""
        if loader is None:
            return
        for lookup, copies in self._linkage.items():
            target_id = values.get(lookup)
            if lookup not in data or target_id is None:
                continue
            referenced = loader(lookup, target_id)
            if referenced is None:
                continue
            for name, value in linked_values(copies, referenced).items():
                if name in data or name not in self._coercers:
                    continue
                try:
                    values[name] = None if value is None else self._coercers[name](value)
                except FieldValueError as exc:
                    params = {**exc.params, "label": self._labels[name]}
                    problems.append(Problem(exc.problem_code, field=name, params=params))
                    bad.add(name)

    # -- introspection for the kernel and the UI -----------------------------------------
    def field_state(
        self,
        record: Mapping[str, Any],
        *,
        form: str | None = None,
        now: datetime | None = None,
        old: Mapping[str, Any] | None = None,
        loader: Any = None,
    ) -> dict[str, dict[str, bool]]:
        """``{field: {"visible", "required", "readonly"}}`` for a record (the UI's live state)."""
        plan = self._plans[form]
        out: dict[str, dict[str, bool]] = {}
        for name, rules in plan.rules.items():
            if plan.accepted is not None and name not in plan.accepted:
                continue
            f = self._by_name[name]

            def holds(expressions: list[rule_engine.Expression]) -> bool:
                return any(e.matches(record, now=now, old=old, loader=loader) for e in expressions)

            visible = all(e.matches(record, now=now, old=old, loader=loader) for e in rules.visible)
            out[name] = {
                "visible": visible,
                "required": visible and (name in self._required or holds(rules.required)),
                "readonly": not f.field_type.writable or holds(rules.readonly),
            }
        return out

    def linked_fields(self) -> dict[str, dict[str, str]]:
        """Lookup linkage: lookup field -> {field filled here: field of the referenced record}."""
        return {name: dict(copies) for name, copies in self._linkage.items()}


def linked_values(copies: Mapping[str, str], referenced: Mapping[str, Any]) -> dict[str, Any]:
    """The values a chosen referenced record fills in: ``{this field: referenced[source]}``."""
    return {target: referenced.get(source) for target, source in copies.items()}


def compile_entity(entity: EntityDef, resolve_entity: EntityResolver | None = None) -> EntityRuntime:
    """Compile once per entity version (the kernel caches it with the definition)."""
    return EntityRuntime(entity, resolve_entity)
