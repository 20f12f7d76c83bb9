"""The duplicate and auto-number write steps on a real compiled app in in-memory SQLite.

A step reads only the connection, the compiled app, the write options and the clock of its
write unit, so the tests give it exactly those (``UnitStandIn``) and build each ``Batch`` the
way the write unit does: on create the full rows, on update the changed values beside the
stored rows. Stored rows are saved the same way the unit saves them: the step runs first and
the row it leaves (keys included) is inserted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
import sqlalchemy as sa

from engine.access import OpenAccess
from engine.apps.package import parse_package
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.context import SYSTEM, Context
from engine.records.steps import AutoNumbers, DuplicateRecord, Duplicates, DuplicateWarning
from engine.records.steps.auto_numbers import next_values
from engine.records.steps.base import Batch, WriteOp
from engine.records.writer import WriteOptions
from engine.schema import system_tables as st

if TYPE_CHECKING:
    from engine.records.writer import WriteUnit

LABEL = {"zh": "标签", "en": "Label"}
#: 17:30 UTC is already the next day in Shanghai, the auto-number fields' default time zone.
NOW = datetime(2024, 5, 1, 17, 30, tzinfo=UTC)
PHONE = "+8613812345678"
OTHER_PHONE = "+8613900000000"


def text_field(name: str, type_: str = "text", **settings: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "label": LABEL, **settings}


PACKAGE = {
    "name": "shop",
    "label": LABEL,
    "entities": [
        {
            "name": "contact",
            "label": {"zh": "联系人", "en": "Contact"},
            "fields": [
                text_field("name"),
                text_field("city"),
                text_field("phone", "phone"),
                text_field("email", "email"),
            ],
            "duplicate_rules": [
                {"name": "by_phone", "fields": ["phone"], "policy": "block"},
                {"name": "by_email", "fields": ["email"], "policy": "warn"},
                {"name": "by_name", "fields": ["name", "city"], "policy": "allow"},
            ],
        },
        {
            "name": "order",
            "label": LABEL,
            "fields": [
                text_field("title"),
                text_field("number", "auto_number", pattern="SO-{YYYYMMDD}-{seq:4}"),
                text_field("line", "auto_number", pattern="{seq:3}"),
            ],
        },
        {
            "name": "invoice",
            "label": LABEL,
            "fields": [text_field("number", "auto_number", pattern="SO-{YYYYMMDD}-{seq:4}")],
        },
    ],
}


@dataclass
class UnitStandIn:
    """What the duplicate and auto-number steps read of their ``WriteUnit``."""

    conn: sa.Connection
    runtime: AppRuntime
    now: datetime = NOW
    options: WriteOptions = field(default_factory=WriteOptions)
    #: the system writes: every record and field is visible to it
    ctx: Context = SYSTEM
    access: OpenAccess = field(default_factory=OpenAccess)

    def readable(self, er: EntityRuntime) -> None:
        return None


@pytest.fixture(scope="module")
def runtime() -> AppRuntime:
    """Compiled once: the tests only read it."""
    return AppRuntime(parse_package(PACKAGE), 1)


@pytest.fixture
def conn(runtime: AppRuntime) -> Iterator[sa.Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        st.metadata.create_all(connection)
        runtime.metadata.create_all(connection)
        connection.commit()
        yield connection
    engine.dispose()


@pytest.fixture
def unit(conn: sa.Connection, runtime: AppRuntime) -> UnitStandIn:
    return UnitStandIn(conn, runtime)


def make_batch(
    unit: UnitStandIn,
    entity: str,
    op: WriteOp,
    rows: list[dict[str, Any]],
    old: Sequence[Mapping[str, Any]] | None = None,
) -> Batch:
    """On create ``old`` is left out; on update it holds the stored rows, whose ids the batch has."""
    return Batch(
        # The steps under test read only what the stand-in has; a full unit needs a platform.
        cast("WriteUnit", unit),
        unit.runtime.entity(entity),
        op,
        rows,
        list(old) if old is not None else [None] * len(rows),
        [{} for _ in rows],
        [f"/items/{i}" for i in range(len(rows))],
        ids=[o["id"] for o in old] if old is not None else [],
    )


def confirmed(unit: UnitStandIn) -> UnitStandIn:
    """The same unit, sent with ``?confirm_duplicates=true``."""
    return UnitStandIn(unit.conn, unit.runtime, unit.now, WriteOptions(confirm_duplicates=True))


def save(unit: UnitStandIn, *rows: dict[str, Any]) -> list[int]:
    """Create contacts as the write unit does (the step, then the insert); their ids."""
    created = [dict(row) for row in rows]
    Duplicates().before(make_batch(confirmed(unit), "contact", "create", created))
    table = unit.runtime.entity("contact").table
    system = {"created_at": NOW, "updated_at": NOW, "version": 1}
    insert = table.insert().returning(table.c.id)
    return [unit.conn.execute(insert.values({**row, **system})).scalar_one() for row in created]


def stored(unit: UnitStandIn, record_id: int) -> dict[str, Any]:
    table = unit.runtime.entity("contact").table
    return dict(unit.conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one())


def trash(unit: UnitStandIn, record_id: int) -> None:
    table = unit.runtime.entity("contact").table
    unit.conn.execute(table.update().where(table.c.id == record_id).values(deleted_at=NOW))


# -- duplicates: create ---------------------------------------------------------------------------


def test_a_block_rule_refuses_a_new_record_matching_a_stored_one(unit: UnitStandIn) -> None:
    [first] = save(unit, {"phone": PHONE})
    with pytest.raises(DuplicateRecord) as caught:
        Duplicates().before(make_batch(unit, "contact", "create", [{"phone": PHONE}]))
    assert caught.value.details == {
        "matches": [{"rule": "by_phone", "policy": "block", "id": first}],
        "existing_id": first,
        "item": 0,
    }
    assert f"record {first}" in caught.value.message("en") and "not saved" in caught.value.message("en")


def test_confirming_does_not_lift_a_block_rule(unit: UnitStandIn) -> None:
    save(unit, {"phone": PHONE})
    with pytest.raises(DuplicateRecord):
        Duplicates().before(make_batch(confirmed(unit), "contact", "create", [{"phone": PHONE}]))


def test_a_warn_rule_refuses_until_the_client_confirms_then_reports_the_match(unit: UnitStandIn) -> None:
    [first] = save(unit, {"email": "Li@Example.com"})
    with pytest.raises(DuplicateWarning) as caught:
        Duplicates().before(make_batch(unit, "contact", "create", [{"email": "li@example.com"}]))
    assert caught.value.details["existing_id"] == first
    assert "confirm_duplicates=true" in caught.value.message("en")
    batch = make_batch(confirmed(unit), "contact", "create", [{"email": "li@example.com"}])
    Duplicates().before(batch)
    assert batch.duplicates == {0: [{"rule": "by_email", "policy": "warn", "id": first}]}


def test_an_allow_rule_saves_and_reports_the_match(unit: UnitStandIn) -> None:
    [first] = save(unit, {"name": "Acme  Ltd", "city": "Shanghai"})
    batch = make_batch(unit, "contact", "create", [{"name": "acme ltd", "city": "SHANGHAI"}])
    Duplicates().before(batch)
    assert batch.duplicates == {0: [{"rule": "by_name", "policy": "allow", "id": first}]}


def test_a_rule_with_a_blank_field_matches_nothing(unit: UnitStandIn) -> None:
    save(unit, {"name": "Acme", "city": None}, {"name": "Acme", "city": ""})
    row = {"name": "Acme", "city": None}
    batch = make_batch(unit, "contact", "create", [row])
    Duplicates().before(batch)
    assert batch.duplicates == {}
    assert row["_dupkey_by_name"] is None


def test_every_rule_key_is_written_with_the_row_equal_for_equal_normalised_values(unit: UnitStandIn) -> None:
    rows = [
        {"name": "Acme", "city": "Paris", "email": "A@x.cn"},
        {"name": " ACME ", "city": "paris", "email": "a@X.cn"},
        {"name": "Acme", "city": "Rome", "email": "b@x.cn"},
    ]
    Duplicates().before(make_batch(confirmed(unit), "contact", "create", rows))
    assert [row["_dupkey_by_phone"] for row in rows] == [None, None, None]
    assert rows[0]["_dupkey_by_name"] == rows[1]["_dupkey_by_name"] != rows[2]["_dupkey_by_name"]
    assert rows[0]["_dupkey_by_email"] == rows[1]["_dupkey_by_email"] != rows[2]["_dupkey_by_email"]
    assert None not in {rows[0]["_dupkey_by_name"], rows[2]["_dupkey_by_email"]}


def test_trashed_records_do_not_count(unit: UnitStandIn) -> None:
    [first] = save(unit, {"phone": PHONE})
    trash(unit, first)
    batch = make_batch(unit, "contact", "create", [{"phone": PHONE}])
    Duplicates().before(batch)
    assert batch.duplicates == {}


def test_rows_of_one_batch_are_matched_with_each_other(unit: UnitStandIn) -> None:
    rows = [{"phone": PHONE}, {"phone": OTHER_PHONE}, {"phone": PHONE}]
    with pytest.raises(DuplicateRecord) as caught:
        Duplicates().before(make_batch(unit, "contact", "create", rows))
    assert caught.value.details == {
        "matches": [{"rule": "by_phone", "policy": "block", "id": None, "item": 0}],
        "existing_id": None,
        "item": 2,
    }
    assert "#0" in caught.value.message("en") and "items/2" in caught.value.message("en")


def test_each_later_row_of_a_batch_reports_the_first_row_it_repeats(unit: UnitStandIn) -> None:
    rows = [{"name": "Acme", "city": "Rome"} for _ in range(3)]
    batch = make_batch(unit, "contact", "create", rows)
    Duplicates().before(batch)
    repeat = {"rule": "by_name", "policy": "allow", "id": None, "item": 0}
    assert batch.duplicates == {1: [repeat], 2: [repeat]}


def test_at_most_five_stored_matches_are_reported_per_rule_the_oldest_first(unit: UnitStandIn) -> None:
    ids = save(unit, *({"name": "Acme", "city": "Rome"} for _ in range(7)))
    batch = make_batch(unit, "contact", "create", [{"name": "Acme", "city": "Rome"}])
    Duplicates().before(batch)
    assert [m["id"] for m in batch.duplicates[0]] == ids[:5]


def test_an_entity_without_duplicate_rules_is_left_alone(unit: UnitStandIn) -> None:
    rows = [{"title": "x"}, {"title": "x"}]
    batch = make_batch(unit, "order", "create", rows)
    Duplicates().before(batch)
    assert rows == [{"title": "x"}, {"title": "x"}] and batch.duplicates == {}


# -- duplicates: update ---------------------------------------------------------------------------


def test_an_update_moving_a_key_onto_another_record_is_refused(unit: UnitStandIn) -> None:
    first, second = save(unit, {"phone": PHONE}, {"phone": OTHER_PHONE})
    with pytest.raises(DuplicateRecord) as caught:
        Duplicates().before(make_batch(unit, "contact", "update", [{"phone": PHONE}], [stored(unit, second)]))
    assert caught.value.details["existing_id"] == first


def test_an_update_that_changes_no_key_is_not_checked(unit: UnitStandIn) -> None:
    """The two already match (saved after confirming); renaming one must not ask again."""
    _first, second = save(unit, {"email": "li@example.com"}, {"email": "li@example.com"})
    row = {"name": "Li"}
    batch = make_batch(unit, "contact", "update", [row], [stored(unit, second)])
    Duplicates().before(batch)
    assert batch.duplicates == {}
    assert row == {"name": "Li"}


def test_an_update_writes_only_the_keys_that_moved(unit: UnitStandIn) -> None:
    [record] = save(unit, {"name": "Acme", "city": "Rome", "email": "a@x.cn"})
    row = {"city": "Paris"}
    Duplicates().before(make_batch(unit, "contact", "update", [row], [stored(unit, record)]))
    assert set(row) == {"city", "_dupkey_by_name"}
    assert row["_dupkey_by_name"] not in (None, stored(unit, record)["_dupkey_by_name"])


def test_clearing_a_field_clears_its_key(unit: UnitStandIn) -> None:
    [record, _other] = save(unit, {"phone": PHONE}, {"phone": OTHER_PHONE})
    row: dict[str, Any] = {"phone": None}
    batch = make_batch(unit, "contact", "update", [row], [stored(unit, record)])
    Duplicates().before(batch)
    assert row == {"phone": None, "_dupkey_by_phone": None} and batch.duplicates == {}


def test_an_update_is_matched_against_the_other_rows_of_its_batch(unit: UnitStandIn) -> None:
    first, second = save(unit, {"name": "A", "city": "Rome"}, {"name": "B", "city": "Rome"})
    rows = [{"name": "C"}, {"name": "C"}]
    batch = make_batch(unit, "contact", "update", rows, [stored(unit, first), stored(unit, second)])
    Duplicates().before(batch)
    assert batch.duplicates == {1: [{"rule": "by_name", "policy": "allow", "id": None, "item": 0}]}


def test_restoring_a_trashed_record_is_blocked_when_a_live_one_now_holds_its_key(unit: UnitStandIn) -> None:
    [trashed] = save(unit, {"phone": PHONE})
    trash(unit, trashed)
    save(unit, {"phone": PHONE})
    old = stored(unit, trashed)
    restored = {**old, "deleted_at": None, "updated_at": NOW, "version": old["version"] + 1}
    with pytest.raises(DuplicateRecord):
        Duplicates().before(make_batch(unit, "contact", "restore", [restored], [old]))


# -- auto numbers ---------------------------------------------------------------------------------


def test_a_new_counter_starts_at_one(conn: sa.Connection) -> None:
    assert list(next_values(conn, "k", 3)) == [1, 2, 3]


def test_later_reservations_continue_without_gaps_or_repeats(conn: sa.Connection) -> None:
    assert [list(next_values(conn, "k", n)) for n in (2, 3, 1)] == [[1, 2], [3, 4, 5], [6]]


def test_each_counter_key_counts_on_its_own(conn: sa.Connection) -> None:
    next_values(conn, "a", 4)
    assert list(next_values(conn, "b", 2)) == [1, 2]
    assert list(next_values(conn, "a", 1)) == [5]


def test_a_rolled_back_reservation_gives_its_numbers_back(conn: sa.Connection) -> None:
    next_values(conn, "k", 2)
    conn.commit()
    assert list(next_values(conn, "k", 3)) == [3, 4, 5]
    conn.rollback()
    assert list(next_values(conn, "k", 1)) == [3]


def test_new_rows_are_numbered_in_order_with_the_local_date(unit: UnitStandIn) -> None:
    rows: list[dict[str, Any]] = [{"title": "a"}, {"title": "b"}, {"title": "c"}]
    AutoNumbers().before(make_batch(unit, "order", "create", rows))
    assert [(r["number"], r["line"]) for r in rows] == [
        ("SO-20240502-0001", "001"),
        ("SO-20240502-0002", "002"),
        ("SO-20240502-0003", "003"),
    ]


def test_two_entities_with_the_same_pattern_number_independently(unit: UnitStandIn) -> None:
    AutoNumbers().before(make_batch(unit, "order", "create", [{"title": "a"}, {"title": "b"}]))
    row: dict[str, Any] = {}
    AutoNumbers().before(make_batch(unit, "invoice", "create", [row]))
    assert row["number"] == "SO-20240502-0001"


def test_a_daily_pattern_restarts_the_next_day_and_a_plain_one_goes_on(unit: UnitStandIn) -> None:
    AutoNumbers().before(make_batch(unit, "order", "create", [{"title": "a"}, {"title": "b"}]))
    tomorrow = UnitStandIn(unit.conn, unit.runtime, NOW + timedelta(days=1))
    row: dict[str, Any] = {"title": "c"}
    AutoNumbers().before(make_batch(tomorrow, "order", "create", [row]))
    assert (row["number"], row["line"]) == ("SO-20240503-0001", "003")


def test_a_number_sent_with_a_new_row_is_replaced(unit: UnitStandIn) -> None:
    row = {"title": "a", "number": "SO-99999999-9999"}
    AutoNumbers().before(make_batch(unit, "order", "create", [row]))
    assert row["number"] == "SO-20240502-0001"


def test_updates_take_no_numbers(unit: UnitStandIn) -> None:
    old = {"id": 1, "title": "a", "number": "SO-20240502-0001", "line": "001"}
    row: dict[str, Any] = {"title": "b"}
    AutoNumbers().before(make_batch(unit, "order", "update", [row], [old]))
    assert row == {"title": "b"}
    assert list(next_values(unit.conn, "anything", 1)) == [1]
    assert unit.conn.execute(sa.select(sa.func.count()).select_from(st.sequences)).scalar_one() == 1
