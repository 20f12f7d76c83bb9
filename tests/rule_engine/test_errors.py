"""Every error kind: stable code, 1-based position, what was found and what was expected."""

from __future__ import annotations

import time

import pytest

import rule_engine

FIELDS = {
    "amount": "number",
    "grade": "text",
    "tags": "list",
    "d": "date",
    "ts": "datetime",
    "n": "integer",
    "account": {"grade": "text"},
}


@pytest.mark.parametrize(
    ("text", "code", "line", "column", "snippet"),
    [
        ("amont > 5", "unknown_field", 1, 1, "amont"),
        ("amount >", "syntax", 1, 9, "end of the rule"),
        ("amount > 5 grade", "syntax", 1, 12, "`grade`"),
        ("a < b < c", "syntax", 1, 7, "`<`"),
        ("amount $ 5", "syntax", 1, 8, "`$`"),
        ("grade == 'abc", "syntax", 1, 10, "unterminated string"),
        ("grade == '\\u12'", "bad_escape", 1, 11, "\\u"),
        ("grade == 'a\\0'", "bad_escape", 1, 12, "NUL"),
        ("grade == '\\u0000'", "bad_escape", 1, 11, "NUL"),
        ("amount > 5 and\n  nope == 1", "unknown_field", 2, 3, "nope"),
        ("lenn(grade) > 1", "unknown_function", 1, 1, "lenn"),
        ("len(grade, 1) > 1", "arity", 1, 1, "expected 1"),
        ("if(true, 1) == 1", "arity", 1, 1, "expected 3"),
        ("amount > 'x'", "type_mismatch", 1, 10, "found text, expected a number"),
        ("grade + 1 == 'a'", "type_mismatch", 1, 9, "found an integer"),
        ("d == ts", "type_mismatch", 1, 6, "date()"),
        ("amount == null", "null_comparison", 1, 11, "is null"),
        ("amount and grade", "type_mismatch", 1, 1, "boolean"),
        ("1 in tags", "type_mismatch", 1, 1, "text"),
        ("grade in []", "type_mismatch", 1, 10, "empty list"),
        ("grade in [n]", "type_mismatch", 1, 11, "literal"),
        ("grade.x == 1", "not_a_lookup", 1, 1, "lookup"),
        ("account.grad == 'A'", "unknown_field", 1, 1, "account.grad"),
        ("matches(grade, '(a+)+')", "regex_unsafe", 1, 16, "nested"),
        ("matches(grade, '(?=a)')", "regex_invalid", 1, 16, "lookaround"),
        ("matches(grade, grade)", "type_mismatch", 1, 16, "literal"),
        ("date('2024-13-01') == d", "bad_literal", 1, 6, "ISO date"),
        ("round(amount, 11) > 1", "type_mismatch", 1, 15, "0 to 10"),
        ("n % 1.5 == 1", "type_mismatch", 1, 5, "integer"),
        ("-true == 1", "type_mismatch", 1, 2, "found a boolean, expected a number"),
        ("changed(account.grade)", "type_mismatch", 1, 9, "field name"),
    ],
)
def test_error_reports_code_position_and_expectation(
    text: str, code: str, line: int, column: int, snippet: str
) -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile(text, FIELDS)
    err = info.value
    assert (err.code, err.line, err.column) == (code, line, column), str(err)
    assert snippet in str(err)
    assert isinstance(err, ValueError)
    assert err.to_dict()["code"] == code


def test_unknown_field_suggests_nearest() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("amont > 5", FIELDS)
    assert info.value.suggestions[0] == "amount"
    assert "did you mean `amount`" in str(info.value)


def test_unknown_lookup_field_suggests_full_path() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("account.grad == 'A'", FIELDS)
    assert info.value.suggestions == ["account.grade"]


def test_unknown_function_suggests_nearest() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("lenn(grade) > 1", FIELDS)
    assert "len" in info.value.suggestions


def test_changed_and_old_are_refused_in_sql() -> None:
    import sqlalchemy as sa

    t = sa.table("t", sa.column("grade"))
    expr = rule_engine.compile("changed(grade) and old(grade) == 'A'", FIELDS)
    with pytest.raises(rule_engine.RuleError) as info:
        expr.to_sql(dict(t.c.items()))
    assert (info.value.code, info.value.line, info.value.column) == ("sql_unsupported", 1, 1)


def test_expect_refuses_other_result_types() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("amount + 1", FIELDS, expect="boolean")
    assert info.value.code == "type_mismatch"


def test_invalid_field_map_is_refused() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("a > 1", {"a": "money"})
    assert info.value.code == "invalid_field_map"


def test_pathological_input_is_refused_quickly() -> None:
    started = time.perf_counter()
    for text, code in [
        ("a" * 1_000_000, "too_long"),
        ("(" * 5000 + "1" + ")" * 5000, "too_long"),
        ("not " * 200 + "true", "too_deep"),
        ("-" * 3000 + "1", "too_deep"),
        (" + ".join(["n"] * 400) + " > 1", "too_deep"),
        ("'" + "x" * 2_000_000 + "'", "too_long"),
    ]:
        with pytest.raises(rule_engine.RuleError) as info:
            rule_engine.compile(text, FIELDS)
        assert info.value.code == code, text[:20]
    assert time.perf_counter() - started < 2


def test_deepest_allowed_nesting_compiles() -> None:
    depth = rule_engine.MAX_DEPTH - 4
    text = "if(true, " * depth + "1" + ", 2)" * depth + " == 1"
    assert rule_engine.compile(text, FIELDS).matches({})
    text = "not " * (rule_engine.MAX_DEPTH - 3) + "true"
    rule_engine.compile(text, FIELDS)


def test_regex_on_long_input_stays_fast() -> None:
    expr = rule_engine.compile("matches(grade, 'a*a*b')", FIELDS)
    started = time.perf_counter()
    assert not expr.matches({"grade": "a" * 1000})
    assert not expr.matches({"grade": "a" * 100_000 + "b"})
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("matches(grade, 'a*b+c*')", FIELDS)
    assert info.value.code == "regex_unsafe"
    assert time.perf_counter() - started < 2
