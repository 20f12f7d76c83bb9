"""Every error kind: stable code, 1-based position, what was found and what was expected."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    ("text", "found"), [("grade", "text"), ("1", "an integer"), ("amount + 1", "a number")]
)
def test_a_condition_must_be_boolean(text: str, found: str) -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile(text, FIELDS, expect="boolean")
    err = info.value
    assert (err.code, err.line, err.column) == ("type_mismatch", 1, 1)
    assert str(err).startswith(f"line 1, column 1: found {found}, expected a condition that is true or false")
    assert "比较" in err.message("zh")
    for good in ("true", "grade == 'A'", "is_blank(grade)", "if(n > 1, true, null)"):
        assert rule_engine.compile(good, FIELDS, expect="boolean").type == "boolean"
    assert rule_engine.compile(text, FIELDS).type != "boolean"  # a formula may be any type


CHOICE_FIELDS = {
    "stage": rule_engine.Choices(["lead", "won", "lost"], labels={"Won": "won", "赢单": "won"}),
    "colours": rule_engine.Choices(["red", "green"], multiple=True),
    "name": "text",
    "account": {"grade": rule_engine.Choices(["A", "B"])},
}


@pytest.mark.parametrize(
    ("text", "column", "found", "suggestion"),
    [
        ("stage == 'Won'", 10, "'Won'", "'won'"),
        ("'WON' != stage", 1, "'WON'", "'won'"),
        ("stage == '赢单'", 10, "'赢单'", "'won'"),
        ("stage in ['won', 'lsot']", 18, "'lsot'", "'lost'"),
        ("stage not in ['nothing like it']", 15, "'nothing like it'", None),
        ("'gren' in colours", 1, "'gren'", "'green'"),
        ("'red' not in colours or 'blue' in colours", 25, "'blue'", None),
        ("contains(colours, 'Red')", 19, "'Red'", "'red'"),
        ("account.grade == 'a'", 18, "'a'", "'A'"),
        ("name == 'x' and\n  stage == 'o\\'k'", 12, "'o\\'k'", None),
    ],
)
def test_comparing_a_select_with_a_value_that_is_no_option_is_refused(
    text: str, column: int, found: str, suggestion: str | None
) -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile(text, CHOICE_FIELDS)
    err = info.value
    assert err.code == "unknown_option" and err.column == column, str(err)
    assert err.params["found"] == found
    assert err.suggestions == ([suggestion] if suggestion else [])
    field = "colours" if "colours" in text else "account.grade" if "account" in text else "stage"
    assert f"not an option of `{field}`, expected one of `" in str(err)
    if suggestion:
        assert str(err).endswith(f"(did you mean `{suggestion}`?)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stage == 'won'", True),
        ("stage != 'lead' and stage in ['won', 'lost']", True),
        ("'red' in colours and contains(colours, 'green')", False),
        ("contains(stage, 'o') and starts_with(stage, 'W') and stage > 'a'", False),
        ("lower(stage) == 'Won' or name == 'Won'", True),
        ("account.grade == 'A' and stage is not null and is_blank(colours)", True),
    ],
)
def test_options_and_other_text_operations_still_compile(text: str, expected: bool) -> None:
    expr = rule_engine.compile(text, CHOICE_FIELDS, expect="boolean")
    record = {"stage": "won", "colours": None, "name": "Won", "account": {"grade": "A"}}
    assert expr.matches(record) is expected


def test_choices_are_checked_and_key_the_cache() -> None:
    for bad in (
        rule_engine.Choices([]),
        rule_engine.Choices(["a", ""]),
        rule_engine.Choices(["a"], labels={"A": "b"}),
    ):
        with pytest.raises(rule_engine.RuleError) as info:
            rule_engine.compile("x == 'a'", {"x": bad})
        assert (info.value.code, info.value.params["reason"]) == ("invalid_field_map", "options")
    a = rule_engine.compile("x == 'a'", {"x": rule_engine.Choices(["a", "b"])})
    assert rule_engine.compile("x == 'a'", {"x": rule_engine.Choices(["a", "b"])}) is a
    assert rule_engine.compile("x == 'a'", {"x": "text"}) is not a
    assert rule_engine.Choices(["a"]) == rule_engine.Choices(("a",))


def test_invalid_field_map_is_refused() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("a > 1", {"a": "money"})
    assert info.value.code == "invalid_field_map"


def test_pathological_input_is_refused_by_its_size_or_depth() -> None:
    """Refused by the length and depth limits, not by running out of stack or patience."""
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


def test_deepest_allowed_nesting_compiles() -> None:
    depth = rule_engine.MAX_DEPTH - 4
    text = "if(true, " * depth + "1" + ", 2)" * depth + " == 1"
    assert rule_engine.compile(text, FIELDS).matches({})
    text = "not " * (rule_engine.MAX_DEPTH - 3) + "true"
    rule_engine.compile(text, FIELDS)


def test_regex_on_long_input_answers_and_nested_repetition_is_refused() -> None:
    """Patterns whose backtracking explodes are refused at compile time; bounded ones answer."""
    expr = rule_engine.compile("matches(grade, 'a*a*b')", FIELDS)
    assert not expr.matches({"grade": "a" * 1000})
    assert not expr.matches({"grade": "a" * 100_000 + "b"})
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("matches(grade, 'a*b+c*')", FIELDS)
    assert info.value.code == "regex_unsafe"
