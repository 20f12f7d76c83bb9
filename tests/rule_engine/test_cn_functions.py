"""大写金额 and working days in the rule DSL, with expectations worked out by hand from the
Ministry of Finance's rules and the State Council's 2026 holiday notice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import rule_engine
from rule_engine.function_docs import DOC_PATH, functions_table

WORDS = rule_engine.compile("amount_in_words(amount)", {"amount": "number"})


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("10000.00", "壹万元整"),
        ("100010.05", "壹拾万零壹拾元零伍分"),
        ("0.50", "伍角整"),  # 整 follows an amount that ends at 角 (article 52)
        ("1000000001", "壹拾亿零壹元整"),
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),  # the article's own example
        ("107000.53", "壹拾万柒仟元零伍角叁分"),  # the article's own example
        ("10", "壹拾元整"),
        ("0.05", "伍分"),
        ("0", "零元整"),
        ("100010000", "壹亿零壹万元整"),
        ("120000000", "壹亿贰仟万元整"),
        ("1010000", "壹佰零壹万元整"),
        ("-1234.56", "负壹仟贰佰叁拾肆元伍角陆分"),
        ("-0.50", "负伍角整"),
        ("0.005", "壹分"),  # rounded half up to the fen
        ("9999999999999999.99", "玖仟玖佰玖拾玖万亿玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amounts_in_words_follow_accountants_rules(amount: str, words: str) -> None:
    record = {"amount": Decimal(amount)}
    assert WORDS.evaluate(record) == words
    assert WORDS.interpret(record) == words


@pytest.mark.parametrize("amount", [None, Decimal("1e16"), Decimal("-1e17")])
def test_amounts_in_words_are_null_for_null_and_past_the_largest_section(amount: Decimal | None) -> None:
    assert WORDS.evaluate({"amount": amount}) is None


def test_amount_in_words_reads_an_integer_field_and_refuses_text() -> None:
    assert rule_engine.compile("amount_in_words(n)", {"n": "integer"}).evaluate({"n": 20}) == "贰拾元整"
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("amount_in_words(t)", {"t": "text"})
    assert info.value.code == "type_mismatch"


def test_amount_in_words_is_refused_in_sql_with_its_own_reason() -> None:
    expression = rule_engine.compile("amount_in_words(amount) == '壹元整'", {"amount": "number"})
    with pytest.raises(rule_engine.RuleError) as info:
        expression.to_sql(sa.table("t", sa.column("amount")).c)
    assert (info.value.code, info.value.line, info.value.column) == ("sql_unsupported", 1, 1)
    assert "列表筛选和报表" in info.value.message("zh") and "formulas" in str(info.value)


ADD = rule_engine.compile("add_workdays(d, n)", {"d": "date", "n": "integer"})
BETWEEN = rule_engine.compile("workdays_between(a, b)", {"a": "date", "b": "date"})

#: (day, n, expected) from the 2026 notice: 国庆 10/1-10/7 off and 9/20, 10/10 on; 春节 2/15-2/23
#: off and 2/14, 2/28 on; 元旦 1/1-1/3 off and 1/4 on.
ADDITIONS = [
    (date(2026, 9, 30), 1, date(2026, 10, 8)),
    (date(2026, 10, 8), -1, date(2026, 9, 30)),
    (date(2026, 10, 3), -1, date(2026, 9, 30)),
    (date(2026, 10, 3), 1, date(2026, 10, 8)),
    (date(2026, 10, 9), 1, date(2026, 10, 10)),  # a Saturday made a working day
    (date(2026, 2, 13), 1, date(2026, 2, 14)),
    (date(2026, 2, 14), 1, date(2026, 2, 24)),
    (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Friday -> the make-up Sunday
    (date(2026, 1, 3), 0, date(2026, 1, 3)),
    (date(2025, 12, 31), 2, date(2026, 1, 5)),
    (date(2026, 11, 27), 5, date(2026, 12, 4)),  # an ordinary week
]

#: 2026 has 261 weekdays; 19 of them are holidays and 6 weekend days are working days: 248.
BETWEENS = [
    (date(2025, 12, 31), date(2026, 12, 31), 248),
    (date(2026, 9, 30), date(2026, 10, 9), 2),
    (date(2026, 10, 9), date(2026, 9, 30), -2),
    (date(2026, 10, 1), date(2026, 10, 7), 0),
    (date(2026, 2, 13), date(2026, 2, 28), 6),  # 2/14, 2/24-2/27, 2/28
]


@pytest.mark.parametrize(("day", "n", "expected"), ADDITIONS)
def test_add_workdays_skips_holidays_and_counts_make_up_days(day: date, n: int, expected: date) -> None:
    assert ADD.evaluate({"d": day, "n": n}) == expected
    assert ADD.interpret({"d": day, "n": n}) == expected


@pytest.mark.parametrize(("a", "b", "expected"), BETWEENS)
def test_workdays_between_counts_after_the_first_up_to_the_second(a: date, b: date, expected: int) -> None:
    assert BETWEEN.evaluate({"a": a, "b": b}) == expected


@pytest.mark.parametrize(
    "record",
    [
        {"d": None, "n": 1},
        {"d": date(2026, 1, 5), "n": None},
        {"d": date(2014, 12, 31), "n": 1},
        {"d": date(2040, 12, 28), "n": 10},  # the answer would lie past the calendar
        {"d": date(2015, 1, 5), "n": -10},
    ],
)
def test_add_workdays_is_null_for_null_and_outside_the_calendar(record: dict[str, object]) -> None:
    assert ADD.evaluate(record) is None


def test_add_workdays_undoes_workdays_between_on_a_working_day() -> None:
    start = date(2026, 1, 1)
    for b in (date(2026, 2, 14), date(2026, 10, 8), date(2027, 3, 1)):
        assert ADD.evaluate({"d": start, "n": BETWEEN.evaluate({"a": start, "b": b})}) == b


def test_an_installed_calendar_replaces_the_bundled_one() -> None:
    own = rule_engine.calendar_from([(date(2026, 11, 30), False, "公司日")])
    rule_engine.use_calendar(own)
    try:
        assert ADD.evaluate({"d": date(2026, 11, 27), "n": 1}) == date(2026, 12, 1)
    finally:
        rule_engine.use_calendar(None)
    assert ADD.evaluate({"d": date(2026, 11, 27), "n": 1}) == date(2026, 11, 30)


def test_workday_functions_take_dates_not_datetimes() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("add_workdays(at, 1)", {"at": "datetime"})
    assert info.value.code == "type_mismatch"
    assert rule_engine.compile("add_workdays(date(at), 1)", {"at": "datetime"}).type == "date"


def test_the_committed_function_table_is_generated() -> None:
    text = (DOC_PATH if DOC_PATH.is_absolute() else _root() / DOC_PATH).read_text("utf-8")
    assert functions_table() in text, "run: python -m rule_engine.function_docs"


def _root() -> Path:
    return Path(__file__).resolve().parents[2]
