"""Every RuleError code speaks zh and en: templates exist, are filled, and English stays as it was."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

import rule_engine
from rule_engine import messages
from rule_engine.errors import CODES

SOURCES = sorted((Path(rule_engine.__file__).parent).glob("*.py"))
FIELDS = {
    "amount": "number",
    "grade": "text",
    "tags": "list",
    "d": "date",
    "n": "integer",
    "account": {"grade": "text"},
}
HAN = re.compile(r"[\u4e00-\u9fff]")
# English words that must never reach a Chinese message (code spans and literals are removed first)
ENGLISH = re.compile(r"\b(found|expected|argument|line|column|did you mean|rule|the|of|or|a|an)\b")


def _calls() -> list[ast.Call]:
    calls: list[ast.Call] = []
    for path in SOURCES:
        calls += [n for n in ast.walk(ast.parse(path.read_text("utf-8"))) if isinstance(n, ast.Call)]
    return calls


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _const(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _raised_codes() -> set[str]:
    """Every code a raise site in rule_engine/ can produce, read from the source, not from MESSAGES."""
    codes = {_const(k.value) for call in _calls() for k in call.keywords if k.arg == "code"}
    for call in _calls():  # the regex translator's error(detail, code="regex_invalid")
        if _name(call) == "error" and len(call.args) > 1:
            codes.add(_const(call.args[1]))
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name == "error":
                codes |= {_const(d) for d in node.args.defaults}
    codes.discard(None)
    return codes  # type: ignore[return-value]


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_declared_codes_are_exactly_the_raised_codes() -> None:
    assert set(CODES) == _raised_codes()
    assert len(CODES) == len(set(CODES))
    assert rule_engine.CODES is CODES


@pytest.mark.parametrize("code", CODES)
def test_every_code_has_a_zh_and_an_en_template(code: str) -> None:
    template = rule_engine.MESSAGES[code]
    assert set(template) == {"zh", "en"}
    assert HAN.search(template["zh"]) and not HAN.search(template["en"])


def test_every_template_and_phrase_has_both_languages_with_the_same_params() -> None:
    for key, pair in [*messages.MESSAGES.items(), *messages.PHRASES.items()]:
        assert set(pair) == {"zh", "en"}, key
        assert _placeholders(pair["zh"]) == _placeholders(pair["en"]), key
    assert {key.split(".")[0] for key in messages.MESSAGES} == set(CODES)
    assert "MESSAGES" in rule_engine.__all__


def test_every_reason_and_phrase_a_raise_site_names_exists() -> None:
    keys = set(messages.MESSAGES)
    for call in _calls():
        name = _name(call)
        if name == "phrase" and not isinstance(call.args[0], ast.JoinedStr):  # f"regex.{detail}": below
            assert _const(call.args[0]) in messages.PHRASES, ast.dump(call)
        elif name == "error" and call.args and _const(call.args[0]):
            assert f"regex.{_const(call.args[0])}" in messages.PHRASES
        elif name == "_invalid" and len(call.args) > 1:
            assert f"invalid_rule.{_const(call.args[1])}" in keys
        for arg in [*call.args, *(k.value for k in call.keywords)]:
            if isinstance(arg, ast.Dict):
                for k, v in zip(arg.keys, arg.values, strict=True):
                    if _const(k) == "reason" and _const(v):  # _invalid's variable: checked above
                        assert any(key.endswith(f".{_const(v)}") for key in keys), _const(v)


def _compile(text: object, fields: object = FIELDS, **kwargs: object) -> Callable[[], object]:
    return lambda: rule_engine.compile(text, fields, **kwargs)  # type: ignore[arg-type]


def _sql(text: str, columns: object) -> Callable[[], object]:
    return lambda: rule_engine.compile(text, FIELDS).to_sql(columns)  # type: ignore[arg-type]


_T = sa.table("t", sa.column("grade"))
RELATIONS = {"visit": rule_engine.Relation({"kind": "text", "account": "integer"}, ["account"])}


def _related(text: str) -> Callable[[], object]:
    return _compile(text, relations=RELATIONS)


def _area_lookup(name: str) -> rule_engine.Resolution:
    if name == "North":
        return rule_engine.Resolution(("1",))
    if name == "Springfield":
        return rule_engine.Resolution(candidates=("North/Springfield", "South/Springfield"))
    return rule_engine.Resolution(nearest=("North",))


_AREAS = rule_engine.CodeTree("areas", _area_lookup)

# (input, code, line, column, today's str(exc), Chinese wording the zh message must contain)
CASES: dict[str, tuple[Callable[[], object], str, int, int, str, str]] = {
    "syntax": (
        _compile("amount > 5 grade"),
        "syntax",
        1,
        12,
        "line 1, column 12: found `grade`, expected an operator or the end of the rule",
        "遇到 `grade`，此处应为运算符或规则结尾",
    ),
    "syntax.empty": (
        _compile("  "),
        "syntax",
        1,
        1,
        "line 1, column 1: found an empty rule, expected an expression",
        "规则为空",
    ),
    "syntax.not_text": (
        _compile(5),
        "syntax",
        1,
        1,
        "line 1, column 1: found a int, expected the rule as text",
        "规则应为文本，实际是 int 类型的值",
    ),
    "bad_escape": (
        _compile("grade == '\\u12'"),
        "bad_escape",
        1,
        11,
        "line 1, column 11: found the escape `\\u12` in a string, expected \\u and four hex digits",
        "字符串中的转义 `\\u12` 无效",
    ),
    "too_long": (
        _compile("x" * 10_001),
        "too_long",
        1,
        1,
        "line 1, column 1: found a rule of 10001 characters, expected at most 10000",
        "规则长 10001 个字符，最多允许 10000 个字符",
    ),
    "too_deep": (
        _compile("not " * 60 + "true"),
        "too_deep",
        1,
        1,
        "line 1, column 1: found an expression nested deeper than 48 levels, expected a simpler rule",
        "表达式嵌套超过 48 层",
    ),
    "unknown_field": (
        _compile("amont > 5", {"amount": "number", "grade": "text"}),
        "unknown_field",
        1,
        1,
        "line 1, column 1: found the unknown field `amont`, expected one of `amount`, `grade` "
        "(did you mean `amount`?)",
        "未知字段 `amont`，可用的字段：`amount`、`grade`（是否想写 `amount`？）",
    ),
    "unknown_field.in_lookup": (
        _compile("account.grad == 'A'"),
        "unknown_field",
        1,
        1,
        "line 1, column 1: found the unknown field `account.grad` in `account`, expected one of `grade` "
        "(did you mean `account.grade`?)",
        "关联 `account` 中没有字段 `account.grad`",
    ),
    "unknown_function": (
        _compile("lenn(grade) > 1"),
        "unknown_function",
        1,
        1,
        "line 1, column 1: found the unknown function `lenn`, expected one of abs, add_days, "
        "add_workdays, amount_in_words, ceil, changed, coalesce, contains, date, datetime, day, "
        "days_between, ends_with, floor, if, is_blank, len, lower, matches, max, min, month, now, old, "
        "round, starts_with, today, trim, upper, workdays_between, year "
        "(did you mean `len`?)",
        "未知函数 `lenn`",
    ),
    "not_a_lookup": (
        _compile("grade.x == 1"),
        "not_a_lookup",
        1,
        1,
        "line 1, column 1: found `grade.x`, but `grade` is a text field, expected a lookup before a dot",
        "`grade` 是文本字段",
    ),
    "unknown_relation": (
        _related("any(visits via account)"),
        "unknown_relation",
        1,
        5,
        "line 1, column 5: found the unknown related entity `visits`, expected one of `visit` "
        "(did you mean `visit`?)",
        "未知的相关实体 `visits`",
    ),
    "unknown_relation.nested": (
        _related("any(visit via account: none(visit via account))"),
        "unknown_relation",
        1,
        24,
        "line 1, column 24: found `visit` inside another `any(...)`, expected quantifiers side by side, "
        "not nested",
        "量词不能嵌套",
    ),
    "unknown_function.quantifier": (
        _related("every(visit via account)"),
        "unknown_function",
        1,
        1,
        "line 1, column 1: found the unknown quantifier `every`, expected one of any, count, none "
        "before `entity via lookup`",
        "未知量词 `every`",
    ),
    "not_a_link": (
        _related("count(visit via kind) > 1"),
        "not_a_link",
        1,
        17,
        "line 1, column 17: found `kind`, which is not a lookup of `visit` pointing at this record, "
        "expected one of `account`",
        "`visit` 的字段 `kind` 不是指向本记录的关联",
    ),
    "quantifier_body": (
        _related("any(visit via account: changed(kind))"),
        "quantifier_body",
        1,
        24,
        "line 1, column 24: found `changed()` inside `any(...)`, expected a condition on the stored "
        "values of the related records",
        "`changed()` 不能写在 `any(...)` 之内",
    ),
    "related_required": (
        lambda: rule_engine.compile("any(visit via account)", FIELDS, relations=RELATIONS).matches({}),
        "related_required",
        0,
        0,
        "found a rule over the related records of `visit`, expected a resolver of related rows "
        "(related=) or a SQL evaluation",
        "需要提供相关记录的读取函数",
    ),
    "missing_relation": (
        lambda: rule_engine.compile("any(visit via account)", FIELDS, relations=RELATIONS).to_sql(_T.c),
        "missing_relation",
        1,
        1,
        "line 1, column 1: found no table for the related entity `visit`, expected the caller to map "
        "every relation the rule quantifies over",
        "相关实体 `visit` 没有对应的数据库表",
    ),
    "arity": (
        _compile("len(grade, 1) > 1"),
        "arity",
        1,
        1,
        "line 1, column 1: found 2 argument(s) to `len`, expected 1: len(text | list) -> integer",
        "`len` 收到 2 个参数，应为 1 个参数",
    ),
    "type_mismatch": (
        _compile("amount > 'x'"),
        "type_mismatch",
        1,
        10,
        "line 1, column 10: found text, expected a number",
        "类型不符：此处是文本，应为数字",
    ),
    "type_mismatch.argument": (
        _compile("round(amount, 11) > 1"),
        "type_mismatch",
        1,
        15,
        "line 1, column 15: found an integer, expected an integer literal from 0 to 10 as argument 2 "
        "of `round`",
        "（`round` 的第 2 个参数）",
    ),
    "type_mismatch.result": (
        _compile("amount + 1", expect="date"),
        "type_mismatch",
        1,
        1,
        "line 1, column 1: found an expression of type number, expected date",
        "表达式的结果是数字，应为日期",
    ),
    "type_mismatch.condition": (
        _compile("grade", expect="boolean"),
        "type_mismatch",
        1,
        1,
        "line 1, column 1: found text, expected a condition that is true or false, such as a comparison "
        "(`==`, `>`, `in`...), `is null` or `is_blank(...)`",
        "表达式的结果是文本，此处应为条件（真或假）",
    ),
    "unknown_option": (
        _compile("stage == 'Won'", {"stage": rule_engine.Choices(["lead", "won"])}),
        "unknown_option",
        1,
        10,
        "line 1, column 10: found `'Won'`, which is not an option of `stage`, expected one of `'lead'`, "
        "`'won'` (did you mean `'won'`?)",
        "`stage` 没有选项 `'Won'`，可选的值：`'lead'`、`'won'`（是否想写 `'won'`？）",
    ),
    "unknown_name": (
        _compile("area == 'Nroth'", {"area": _AREAS}),
        "unknown_name",
        1,
        9,
        "line 1, column 9: found `Nroth`, which names no group, place or code of `area` "
        "(did you mean `'North'`?)",
        "`area` 中没有 `Nroth`，应为其中的分组名、名称或代码（是否想写 `'North'`？）",
    ),
    "unknown_name.ambiguous": (
        _compile("area in ['Springfield']", {"area": _AREAS}),
        "unknown_name",
        1,
        10,
        "line 1, column 10: found `Springfield`, which names more than one place of `area`: "
        "`'North/Springfield'`, `'South/Springfield'`; write the name above it too",
        "`Springfield` 在 `area` 中不止一处：`'North/Springfield'`、`'South/Springfield'`，"
        "请连同上一级名称一起写",
    ),
    "null_comparison": (
        _compile("amount == null"),
        "null_comparison",
        1,
        11,
        "line 1, column 11: found a comparison with null, expected `is null` or `is not null` "
        "(`== null` is never true)",
        "请改用 `is null` 或 `is not null`",
    ),
    "bad_literal": (
        _compile("date('2024-13-01') == d"),
        "bad_literal",
        1,
        6,
        "line 1, column 6: found '2024-13-01', expected an ISO date such as '2024-12-31'",
        "'2024-13-01' 不是有效的 ISO 日期",
    ),
    "regex_invalid": (
        _compile("matches(grade, '(?=a)')"),
        "regex_invalid",
        1,
        16,
        "line 1, column 16: found `(?`, expected `(` or `(?:` (no lookaround or flags) at offset 1 "
        "of the regular expression",
        "正则表达式在偏移 1 处有误：不支持 `(?`",
    ),
    "regex_invalid.too_long": (
        _compile("matches(grade, '" + "a" * 501 + "')"),
        "regex_invalid",
        1,
        16,
        "line 1, column 16: found a regular expression of 501 characters, expected at most 500",
        "正则表达式长 501 个字符",
    ),
    "regex_unsafe": (
        _compile("matches(grade, '(a+)+')"),
        "regex_unsafe",
        1,
        16,
        "line 1, column 16: found a quantified group holding a quantifier or `|`, expected a pattern "
        "without nested repetition at offset 5 of the regular expression",
        "可能匹配极慢",
    ),
    "invalid_field_map": (
        _compile("a > 1", {"a": "money"}),
        "invalid_field_map",
        0,
        0,
        "found the type 'money' for `a`, expected one of text, number, integer, boolean, date, datetime, "
        "list or a mapping for a lookup",
        "字段 `a` 的类型 'money' 无效",
    ),
    "invalid_field_map.bad_name": (
        _compile("a > 1", {"a.b": "text"}),
        "invalid_field_map",
        0,
        0,
        "found the field name 'a.b', expected a non-empty name without dots",
        "字段名 'a.b' 无效",
    ),
    "invalid_field_map.options": (
        _compile("a == 'x'", {"a": rule_engine.Choices(["x", "x"])}),
        "invalid_field_map",
        0,
        0,
        "found invalid options for `a`, expected distinct non-empty texts and labels naming one of them",
        "字段 `a` 的选项无效",
    ),
    "invalid_field_map.not_mapping": (
        _compile("a > 1", ["a"]),
        "invalid_field_map",
        0,
        0,
        "found a list as field map, expected a mapping of name to type",
        "字段映射应为",
    ),
    "sql_unsupported": (
        _sql("changed(grade)", _T.c),
        "sql_unsupported",
        1,
        1,
        "line 1, column 1: found `changed()`, which only exists while a record is being updated, "
        "expected a condition on stored values (list filters and reports run in SQL)",
        "`changed()` 只在更新记录时可用",
    ),
    "missing_column": (
        _sql("amount > 1", {}),
        "missing_column",
        1,
        1,
        "line 1, column 1: found no column for `amount`, expected the caller to map every field the "
        "rule reads",
        "字段 `amount` 没有对应的数据库列",
    ),
    "loader_required": (
        lambda: rule_engine.compile("account.grade == 'A'", FIELDS).matches({"account": 7}),
        "loader_required",
        0,
        0,
        "found the id 7 in `account`, expected a loaded record or a loader",
        "需要已加载的记录或加载器",
    ),
    "invalid_rule": (
        lambda: rule_engine.RuleSet([], FIELDS).fire("x", {}),
        "invalid_rule",
        0,
        0,
        "found the event 'x', expected one of create, update, delete",
        "事件 'x' 无效",
    ),
    "ruleset_invalid": (
        lambda: rule_engine.RuleSet(
            [{"name": "a", "when": "amont > 1"}, {"name": "b", "enabled": 1}], FIELDS
        ),
        "ruleset_invalid",
        0,
        0,
        "2 broken rule(s): rule 'a': line 1, column 1: found the unknown field `amont`, expected one of "
        "`account`, `amount`, `d`, `grade`, `n`, `tags` (did you mean `amount` or `account`?); "
        "rule 'b': found `enabled` = 1, expected true or false",
        "2 条规则有误：规则“a”：第 1 行第 1 列：未知字段 `amont`",
    ),
}


def test_a_representative_case_per_code() -> None:
    assert {case[1] for case in CASES.values()} == set(CODES)


def _raise(make: Callable[[], object]) -> rule_engine.RuleError:
    with pytest.raises(rule_engine.RuleError) as info:
        make()
    return info.value


@pytest.mark.parametrize("name", CASES)
def test_zh_and_en_messages(name: str) -> None:
    make, code, line, column, english, wording = CASES[name]
    err = _raise(make)
    assert (err.code, err.line, err.column) == (code, line, column)
    assert str(err) == english
    assert err.message("en") == err.message() == english
    zh = err.message("zh")
    assert wording in zh, zh
    if line:
        assert zh.startswith(f"第 {line} 行第 {column} 列："), zh
        assert english.startswith(f"line {line}, column {column}: ")
    prose = re.sub(r"“[^”]*”|`[^`]*`|'[^']*'|\([^)]*->[^)]*\)|[\w.]+\([^)]*\)", "", zh)
    assert not ENGLISH.search(prose), zh


def test_suggestions_and_position_in_both_languages() -> None:
    err = _raise(_compile("amount > 'x'", {"amount": "number"}))
    assert "第 1 行第 10 列" in err.message("zh") and "line 1, column 10" in err.message("en")
    err = _raise(_compile("amont > 5", {"amount": "number"}))
    assert "是否想写 `amount`？" in err.message("zh")
    assert "did you mean `amount`?" in err.message("en")


@pytest.mark.parametrize(
    ("locale", "chinese"),
    [
        ("zh", True),
        ("zh-CN", True),
        ("zh_Hant", True),
        ("ZH-tw", True),
        ("en", False),
        ("en-US", False),
        ("fr", False),
        ("", False),
    ],
)
def test_locale_picks_the_language(locale: str, chinese: bool) -> None:
    err = _raise(_compile("amount > 'x'"))
    assert bool(HAN.search(err.message(locale))) is chinese


def test_message_still_reads_as_the_bare_english_sentence() -> None:
    """Callers that format ``exc.message`` (no call) keep getting the sentence without position."""
    err = _raise(_compile("amount > 'x'"))
    assert err.message == "found text, expected a number"
    assert f"{err.message}" == "found text, expected a number"
    assert err.to_dict()["message"] == "found text, expected a number"
    assert type(err.to_dict()["message"]) is str
    assert err.to_dict()["params"] == {"found": "text", "expected": "a number"}


def test_rule_label_is_localized_too() -> None:
    err = _raise(_compile("amount > 'x'")).with_rule("审批")
    assert err.message("zh").startswith("规则“审批”：第 1 行第 10 列：类型不符")
    assert err.message("en") == str(err) == "rule '审批': line 1, column 10: found text, expected a number"


def test_an_error_built_without_its_params_falls_back_to_its_english_text() -> None:
    err = rule_engine.RuleError("something odd", code="type_mismatch", line=2, column=3)
    assert str(err) == err.message("en") == "line 2, column 3: something odd"
    assert err.message("zh") == "第 2 行第 3 列：something odd"
