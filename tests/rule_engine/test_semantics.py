"""One (rule, records, expected) table run through Python, the reference interpreter and SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

import rule_engine
from rule_engine import sql_dialects as d
from tests.rule_engine.conftest import FIELDS, NOW, load, select_ids

RECORDS: dict[str, dict] = {
    "empty": {},
    "alice": {
        "t": "Alice",
        "t2": "  中文 ",
        "n": Decimal("500000.5"),
        "n2": 0.1,
        "i": 7,
        "i2": -2,
        "b": True,
        "d": date(2024, 6, 10),
        "d2": date(2024, 6, 15),
        "ts": datetime(2024, 6, 15, 8, 0),
        "tags": ["vip", "华东"],
    },
    "bob": {
        "t": "bob",
        "t2": "",
        "n": 0,
        "n2": Decimal("0.3"),
        "i": 0,
        "i2": 3,
        "b": False,
        "d": date(1000, 1, 1),
        "d2": None,
        "ts": datetime(2024, 6, 14, 23, 0, tzinfo=timezone(timedelta(hours=-8))),
        "tags": [],
    },
    "cara": {
        "t": "",
        "t2": None,
        "n": -12.25,
        "n2": None,
        "i": -7,
        "i2": 2,
        "b": None,
        "d": date(2999, 12, 31),
        "d2": date(2024, 1, 1),
        "ts": None,
        "tags": None,
    },
    "dan": {
        "t": "É",
        "t2": "a\tb",
        "n": 600000,
        "n2": 100,
        "i": None,
        "i2": 0,
        "b": True,
        "d": None,
        "d2": date(2024, 6, 20),
        "ts": datetime(2023, 1, 1, 0, 0, 0, 1),
        "tags": ["a"],
    },
}

CASES: list[tuple[str, set[str]]] = [
    ("t == 'Alice'", {"alice"}),
    ("t != 'Alice'", {"bob", "cara", "dan"}),
    ("t < 'a'", {"alice", "cara"}),
    ("t >= 'a'", {"bob", "dan"}),
    ("t > 'Z'", {"bob", "dan"}),
    ("n > 500000", {"alice", "dan"}),
    ("n >= 500000.5", {"alice", "dan"}),
    ("n == 500000.5", {"alice"}),
    ("n2 == 0.1", {"alice"}),
    ("n2 + 0.2 == 0.3", {"alice"}),
    ("n2 * 3 == 0.9", {"bob"}),
    ("n <= 0", {"bob", "cara"}),
    ("n < -12", {"cara"}),
    ("i == 7", {"alice"}),
    ("i + i2 == 5", {"alice"}),
    ("i - i2 == 9", {"alice"}),
    ("i * i2 == -14", {"alice", "cara"}),
    ("i / i2 == -3.5", {"alice", "cara"}),
    ("i / i2 is null", {"dan", "empty"}),
    ("i / 0 is null", {"empty", "alice", "bob", "cara", "dan"}),
    ("i % i2 == 1", {"alice"}),
    ("i % i2 == -1", {"cara"}),
    ("i % 0 is null", {"empty", "alice", "bob", "cara", "dan"}),
    ("-i == 7", {"cara"}),
    ("i in [0, 7]", {"alice", "bob"}),
    ("i not in [0, 7]", {"cara"}),
    ("n in [0, 600000]", {"bob", "dan"}),
    ("t in ['Alice', '']", {"alice", "cara"}),
    ("'vip' in tags", {"alice"}),
    ("'vip' not in tags", {"bob", "dan"}),
    ("'华东' in tags", {"alice"}),
    ("b", {"alice", "dan"}),
    ("not b", {"bob"}),
    ("b == true", {"alice", "dan"}),
    ("b != true", {"bob"}),
    ("b is null", {"cara", "empty"}),
    ("b is not null", {"alice", "bob", "dan"}),
    ("n > 0 and b", {"alice", "dan"}),
    ("n > 0 or b", {"alice", "dan"}),
    ("not (n > 0 and b)", {"bob", "cara"}),
    ("not (i > 0 or b)", {"bob"}),
    ("i > 0 or i is null", {"alice", "dan", "empty"}),
    ("t + '!' == 'Alice!'", {"alice"}),
    ("t + t2 == 'É' + 'a\\tb'", {"dan"}),
    ("t2 + 'x' is null", {"cara", "empty"}),
    ("d < date('2024-06-11')", {"alice", "bob"}),
    ("d == d2", set()),
    ("d2 > today()", {"dan"}),
    ("d2 == today()", {"alice"}),
    ("ts > now()", set()),
    ("ts < datetime('2024-06-15T08:00:01')", {"bob", "dan", "alice"}),
    ("ts == datetime('2024-06-15T07:00:00')", {"bob"}),
    ("ts == datetime('2024-06-15T15:00:00+08:00')", {"bob"}),
    ("ts > datetime('2024-06-15T07:30:00')", {"alice"}),
    ("ts != datetime('2024-06-15T08:00:00')", {"bob", "dan"}),
    ("ts >= datetime('2024-06-15T08:00:00') or ts is null", {"alice", "cara", "empty"}),
    ("is_blank(ts) or ts < datetime('2024-06-15T08:00:01')", {"alice", "bob", "cara", "dan", "empty"}),
    ("date(ts) == date('2024-06-15')", {"alice", "bob"}),
    ("datetime(d2) == datetime('2024-06-15T00:00:00')", {"alice"}),
    ("datetime(d2) < ts", {"alice"}),
    ("year(d) == 1000", {"bob"}),
    ("month(ts) == 6 and day(ts) == 15", {"alice", "bob"}),
    ("day(d2) == 20", {"dan"}),
    ("days_between(d, d2) == 5", {"alice"}),
    ("days_between(d2, today()) > 100", {"cara"}),
    ("days_between(ts, today()) == 0", {"alice", "bob"}),
    ("add_days(d, 5) == d2", {"alice"}),
    ("add_days(d2, -5) == date('2024-06-10')", {"alice"}),
    ("add_days(ts, 1) == datetime('2024-06-16T08:00:00')", {"alice"}),
    ("add_days(d, i2) == date('2024-06-08')", {"alice"}),
    ("len(t) == 5", {"alice"}),
    ("len(t2) == 0", {"bob"}),
    ("len(tags) == 2", {"alice"}),
    ("len(tags) == 0", {"bob"}),
    ("lower(t) == 'alice'", {"alice"}),
    ("upper(t) == 'BOB'", {"bob"}),
    ("lower(t) == 'é'", {"dan"}),
    ("trim(t2) == '中文'", {"alice"}),
    ("trim(t2) == 'a\\tb'", {"dan"}),
    ("contains(t, 'li')", {"alice"}),
    ("contains(t, '')", {"alice", "bob", "cara", "dan"}),
    ("contains(tags, 'a')", {"dan"}),
    ("starts_with(t, 'Al')", {"alice"}),
    ("starts_with(t, '')", {"alice", "bob", "cara", "dan"}),
    ("ends_with(t, 'ob')", {"bob"}),
    ("ends_with(t, 'xAlice')", set()),
    ("matches(t, '^[A-Z]')", {"alice"}),
    ("matches(t, 'l+i')", {"alice"}),
    ("matches(t2, '\\s')", {"alice", "dan"}),
    ("matches(t2, '^$')", {"bob"}),
    ("matches(t, '^(?:bo|al)')", {"bob"}),
    ("abs(n) == 12.25", {"cara"}),
    ("abs(i) == 7", {"alice", "cara"}),
    ("round(n) == 500001", {"alice"}),
    ("round(n) == -12", {"cara"}),
    ("round(n, 1) == -12.3", {"cara"}),
    ("round(i) == 7", {"alice"}),
    ("floor(n) == -13", {"cara"}),
    ("ceil(n) == -12", {"cara"}),
    ("floor(n2) == 0", {"alice", "bob"}),
    ("ceil(n2) == 1", {"alice", "bob"}),
    ("min(i, i2) == -2", {"alice"}),
    ("min(i, i2) == 0", {"bob", "dan"}),
    ("max(i, i2) == 2", {"cara"}),
    ("max(n, n2) == 600000", {"dan"}),
    ("min(t, 'B') == 'Alice'", {"alice"}),
    ("min(t, 'B') == 'B'", {"bob", "dan", "empty"}),
    ("max(d, d2) == date('2999-12-31')", {"cara"}),
    ("coalesce(i, 99) == 99", {"dan", "empty"}),
    ("coalesce(t2, t, 'x') == 'x'", {"empty"}),
    ("is_blank(t2)", {"bob", "cara", "empty"}),
    ("is_blank(tags)", {"bob", "cara", "empty"}),
    ("is_blank(i)", {"dan", "empty"}),
    ("not is_blank(t)", {"alice", "bob", "dan"}),
    ("is_blank(t2) or ends_with(t2, 'b')", {"bob", "cara", "dan", "empty"}),
    ("not is_blank(t2) and starts_with(t2, 'a')", {"dan"}),
    ("not (is_blank(t2) or ends_with(t2, 'b'))", {"alice"}),
    ("is_blank(lower(t2)) or contains(t2, '中')", {"alice", "bob", "cara", "empty"}),
    ("is_blank(tags) or 'vip' in tags", {"alice", "bob", "cara", "empty"}),
    ("t2 is null or len(t2) == 0", {"bob", "cara", "empty"}),
    ("if(is_blank(t), 'blank', t) == 'blank'", {"cara", "empty"}),
    ("if(b, i, 100) == 100", {"bob", "cara", "empty"}),
    ("if(n > 0, 'pos', 'other') == 'pos'", {"alice", "dan"}),
    ("if(n > 0, null, 1) is null", {"alice", "dan"}),
    ("(i > 0) == b", {"alice", "bob"}),
    ("金额 > 1", set()),
]

UNICODE_FIELDS = {**FIELDS, "金额": "number"}


def _ids(names: set[str]) -> set[int]:
    order = list(RECORDS)
    return {order.index(name) for name in names}


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_python_matches_expected(text: str, expected: set[str]) -> None:
    expr = rule_engine.compile(text, UNICODE_FIELDS)
    got = {name for name, rec in RECORDS.items() if expr.matches(rec, now=NOW)}
    assert got == expected, expr.source
    for record in RECORDS.values():
        assert expr.evaluate(record, now=NOW) == expr.interpret(record, now=NOW)


def test_sql_selects_the_same_rows_on_both_backends(rule_db: sa.Engine) -> None:
    with rule_db.begin() as conn:
        load(conn, list(RECORDS.values()))
        for text, expected in CASES:
            if "金额" in text:
                continue
            expr = rule_engine.compile(text, FIELDS)
            assert select_ids(conn, expr) == _ids(expected), text


def test_unicode_field_name_reads_the_record() -> None:
    expr = rule_engine.compile("金额 > 500000", {"金额": "number"})
    assert expr.matches({"金额": Decimal("500000.01")})
    assert expr.fields == frozenset({"金额"})


def test_evaluate_returns_null_when_unknown() -> None:
    expr = rule_engine.compile("amount > 500000 and grade == 'A'", {"amount": "number", "grade": "text"})
    assert expr.evaluate({"amount": 600000, "grade": "A"}) is True
    assert expr.evaluate({"amount": None, "grade": "A"}) is None
    assert expr.evaluate({"amount": None, "grade": "B"}) is False
    assert expr.matches({"amount": None, "grade": "A"}) is False


def test_money_compares_exactly_across_int_float_and_decimal() -> None:
    expr = rule_engine.compile("price * qty == 0.3", {"price": "number", "qty": "integer"})
    assert expr.matches({"price": 0.1, "qty": 3})
    assert expr.matches({"price": Decimal("0.1"), "qty": 3})
    assert not expr.matches({"price": 0.1, "qty": 2})
    total = rule_engine.compile("a + b", {"a": "number", "b": "number"})
    assert total.evaluate({"a": 0.1, "b": 0.2}) == Decimal("0.3")
    assert total.evaluate({"a": 1, "b": Decimal("0.25")}) == Decimal("1.25")


def test_missing_keys_read_as_null() -> None:
    expr = rule_engine.compile("a > 1 or b is null", {"a": "integer", "b": "text"})
    assert expr.matches({"a": 2})
    assert expr.matches({})
    assert expr.evaluate({"b": "x"}) is None


def test_naive_datetimes_compare_as_utc_in_every_comparison() -> None:
    """Ordering comparisons read datetimes as they are and run again on an aware copy of a
    record holding naive ones; equality converts inline (naive == aware is never an error)."""
    fields = {"ts": "datetime", "ts2": "datetime", "i": "integer"}
    naive, aware = datetime(2024, 6, 15, 8, 0), datetime(2024, 6, 15, 8, 0, tzinfo=UTC)
    shanghai = aware.astimezone(timezone(timedelta(hours=8)))
    cases: list[tuple[str, dict[str, Any], bool]] = [
        ("ts > datetime('2024-06-15T07:59:59')", {"ts": naive}, True),
        ("ts > datetime('2024-06-15T07:59:59') and i is null", {"ts": naive}, True),
        ("ts <= ts2", {"ts": naive, "ts2": shanghai}, True),
        ("ts < ts2", {"ts": aware, "ts2": naive}, False),
        ("ts == ts2", {"ts": naive, "ts2": shanghai}, True),
        ("ts != datetime('2024-06-15T08:00:00')", {"ts": naive}, False),
        ("ts == datetime('2024-06-15T16:00:00+08:00')", {"ts": naive}, True),
        ("ts < now()", {"ts": naive, "i": 1}, True),
    ]
    for text, record, expected in cases:
        expr = rule_engine.compile(text, fields)
        assert expr.matches(record, now=NOW) is expected, (text, expr.source)
        assert expr.evaluate(record, now=NOW) == expr.interpret(record, now=NOW), text
    with pytest.raises(TypeError):
        rule_engine.compile("ts > now()", fields).matches({"ts": date(2024, 1, 1)})


def test_dotted_path_uses_loaded_dict_or_loader() -> None:
    fields = {"account": {"grade": "text", "owner": {"name": "text"}}, "amount": "number"}
    expr = rule_engine.compile("account.grade == 'A' and account.owner.name == 'Li'", fields)
    assert expr.fields == frozenset({"account.grade", "account.owner.name"})
    calls: list[tuple[str, object]] = []

    def loader(name: str, key: object) -> dict[str, object] | None:
        calls.append((name, key))
        rows: dict[str, dict[str, object]] = {"account": {"grade": "A", "owner": 9}, "owner": {"name": "Li"}}
        return rows[name]

    assert expr.matches({"account": 5}, loader=loader)
    assert ("account", 5) in calls and ("owner", 9) in calls
    assert expr.matches({"account": {"grade": "A", "owner": {"name": "Li"}}})
    assert not expr.matches({"account": None})
    assert not expr.matches({"account": 5}, loader=lambda name, key: None)
    with pytest.raises(rule_engine.RuleError) as info:
        expr.matches({"account": 5})
    assert info.value.code == "loader_required"


def test_dotted_path_in_sql_uses_the_callers_column() -> None:
    accounts = sa.table("accounts", sa.column("grade", sa.String()))
    expr = rule_engine.compile("account.grade == 'A'", {"account": {"grade": "text"}})
    sql = expr.to_sql({"account.grade": accounts.c.grade})
    assert "accounts.grade" in str(sql)
    sql = expr.to_sql(lambda path: accounts.c[path.split(".")[-1]])
    assert "accounts.grade" in str(sql)
    with pytest.raises(rule_engine.RuleError) as info:
        expr.to_sql({})
    assert info.value.code == "missing_column"


def test_changed_and_old_on_update() -> None:
    fields = {"stage": "text", "amount": "number"}
    expr = rule_engine.compile("changed(stage) and stage == 'won'", fields)
    assert expr.matches({"stage": "won"}, old={"stage": "open"})
    assert not expr.matches({"stage": "won"}, old={"stage": "won"})
    assert not expr.matches({"stage": "won"})
    assert rule_engine.compile("changed(amount)", fields).matches({"amount": 0.1}, old={"amount": None})
    assert not rule_engine.compile("changed(amount)", fields).matches(
        {"amount": 0.1}, old={"amount": Decimal("0.1")}
    )
    grew = rule_engine.compile("amount > old(amount)", fields)
    assert grew.matches({"amount": 2}, old={"amount": 1})
    assert grew.evaluate({"amount": 2}) is None


def test_today_and_now_follow_the_given_time() -> None:
    expr = rule_engine.compile("d == today()", {"d": "date"})
    assert expr.matches({"d": date(2024, 6, 15)}, now=NOW)
    shanghai = datetime(2024, 6, 15, 20, 0, tzinfo=timezone(timedelta(hours=8)))
    assert expr.matches({"d": date(2024, 6, 15)}, now=shanghai)
    assert expr.matches({"d": datetime.now(UTC).date()})
    later = rule_engine.compile("ts < now()", {"ts": "datetime"})
    assert later.matches({"ts": datetime(2024, 6, 15, 12, 29)}, now=NOW)
    assert later.matches({"ts": datetime(2024, 6, 15, 13, 29, tzinfo=timezone(timedelta(hours=1)))}, now=NOW)


def test_non_boolean_expressions_evaluate_to_values() -> None:
    fields = {"price": "number", "qty": "integer", "name": "text"}
    assert rule_engine.compile("price * qty", fields).evaluate(
        {"price": Decimal("9.99"), "qty": 3}
    ) == Decimal("29.97")
    assert rule_engine.compile("upper(name) + '!'", fields).evaluate({"name": "hi"}) == "HI!"
    expr = rule_engine.compile("price * qty", fields)
    assert expr.type == "number"
    assert expr.matches({"price": 1, "qty": 1}) is False


def test_ast_is_json_serialisable() -> None:
    import json

    expr = rule_engine.compile(
        "amount > 0.5 and region in ['华东', '华南']", {"amount": "number", "region": "text"}
    )
    data = json.loads(json.dumps(expr.ast))
    assert data["node"] == "bool"
    assert data["items"][0]["right"] == {
        "node": "literal",
        "line": 1,
        "column": 10,
        "value": "0.5",
        "kind": "number",
    }


def test_compile_is_cached_by_text_and_field_map() -> None:
    a = rule_engine.compile("x > 1", {"x": "integer"})
    assert rule_engine.compile("x > 1", {"x": "integer"}) is a
    assert rule_engine.compile("x > 1", {"x": "number"}) is not a


def test_functions_registry_documents_every_function() -> None:
    for name, spec in rule_engine.FUNCTIONS.items():
        assert spec.name == name
        assert spec.signature.startswith(name + "(")
        assert spec.en and spec.zh
    assert set(rule_engine.FIELD_TYPES) == {
        "text",
        "number",
        "integer",
        "boolean",
        "date",
        "datetime",
        "list",
    }


CASE_MAPPING_TEXTS = [
    "KELVIN",
    "\u212a",
    "x\u212a",
    "\u0130",
    "ab\u0130",
    "abI",
    "ABC",
    "a@Example.COM",
    "é",
    "",
]
CASE_MAPPING_RULES = [
    "lower(t) == 'k'",
    "lower(t) != 'xk'",
    "lower(t) == 'kelvin'",
    "ends_with(lower(t), 'k')",
    "ends_with(lower(t), 'i')",
    "ends_with(lower(t), 'abc')",
    "ends_with(lower(t), '@example.com')",
    "ends_with(lower(t), '')",
    "ends_with(t, 'C')",
    "ends_with(lower(t), 'é')",
    "starts_with(lower(t), 'abi')",
]


def test_ascii_literal_case_mapping_agrees_with_python(rule_db: sa.Engine) -> None:
    """Native ``lower`` against ASCII literals keeps Python's mapping (KELVIN SIGN, dotted I)."""
    records = [{"t": text} for text in CASE_MAPPING_TEXTS] + [{"t": None}]
    with rule_db.begin() as conn:
        load(conn, records)
        for text in CASE_MAPPING_RULES:
            expr = rule_engine.compile(text, FIELDS)
            expected = {i for i, record in enumerate(records) if expr.matches(record)}
            assert select_ids(conn, expr) == expected, text


def test_division_by_a_literal_keeps_the_exact_quotient() -> None:
    fields = {"n": "number", "i": "integer"}
    for text in ("n / 1000 > 0.5", "n / 0.25 == 2", "i / 8 >= 0.125", "n / 3 > 0.3", "-n / 20 < -1"):
        expr = rule_engine.compile(text, fields)
        for value in (0.5, Decimal("500.001"), 1, 500, Decimal("0.1"), -25, 10**30, None):
            record = {"n": value, "i": value if not isinstance(value, Decimal | float) else 1}
            assert expr.evaluate(record) == expr.interpret(record), (text, value)
    assert rule_engine.compile("n / 1000", fields).evaluate({"n": 5000}) == Decimal(5)


def _case_changing_characters() -> list[str]:
    return [
        c
        for c in map(chr, range(0x110000))
        if not "\ud800" <= c <= "\udfff" and (c.upper() != c or c.lower() != c)
    ]


def test_multi_character_upper_list_is_every_code_point_python_expands() -> None:
    every = [c for c in map(chr, range(0x110000)) if not "\ud800" <= c <= "\udfff"]
    assert "".join(c for c in every if len(c.upper()) > 1) == d.MULTI_UPPER
    into_ascii = {c for c in every if not c.isascii() and c.upper()[-1].isascii()}
    assert {c for c, _ in d.ASCII_UPPER_EXPANSIONS} == into_ascii


def test_upper_and_lower_agree_with_python_for_every_case_changing_character(rule_db: sa.Engine) -> None:
    """Each character whose case changes, and a few words, through ``upper``/``lower`` on both
    sides: the SQL selects a row exactly when Python's full case mapping gives ``t2``."""
    words = ["straße", "ﬁnal ﬂow", "ŉ", "ǰ", "İstanbul", "ıi", "ſ", "ΐ", "ᾳ", "Kelvin \u212a", "abc"]
    texts = _case_changing_characters() + words
    with rule_db.begin() as conn:
        for which in ("upper", "lower"):
            records = [{"t": text, "t2": getattr(text, which)()} for text in texts]
            load(conn, records)
            expr = rule_engine.compile(f"{which}(t) == t2", FIELDS)
            assert all(expr.matches(r) for r in records)
            missed = set(range(len(records))) - select_ids(conn, expr)
            assert not missed, [(records[i]["t"], records[i]["t2"]) for i in sorted(missed)[:20]]


def test_upper_against_ascii_literals_expands_like_python(rule_db: sa.Engine) -> None:
    texts = ["straße", "STRASSE", "ß", "ﬁ", "ǰ", "ŉ", "ı", "ſ", "ﬅ", "ﬆ", "ﬃ", "x\u0131", "J", "N", None]
    rules = [
        "upper(t) == 'STRASSE'",
        "upper(t) == 'SS'",
        "upper(t) != 'FI'",
        "upper(t) == 'I'",
        "upper(t) == 'S'",
        "upper(t) == 'ST'",
        "upper(t) == 'FFI'",
        "ends_with(upper(t), 'N')",
        "ends_with(upper(t), 'J')",
        "ends_with(upper(t), 'XI')",
        "starts_with(upper(t), 'J')",
        "upper(t) == upper('straße')",
    ]
    records = [{"t": text} for text in texts]
    with rule_db.begin() as conn:
        load(conn, records)
        for text in rules:
            expr = rule_engine.compile(text, FIELDS)
            expected = {i for i, record in enumerate(records) if expr.matches(record)}
            assert select_ids(conn, expr) == expected, text


def test_is_null_over_a_negation_keeps_its_grouping_in_sql(rule_db: sa.Engine) -> None:
    """PostgreSQL binds IS tighter than NOT; found by the Python == SQL property."""
    rows: list[dict[str, object]] = [
        {"t": None, "tags": None},  # t not in tags: unknown -> is null holds
        {"t": "a", "tags": ["b"]},  # t not in tags: true
        {"t": "b", "tags": ["b"]},  # t not in tags: false
    ]
    full = [{name: None for name in FIELDS} | row for row in rows]
    expr = rule_engine.compile("(t not in tags) is null", FIELDS)
    assert [expr.matches(r, now=NOW) for r in full] == [True, False, False]
    with rule_db.begin() as conn:
        load(conn, full)
        assert select_ids(conn, expr) == {0}
        negated = rule_engine.compile("if((t not in tags) is null, 'u', 'k') == 'k'", FIELDS)
        assert select_ids(conn, negated) == {1, 2}
