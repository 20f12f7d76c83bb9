"""Whole-definition checks: forms, conditions, formulas, validation and duplicate rules.

Every rule-DSL text in an entity is compiled against the entity's field map here, once, so a
typo is reported when the definition is saved (with its JSON pointer and the line and column
inside the rule), never when a user submits a form.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

import rule_engine
from form_engine.definitions import (
    EntityDef,
    definition_problem,
    pydantic_problems,
    structure_problems,
)
from form_engine.dsl_fields import EntityResolver, dsl_fields
from form_engine.errors import DefinitionInvalid, Problem
from form_engine.field_types.computed import FormulaConfig, RollupConfig
from form_engine.field_types.reference import LookupConfig
from form_engine.forms import FieldItem, placed_fields, walk
from form_engine.messages import add_messages

add_messages(
    {
        "result_type_mismatch": {
            "zh": "公式 {expression} 的结果是 {found} 类型，"
            "result_type 为 {expected} 的字段只能存放 {accepted}",
            "en": "the formula {expression} gives a {found} value; a result_type of {expected} "
            "holds {accepted} only",
        },
        "not_a_quantity": {
            "zh": "{function} 汇总要把数值相加，但 {entity}.{name} 是“{kind}”字段，不是数值；"
            "请改用 count、min 或 max，或汇总一个数值字段",
            "en": "a {function} roll-up adds values up, but {entity}.{name} is a {kind} field, not a "
            "number; use count, min or max, or roll up a number field",
        },
    }
)

#: Expression types each formula ``result_type`` holds, as ``result_coercer`` converts them
#: (numbers rounded, a date-time's date taken); a text result holds any value written out.
#: An expression of another type would fail on every save, so the definition is refused.
RESULT_FITS: dict[str, frozenset[str]] = {
    "number": frozenset({"number", "integer"}),
    "integer": frozenset({"integer", "number", "lookup"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date", "datetime"}),
    "datetime": frozenset({"datetime"}),
}


def rule_problem(pointer: str, text: str, exc: rule_engine.RuleError) -> Problem:
    """A DSL compile error located twice: the JSON pointer and the line/column in the rule."""
    return Problem(
        code="invalid_rule",
        pointer=pointer,
        params={
            "zh": f"规则 {text!r} 有误：{exc.message('zh')}",
            "en": f"rule {text!r}: {exc.message('en')}",
        },
        line=exc.line,
        column=exc.column,
    )


def _compile(
    text: str, fields: dict[str, Any], pointer: str, problems: list[Problem], expect: str | None = None
) -> rule_engine.Expression | None:
    try:
        return rule_engine.compile(text, fields, expect=expect)
    except rule_engine.RuleError as exc:
        problems.append(rule_problem(pointer, text, exc))
        return None


#: What an unknown name names, in each language (a message is in one language only).
_WHAT = {"field": ("字段", "field"), "field id": ("字段 id", "field id"), "entity": ("实体", "entity")}


def _unknown(pointer: str, what: str, name: str, code: str = "unknown_field") -> Problem:
    zh, en = _WHAT[what]
    return definition_problem(pointer, f"{zh} {name} 不存在", f"{en} {name!r} does not exist", code)


def _field_problems(entity: EntityDef, fields: dict[str, Any], pointer: str, problems: list[Problem]) -> None:
    names = set(entity.field_names)
    formulas: dict[str, frozenset[str]] = {}
    for i, f in enumerate(entity.fields):
        at = f"{pointer}/fields/{i}"
        for key in ("visible_if", "required_if", "readonly_if"):
            text = getattr(f, key)
            if text is not None:
                _compile(text, fields, f"{at}/{key}", problems, "boolean")
        if f.default_expression is not None:
            kind = fields.get(f.name)
            expected = kind if isinstance(kind, str) and kind not in ("list",) else None
            _compile(f.default_expression, fields, f"{at}/default_expression", problems, expected)
        if f.default is not None and f.field_type.writable:
            try:
                f.field_type.coerce(f.default, f)
            except ValueError as exc:
                text = str(getattr(exc, "problem_code", exc))
                problems.append(
                    definition_problem(
                        f"{at}/default",
                        f"默认值 {f.default!r} 不是有效的{f.label.zh}（{text}）",
                        f"default {f.default!r} is not a valid {f.label.en} ({text})",
                        "invalid_default",
                    )
                )
        config = f.config
        if f.type == "formula":
            formula = f.config_as(FormulaConfig).expression
            expression = _compile(formula, fields, f"{at}/expression", problems)
            if expression is not None:
                formulas[f.name] = expression.fields
                _result_type_problem(
                    expression, f.config_as(FormulaConfig).result_type, f"{at}/expression", problems
                )
        if isinstance(config, LookupConfig):
            for j, target in enumerate(config.copy_fields):
                if target not in names:
                    problems.append(_unknown(f"{at}/copy_fields/{j}", "field", target))
    cycle = _formula_cycle(formulas)
    if cycle:
        path = " -> ".join(cycle)
        problems.append(
            definition_problem(
                f"{pointer}/fields",
                f"公式循环引用：{path}",
                f"formulas refer to each other in a cycle: {path}",
                "cycle",
            )
        )


def _result_type_problem(
    expression: rule_engine.Expression, result_type: str, pointer: str, problems: list[Problem]
) -> None:
    fits = RESULT_FITS.get(result_type)
    if fits is None or expression.type in fits or expression.type == "null":
        return
    node = expression.ast_node
    problems.append(
        Problem(
            code="result_type_mismatch",
            pointer=pointer,
            params={
                "expression": expression.text,
                "found": expression.type,
                "expected": result_type,
                "accepted": "/".join(sorted(fits)),
            },
            line=node.line,
            column=node.column,
        )
    )


def _formula_cycle(formulas: dict[str, frozenset[str]]) -> list[str] | None:
    """A cycle among formula fields (each a set of names it reads), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(formulas[name] & formulas.keys()):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[name] = 2
        return None

    for name in formulas:
        if name not in state:
            found = visit(name)
            if found:
                return found
    return None


def _form_problems(entity: EntityDef, fields: dict[str, Any], pointer: str, problems: list[Problem]) -> None:
    seen_forms: set[str] = set()
    for i, form in enumerate(entity.forms):
        at = f"{pointer}/forms/{i}"
        if form.name in seen_forms:
            problems.append(
                definition_problem(
                    f"{at}/name",
                    f"表单名 {form.name} 重复",
                    f"form name {form.name!r} is used twice",
                    "duplicate_name",
                )
            )
        seen_forms.add(form.name)
        placed: dict[str, str] = {}
        for node_at, node, _ancestors in walk(form.layout, f"{at}/layout"):
            for key, text in node.condition_items():
                _compile(text, fields, f"{node_at}/{key}", problems, "boolean")
            if isinstance(node, FieldItem):
                if entity.field_by_id(node.field) is None:
                    ids = [f.id for f in entity.fields]
                    problems.append(
                        _unknown(f"{node_at}/field", "field id", node.field)
                        if not ids
                        else definition_problem(
                            f"{node_at}/field",
                            f"布局引用了不存在的字段 id {node.field}",
                            f"the layout places unknown field id {node.field!r}; known ids: {', '.join(ids)}",
                            "unknown_field",
                        )
                    )
                elif node.field in placed:
                    problems.append(
                        definition_problem(
                            f"{node_at}/field",
                            f"字段 {node.field} 在表单中出现两次（另见 {placed[node.field]}）",
                            f"field {node.field!r} is placed twice on the form "
                            f"(also at {placed[node.field]})",
                            "duplicate_field",
                        )
                    )
                else:
                    placed[node.field] = node_at
        on_form = {item.field for _p, item, _a in placed_fields(form)}
        for f in entity.fields:
            ft = f.field_type
            if (
                f.required
                and ft.writable
                and f.default is None
                and f.default_expression is None
                and f.id not in on_form
            ):
                problems.append(
                    definition_problem(
                        f"{at}/layout",
                        f"必填字段 {f.label.zh} 没有默认值，也不在表单 {form.name} 上，该表单无法提交",
                        f"required field {f.name!r} has no default and is not on form {form.name!r}, "
                        "so the form could never be submitted",
                        "required_field_missing",
                    )
                )


def _rule_problems(entity: EntityDef, fields: dict[str, Any], pointer: str, problems: list[Problem]) -> None:
    names = set(entity.field_names)
    for i, rule in enumerate(entity.validations):
        at = f"{pointer}/validations/{i}"
        if rule.when is not None:
            _compile(rule.when, fields, f"{at}/when", problems, "boolean")
        _compile(rule.condition, fields, f"{at}/condition", problems, "boolean")
        if rule.field is not None and rule.field not in names:
            problems.append(_unknown(f"{at}/field", "field", rule.field))
    rule_names: set[str] = set()
    for i, duplicate in enumerate(entity.duplicate_rules):
        at = f"{pointer}/duplicate_rules/{i}"
        if duplicate.name in rule_names:
            problems.append(
                definition_problem(
                    f"{at}/name",
                    f"查重规则名 {duplicate.name} 重复",
                    f"duplicate rule name {duplicate.name!r} is used twice",
                    "duplicate_name",
                )
            )
        rule_names.add(duplicate.name)
        for j, name in enumerate(duplicate.fields):
            if name not in names:
                problems.append(_unknown(f"{at}/fields/{j}", "field", name))
            elif entity.field(name).field_type.storage != "column":
                problems.append(
                    definition_problem(
                        f"{at}/fields/{j}",
                        f"字段 {name} 不存储在记录中，不能用于查重",
                        f"field {name!r} is not stored in the row and cannot be matched for duplicates",
                        "not_matchable",
                    )
                )


def _rollup_problems(
    entity: EntityDef, resolve_entity: EntityResolver, pointer: str, problems: list[Problem]
) -> None:
    for i, f in enumerate(entity.fields):
        if f.type != "rollup":
            continue
        at = f"{pointer}/fields/{i}"
        config = f.config_as(RollupConfig)
        child = resolve_entity(config.entity)
        if child is None:
            problems.append(_unknown(f"{at}/entity", "entity", config.entity, "unknown_entity"))
            continue
        child_names = set(child.field_names)
        if config.link_field not in child_names:
            problems.append(_unknown(f"{at}/link_field", "field", config.link_field))
        if config.field is not None and config.field not in child_names:
            problems.append(_unknown(f"{at}/field", "field", config.field))
        elif config.function in ("sum", "avg") and config.field is not None:
            aggregated = child.field(config.field)
            if not aggregated.field_type.is_quantity(aggregated):
                problems.append(
                    Problem(
                        code="not_a_quantity",
                        pointer=f"{at}/field",
                        params={
                            "function": config.function,
                            "entity": child.name,
                            "name": aggregated.name,
                            "kind": {
                                "zh": aggregated.field_type.label.zh,
                                "en": aggregated.field_type.label.en,
                            },
                        },
                    )
                )
        if config.filter is not None:
            _compile(config.filter, dsl_fields(child, resolve_entity), f"{at}/filter", problems, "boolean")


def entity_problems(
    entity: EntityDef, pointer: str = "", resolve_entity: EntityResolver | None = None
) -> list[Problem]:
    """Every inconsistency in one entity definition, each with its JSON pointer.

    ``resolve_entity`` (name -> EntityDef of the same app) enables the checks that need other
    entities: lookup paths in rules and roll-up settings.
    """
    problems = structure_problems(entity, pointer)
    fields = dsl_fields(entity, resolve_entity)
    _field_problems(entity, fields, pointer, problems)
    _form_problems(entity, fields, pointer, problems)
    _rule_problems(entity, fields, pointer, problems)
    if resolve_entity is not None:
        _rollup_problems(entity, resolve_entity, pointer, problems)
    return problems


def parse_entity(data: Any, pointer: str = "", resolve_entity: EntityResolver | None = None) -> EntityDef:
    """Build an ``EntityDef`` or raise ``DefinitionInvalid`` listing every problem."""
    try:
        entity = EntityDef.model_validate(data)
    except ValidationError as exc:
        raise DefinitionInvalid(pydantic_problems(exc, pointer)) from None
    problems = entity_problems(entity, pointer, resolve_entity)
    if problems:
        raise DefinitionInvalid(problems)
    return entity
