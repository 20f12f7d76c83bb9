"""Scope clauses on a tiny organisation in in-memory SQLite: which rows each clause selects.

```
HQ (1)                    dora
├── East (2, head: hana)  ann, eve
│   └── Shanghai (4)      sam
└── West (3)              bob
(no department)           hana, nobody
```

Every expected set of ids below is read off this chart and the ``THINGS`` table by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from engine.access.scopes import Subject, grant_clause, scope_clause, shared_clause
from engine.apps.package import parse_package
from engine.apps.record_query import filter_clause
from engine.apps.role_definitions import Grant
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.context import Principal
from engine.schema import system_tables as st

NOW = datetime(2024, 5, 1, tzinfo=UTC)
LABEL = {"zh": "东西", "en": "Thing"}

#: id -> (name, parent, head)
DEPARTMENTS = {1: ("HQ", None, None), 2: ("East", 1, 3), 3: ("West", 1, None), 4: ("Shanghai", 2, None)}
#: id -> (username, department)
USERS = {
    1: ("ann", 2),
    2: ("bob", 3),
    3: ("hana", None),
    4: ("dora", 1),
    5: ("sam", 4),
    6: ("nobody", None),
    7: ("eve", 2),
}
USER_IDS = {name: user_id for user_id, (name, _dept) in USERS.items()}
#: record id -> (owner, region)
THINGS = {
    1: ("ann", "east"),
    2: ("bob", "west"),
    3: ("hana", "east"),
    4: ("dora", None),
    5: ("sam", "east"),
    6: ("nobody", "west"),
    7: (None, "east"),
    8: ("ann", None),
    9: ("eve", "east"),
}
#: (record, entity, user, department, access)
SHARES = [
    (2, "thing", "ann", None, "read"),
    (4, "thing", "ann", None, "edit"),
    (6, "thing", None, 2, "read"),
    (7, "thing", None, 3, "edit"),
    (5, "other", "ann", None, "edit"),
]


@pytest.fixture(scope="module")
def runtime() -> AppRuntime:
    """Compiled once: the tests only read it."""
    package = parse_package(
        {
            "name": "demo",
            "label": LABEL,
            "entities": [
                {
                    "name": "thing",
                    "label": LABEL,
                    "fields": [{"name": "region", "type": "text", "label": LABEL}],
                },
                {"name": "other", "label": LABEL},
            ],
        }
    )
    return AppRuntime(package, 1)


@pytest.fixture
def conn(runtime: AppRuntime) -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        st.metadata.create_all(connection)
        runtime.metadata.create_all(connection)
        connection.execute(
            st.departments.insert(),
            [
                {"id": i, "name": name, "parent_id": parent, "head_id": head, "created_at": NOW}
                for i, (name, parent, head) in DEPARTMENTS.items()
            ],
        )
        connection.execute(
            st.users.insert(),
            [
                {"id": i, "username": name, "password_hash": "-", "department_id": dept, "created_at": NOW}
                for i, (name, dept) in USERS.items()
            ],
        )
        connection.execute(
            runtime.entity("thing").table.insert(),
            [
                {
                    "id": i,
                    "owner": USER_IDS[owner] if owner else None,
                    "region": region,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "version": 1,
                }
                for i, (owner, region) in THINGS.items()
            ],
        )
        connection.execute(
            st.shares.insert(),
            [
                {
                    "app": "demo",
                    "entity": entity,
                    "record_id": record,
                    "user_id": USER_IDS[user] if user else None,
                    "department_id": dept,
                    "access": access,
                    "created_at": NOW,
                }
                for record, entity, user, dept, access in SHARES
            ],
        )
        yield connection
    engine.dispose()


def subject(conn: sa.Connection, name: str) -> Subject:
    user_id = USER_IDS[name]
    return Subject(Principal(user_id, name, department_id=USERS[user_id][1]), conn)


def selected(conn: sa.Connection, er: EntityRuntime, clause: Any) -> set[int]:
    return set(conn.execute(sa.select(er.table.c.id).where(clause)).scalars())


@pytest.fixture
def things(runtime: AppRuntime) -> EntityRuntime:
    return runtime.entity("thing")


@pytest.mark.parametrize(
    ("who", "scope", "expected"),
    [
        ("ann", "own", {1, 8}),
        ("ann", "department", {1, 8, 9}),
        ("ann", "department_tree", {1, 5, 8, 9}),
        ("sam", "department_tree", {5}),
        ("hana", "own", {3}),
        ("hana", "department", {1, 3, 8, 9}),
        ("hana", "department_tree", {1, 3, 5, 8, 9}),
        ("dora", "department", {4}),
        ("dora", "department_tree", {1, 2, 4, 5, 8, 9}),
        ("nobody", "department", {6}),
        ("nobody", "department_tree", {6}),
        ("nobody", "all", {1, 2, 3, 4, 5, 6, 7, 8, 9}),
        ("ann", None, set()),
    ],
)
def test_scope_selects_the_rows_of_the_chart(
    conn: sa.Connection, things: EntityRuntime, who: str, scope: str | None, expected: set[int]
) -> None:
    assert selected(conn, things, scope_clause(things.table, subject(conn, who), scope)) == expected


def test_a_department_scope_never_reaches_records_without_an_owner_or_whose_owner_has_none(
    conn: sa.Connection, things: EntityRuntime
) -> None:
    """Record 7 has no owner and records 3 and 6 belong to people without a department: no
    department-wide scope, however wide, picks them up for someone else."""
    for who in USER_IDS:
        for scope in ("department", "department_tree"):
            rows = selected(conn, things, scope_clause(things.table, subject(conn, who), scope))
            foreign = {3, 6, 7} - {i for i, (owner, _r) in THINGS.items() if owner == who}
            assert not rows & foreign, (who, scope)


def test_a_moved_user_takes_the_department_scope_of_their_new_department(
    conn: sa.Connection, things: EntityRuntime
) -> None:
    conn.execute(st.users.update().where(st.users.c.id == USER_IDS["bob"]).values(department_id=2))
    clause = scope_clause(things.table, subject(conn, "ann"), "department")
    assert selected(conn, things, clause) == {1, 2, 8, 9}


@pytest.mark.parametrize(
    ("grant", "expected"),
    [
        (Grant(scope="own"), {1, 8}),
        (Grant(condition="region == 'west'"), {2, 6}),
        (Grant(scope="own", condition="region == 'west'"), {1, 2, 6, 8}),
        (Grant(scope="department", condition="region == 'west'"), {1, 2, 6, 8, 9}),
    ],
    ids=["scope", "condition", "own-or-condition", "department-or-condition"],
)
def test_a_condition_widens_the_scope_it_comes_with(
    conn: sa.Connection, runtime: AppRuntime, things: EntityRuntime, grant: Grant, expected: set[int]
) -> None:
    clause = grant_clause(
        things.table, subject(conn, "ann"), grant, lambda text: filter_clause(runtime, things, text)
    )
    assert selected(conn, things, clause) == expected


@pytest.mark.parametrize(
    ("who", "op", "expected"),
    [
        ("ann", "read", {2, 4, 6}),
        ("ann", "export", {2, 4, 6}),
        ("ann", "update", {4}),
        ("eve", "read", {6}),
        ("hana", "read", {6}),
        ("bob", "read", {7}),
        ("bob", "update", {7}),
        ("sam", "read", set()),
        ("nobody", "read", set()),
    ],
)
def test_shared_records_are_those_shared_with_the_user_or_their_department(
    conn: sa.Connection, things: EntityRuntime, who: str, op: str, expected: set[int]
) -> None:
    clause = shared_clause(things.table, subject(conn, who), "demo", "thing", op)
    assert clause is not None
    assert selected(conn, things, clause) == expected


@pytest.mark.parametrize("op", ["delete", "create", "import"])
def test_a_share_never_grants_delete_create_or_import(
    conn: sa.Connection, things: EntityRuntime, op: str
) -> None:
    assert shared_clause(things.table, subject(conn, "ann"), "demo", "thing", op) is None


def test_a_share_of_another_app_does_not_count(conn: sa.Connection, things: EntityRuntime) -> None:
    clause = shared_clause(things.table, subject(conn, "ann"), "elsewhere", "thing", "read")
    assert clause is not None
    assert selected(conn, things, clause) == set()
