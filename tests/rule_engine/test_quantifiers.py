"""Quantifiers over related records: one meaning in Python (with a resolver) and SQL (a subquery)."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

import rule_engine
from tests.rule_engine.conftest import make_engine

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)

metadata = sa.MetaData()
accounts = sa.Table(
    "q_accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(50)),
)
order_lines = sa.Table(
    "q_order_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account", sa.Integer),
    sa.Column("product", sa.String(10)),
    sa.Column("quantity", sa.Integer),
)
activities = sa.Table(
    "q_activities",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("account", sa.Integer),
    sa.Column("type", sa.String(20)),
    sa.Column("created_at", sa.DateTime()),
)

ACCOUNT = {"id": "integer", "name": "text"}
RELATIONS = {
    "order_line": rule_engine.Relation(
        {"id": "integer", "account": "integer", "product": "text", "quantity": "integer"}, ["account"]
    ),
    "activity": rule_engine.Relation(
        {"id": "integer", "account": "integer", "type": "text", "created_at": "datetime"}, ["account"]
    ),
}
TABLES = {"order_line": order_lines, "activity": activities}


def generated(seed: int) -> dict[str, list[dict[str, Any]]]:
    """Accounts with random order lines (products A-C, some without a product) and activities
    (visits and enquiries spread over 60 days)."""
    rnd = random.Random(seed)
    data: dict[str, list[dict[str, Any]]] = {"account": [], "order_line": [], "activity": []}
    for a in range(1, 61):
        data["account"].append({"id": a, "name": f"acc{a}"})
        for _ in range(rnd.randint(0, 4)):
            product = rnd.choice(["A", "B", "C", None])
            line = {"account": a, "product": product, "quantity": rnd.choice([1, 5, None])}
            data["order_line"].append({"id": len(data["order_line"]) + 1, **line})
        for _ in range(rnd.randint(0, 9)):
            when = NOW - timedelta(days=rnd.randint(0, 60), hours=rnd.randint(0, 23))
            kind = rnd.choice(["visit", "visit", "visit", "visit", "enquiry", "call"])
            row = {"account": a, "type": kind, "created_at": when.replace(tzinfo=None)}
            data["activity"].append({"id": len(data["activity"]) + 1, **row})
    # an order line pointing at no account must count for nobody
    data["order_line"].append(
        {"id": len(data["order_line"]) + 1, "account": None, "product": "A", "quantity": 1}
    )
    return data


@pytest.fixture
def quantifier_db(database_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(database_url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def resolver(data: Mapping[str, list[dict[str, Any]]]) -> rule_engine.Related:
    def related(entity: str, via: str, record: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        return [row for row in data[entity] if row[via] == record["id"]]

    return related


def related_sql(entity: str, via: str) -> rule_engine.RelatedTable:
    table = TABLES[entity].alias()
    return rule_engine.RelatedTable(table, table.c, table.c[via] == accounts.c.id)


def sql_ids(conn: sa.Connection, expression: rule_engine.Expression) -> set[int]:
    where = expression.to_sql(accounts.c, now=NOW, related=related_sql)
    return set(conn.execute(sa.select(accounts.c.id).where(where)).scalars())


def load(engine: sa.Engine, data: Mapping[str, list[dict[str, Any]]]) -> None:
    with engine.begin() as conn:
        conn.execute(accounts.insert(), data["account"])
        conn.execute(order_lines.insert(), data["order_line"])
        conn.execute(activities.insert(), data["activity"])


def _bought(data: Mapping[str, list[dict[str, Any]]], account: int, product: str) -> bool:
    return any(o["account"] == account and o["product"] == product for o in data["order_line"])


def _recent(data: Mapping[str, list[dict[str, Any]]], account: int, kind: str) -> int:
    since = (NOW - timedelta(days=30)).replace(tzinfo=None)
    return sum(
        1
        for row in data["activity"]
        if row["account"] == account and row["type"] == kind and row["created_at"] > since
    )


SEGMENTS = {
    "bought A but never B": (
        "any(order_line via account: product == 'A') and none(order_line via account: product == 'B')",
        lambda data, a: _bought(data, a, "A") and not _bought(data, a, "B"),
    ),
    "visited 3 times in 30 days without an enquiry": (
        "count(activity via account: type == 'visit' and created_at > add_days(now(), -30)) >= 3 "
        "and none(activity via account: type == 'enquiry' and created_at > add_days(now(), -30))",
        lambda data, a: _recent(data, a, "visit") >= 3 and _recent(data, a, "enquiry") == 0,
    ),
    "no order lines at all": (
        "none(order_line via account)",
        lambda data, a: not any(o["account"] == a for o in data["order_line"]),
    ),
    "an unknown product is not 'not B'": (
        "any(order_line via account: product != 'B')",
        lambda data, a: any(
            o["account"] == a and o["product"] is not None and o["product"] != "B" for o in data["order_line"]
        ),
    ),
}


@pytest.mark.parametrize("name", SEGMENTS)
def test_python_and_sql_select_the_same_accounts(quantifier_db: sa.Engine, name: str) -> None:
    text, expected_of = SEGMENTS[name]
    data = generated(seed=len(name))
    load(quantifier_db, data)
    expected = {a["id"] for a in data["account"] if expected_of(data, a["id"])}
    assert expected and len(expected) < len(data["account"]), "the data should split the accounts"
    expression = rule_engine.compile(text, ACCOUNT, expect="boolean", relations=RELATIONS)
    related = resolver(data)
    assert {a["id"] for a in data["account"] if expression.matches(a, now=NOW, related=related)} == expected
    assert {a["id"] for a in data["account"] if expression.interpret(a, now=NOW, related=related)} == expected
    with quantifier_db.connect() as conn:
        assert sql_ids(conn, expression) == expected


def test_count_is_a_number_in_both_backends(quantifier_db: sa.Engine) -> None:
    data = generated(seed=7)
    load(quantifier_db, data)
    expression = rule_engine.compile(
        "count(order_line via account: quantity > 1)", ACCOUNT, relations=RELATIONS
    )
    related = resolver(data)
    value = expression.to_sql(accounts.c, now=NOW, related=related_sql)
    with quantifier_db.connect() as conn:
        rows: dict[int, int] = {row[0]: row[1] for row in conn.execute(sa.select(accounts.c.id, value))}
    for account in data["account"]:
        expected = sum(
            1
            for o in data["order_line"]
            if o["account"] == account["id"] and o["quantity"] is not None and o["quantity"] > 1
        )
        assert expression.evaluate(account, related=related) == expected
        assert rows[account["id"]] == expected


def test_a_quantifier_without_a_resolver_says_what_it_needs() -> None:
    expression = rule_engine.compile("any(activity via account)", ACCOUNT, relations=RELATIONS)
    with pytest.raises(rule_engine.RuleError) as info:
        expression.matches({"id": 1})
    assert info.value.code == "related_required"


@pytest.mark.parametrize(
    ("text", "code", "column", "suggestion"),
    [
        ("any(activty via account)", "unknown_relation", 5, "activity"),
        ("any(activity via acount)", "not_a_link", 18, "account"),
        ("any(activity via type)", "not_a_link", 18, None),
        ("any(activity via account: typ == 'visit')", "unknown_field", 27, "type"),
        ("none(order_line via account: product > 1)", "type_mismatch", 40, None),
        ("any(activity via account: name == 'x')", "unknown_field", 27, None),
    ],
)
def test_typing_errors_point_at_the_mistake(
    text: str, code: str, column: int, suggestion: str | None
) -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile(text, ACCOUNT, relations=RELATIONS)
    assert (info.value.code, info.value.line, info.value.column) == (code, 1, column)
    if suggestion is not None:
        assert suggestion in info.value.suggestions


def test_without_relations_a_quantifier_is_refused_and_via_stays_a_field_name() -> None:
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("any(activity via account)", ACCOUNT)
    assert info.value.code == "unknown_relation"
    assert rule_engine.compile("via > 1", {"via": "integer"}).matches({"via": 2}) is True


def test_a_code_tree_field_of_the_related_entity_is_compared_by_name() -> None:
    """``area == 'North'`` inside a quantifier means "lies in North" as it does outside one."""
    north = rule_engine.CodeTree(
        "areas", lambda name: rule_engine.Resolution(("31",) if name == "North" else ())
    )
    relations = {"visit": rule_engine.Relation({"account": "integer", "area": north}, ["account"])}
    expression = rule_engine.compile("any(visit via account: area == 'North')", ACCOUNT, relations=relations)
    rows = {1: [{"account": 1, "area": "310115"}], 2: [{"account": 2, "area": "440300"}]}

    def related(entity: str, via: str, record: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
        return rows[record["id"]]

    assert [expression.matches({"id": i}, related=related) for i in (1, 2)] == [True, False]
    with pytest.raises(rule_engine.RuleError) as info:
        rule_engine.compile("any(visit via account: area == 'Nowhere')", ACCOUNT, relations=relations)
    assert info.value.code == "unknown_name"
