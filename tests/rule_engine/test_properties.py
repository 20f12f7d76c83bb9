"""Properties: Python ``matches`` selects exactly the rows SQL selects, on SQLite and PostgreSQL;
and any text at all either compiles or raises RuleError.

Numbers are dyadic (multiples of 0.25) and divisors literal powers of two or zero, so SQLite's
REAL arithmetic is exact and the comparison tests meaning rather than float rounding.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rule_engine
from tests.rule_engine.conftest import FIELDS, NOW, load, select_ids

ALPHABET = "aBzZ é中 \t_1"
texts = st.text(alphabet=ALPHABET, max_size=5)
dyadic = st.integers(-4000, 4000).map(lambda q: Decimal(q) / 4)
integers = st.one_of(st.integers(-1000, 1000), st.sampled_from([0, -1, 1, 99999]))
dates = st.one_of(
    st.dates(date(1990, 1, 1), date(2030, 12, 31)),
    st.sampled_from([date(1000, 1, 1), date(2999, 12, 31), NOW.date()]),
)
datetimes = st.datetimes(datetime(1990, 1, 1), datetime(2030, 12, 31))

FIELD_VALUES: dict[str, Any] = {
    "text": texts,
    "number": st.one_of(dyadic, dyadic.map(float)),
    "integer": integers,
    "boolean": st.booleans(),
    "date": dates,
    "datetime": st.one_of(
        datetimes,
        datetimes.map(lambda d: d.replace(tzinfo=UTC)),
        datetimes.map(lambda d: (d.replace(tzinfo=UTC)).astimezone(datetime.now().astimezone().tzinfo)),
    ),
    "list": st.lists(st.sampled_from(["vip", "a", "华东", ""]), max_size=3),
}


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    return {name: draw(st.one_of(st.none(), FIELD_VALUES[kind])) for name, kind in FIELDS.items()}


def _fields_of(kind: str) -> list[str]:
    return [n for n, k in FIELDS.items() if k == kind]


def _lit(draw: st.DrawFn, kind: str) -> str:
    if kind == "text":
        value = draw(texts)
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\t", "\\t") + "'"
    if kind == "integer":
        return str(draw(integers))
    if kind == "number":
        return str(draw(dyadic))
    if kind == "date":
        return f"date('{draw(dates).isoformat()}')"
    if kind == "datetime":
        return f"datetime('{draw(datetimes).isoformat()}')"
    return draw(st.sampled_from(["true", "false"]))


@st.composite
def expressions(draw: st.DrawFn, kind: str, depth: int = 0) -> str:
    leaf = depth >= 3 or draw(st.integers(0, 3)) == 0
    if kind == "boolean":
        options = ["compare", "null", "in", "tags", "field", "text_fn"]
        if not leaf:
            options += ["and", "or", "not", "blank", "if"]
        choice = draw(st.sampled_from(options))
        if choice == "compare":
            sub_kind = draw(st.sampled_from(["integer", "number", "text", "date", "datetime"]))
            op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]))
            return f"({draw(expressions(sub_kind, depth + 1))} {op} {draw(expressions(sub_kind, depth + 1))})"
        if choice == "null":
            sub_kind = draw(st.sampled_from(["integer", "number", "text", "date", "datetime", "boolean"]))
            neg = draw(st.sampled_from(["is null", "is not null"]))
            return f"({draw(expressions(sub_kind, depth + 1))} {neg})"
        if choice == "in":
            sub_kind = draw(st.sampled_from(["integer", "text", "number"]))
            items = ", ".join(_lit(draw, sub_kind) for _ in range(draw(st.integers(1, 3))))
            neg = draw(st.sampled_from(["in", "not in"]))
            return f"({draw(expressions(sub_kind, depth + 1))} {neg} [{items}])"
        if choice == "tags":
            neg = draw(st.sampled_from(["in", "not in"]))
            return f"({draw(expressions('text', depth + 1))} {neg} tags)"
        if choice == "field":
            return "b"
        if choice == "text_fn":
            fn = draw(st.sampled_from(["contains", "starts_with", "ends_with", "matches"]))
            if fn == "matches":
                pattern = draw(st.sampled_from(["^a", "z$", "[aB]+", "\\\\s", "^$", "中|é"]))
                return f"matches({draw(expressions('text', depth + 1))}, '{pattern}')"
            return f"{fn}({draw(expressions('text', depth + 1))}, {_lit(draw, 'text')})"
        if choice in ("and", "or"):
            return (
                f"({draw(expressions('boolean', depth + 1))} {choice} "
                f"{draw(expressions('boolean', depth + 1))})"
            )
        if choice == "not":
            return f"(not {draw(expressions('boolean', depth + 1))})"
        if choice == "blank":
            sub_kind = draw(st.sampled_from(["text", "list", "integer"]))
            arg = "tags" if sub_kind == "list" else draw(expressions(sub_kind, depth + 1))
            return f"is_blank({arg})"
        return (
            f"if({draw(expressions('boolean', depth + 1))}, "
            f"{draw(expressions('boolean', depth + 1))}, {draw(expressions('boolean', depth + 1))})"
        )
    if leaf:
        if draw(st.booleans()) and kind != "boolean":
            return _lit(draw, kind)
        if kind == "date" and draw(st.booleans()):
            return "today()"
        if kind == "datetime" and draw(st.booleans()):
            return "now()"
        return draw(st.sampled_from(_fields_of(kind)))
    sub = lambda k=kind: draw(expressions(k, depth + 1))  # noqa: E731
    if kind in ("integer", "number"):
        options = ["+", "-", "*", "neg", "abs", "coalesce", "min", "if"]
        options += ["len", "year", "days", "%"] if kind == "integer" else ["/", "round", "floor"]
        choice = draw(st.sampled_from(options))
        if choice in ("+", "-", "*"):
            return f"({sub()} {choice} {sub()})"
        if choice == "/":
            return f"({sub()} / {draw(st.sampled_from(['0', '2', '4', '-2', '0.5']))})"
        if choice == "%":
            return f"({sub()} % {sub()})"
        if choice == "neg":
            return f"(-{sub()})"
        if choice in ("abs",):
            return f"abs({sub()})"
        if choice == "round":
            return f"round({sub()}, {draw(st.integers(0, 2))})"
        if choice == "floor":
            return f"{draw(st.sampled_from(['floor', 'ceil']))}({sub()})"
        if choice == "coalesce":
            return f"coalesce({sub()}, {_lit(draw, kind)})"
        if choice == "min":
            return f"{draw(st.sampled_from(['min', 'max']))}({sub()}, {sub()})"
        if choice == "if":
            return f"if({sub('boolean')}, {sub()}, {sub()})"
        if choice == "len":
            return f"len({draw(st.sampled_from(['tags', sub('text')]))})"
        if choice == "year":
            fn = draw(st.sampled_from(["year", "month", "day"]))
            return f"{fn}({sub(draw(st.sampled_from(['date', 'datetime'])))})"
        return f"days_between({sub('date')}, {sub(draw(st.sampled_from(['date', 'datetime'])))})"
    if kind == "text":
        choice = draw(st.sampled_from(["+", "lower", "upper", "trim", "coalesce", "min", "if"]))
        if choice == "+":
            return f"({sub()} + {sub()})"
        if choice in ("lower", "upper", "trim"):
            return f"{choice}({sub()})"
        if choice == "coalesce":
            return f"coalesce({sub()}, {_lit(draw, 'text')})"
        if choice == "min":
            return f"{draw(st.sampled_from(['min', 'max']))}({sub()}, {sub()})"
        return f"if({sub('boolean')}, {sub()}, {sub()})"
    if kind == "date":
        choice = draw(st.sampled_from(["add", "date", "max"]))
        if choice == "add":
            return f"add_days({sub()}, {draw(st.integers(-400, 400))})"
        if choice == "date":
            return f"date({sub('datetime')})"
        return f"max({sub()}, {sub()})"
    choice = draw(st.sampled_from(["add", "datetime"]))
    if choice == "add":
        return f"add_days({sub()}, {draw(st.integers(-400, 400))})"
    return f"datetime({sub('date')})"


PROPERTY_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(text=expressions("boolean"), rows=st.lists(records(), min_size=1, max_size=6))
def test_python_and_sql_select_the_same_rows(module_db: sa.Engine, text: str, rows: list) -> None:
    expr = rule_engine.compile(text, FIELDS)
    expected = {i for i, row in enumerate(rows) if expr.matches(row, now=NOW)}
    for row in rows:
        assert expr.evaluate(row, now=NOW) == expr.interpret(row, now=NOW)
    with module_db.begin() as conn:
        load(conn, rows)
        assert select_ids(conn, expr) == expected, text


GRAMMAR_PIECES = [
    "a",
    "b",
    "1",
    "2.5",
    "'x'",
    '"y',
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    "==",
    "<",
    "+",
    "-",
    "*",
    "/",
    "%",
    "and",
    "or",
    "not",
    "in",
    "is",
    "null",
    "true",
    "len",
    "if",
    "matches",
    "date",
    "金额",
    "\\",
    " ",
    "\n",
    "'\\u12'",
    "'(a+)+'",
]


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(GRAMMAR_PIECES), max_size=25).map(" ".join)))
def test_any_text_compiles_or_raises_rule_error(text: str) -> None:
    fields = {"a": "integer", "b": "text", "金额": "number", "x": {"y": "text"}}
    try:
        expr = rule_engine.compile(text, fields)
    except rule_engine.RuleError as exc:
        assert exc.code and exc.line >= 0 and exc.column >= 0
        return
    expr.evaluate({"a": 1, "b": "x", "金额": 2.5}, now=NOW)
    expr.to_sql(
        {
            "a": sa.column("a"),
            "b": sa.column("b"),
            "金额": sa.column("m"),
            "x.y": sa.column("xy"),
            "x": sa.column("x"),
        }
    )


def test_aware_datetimes_compare_as_instants() -> None:
    expr = rule_engine.compile("ts == datetime('2024-01-01T00:00:00')", FIELDS)
    shanghai = datetime(2024, 1, 1, tzinfo=UTC).astimezone(timezone(timedelta(hours=8)))
    assert expr.matches({"ts": shanghai})
    assert expr.matches({"ts": datetime(2024, 1, 1)})
