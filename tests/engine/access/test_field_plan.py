"""Field plans without HTTP: how several roles' field rules add up, and what a plan shows and
refuses. Masked values are written out by hand (``138****1234``), never computed with ``mask``."""

from __future__ import annotations

from typing import Any

import pytest

from engine.access.field_rules import OPEN, FieldPlan, merge
from engine.apps.role_definitions import EntityPermissions
from engine.errors import Forbidden

ME = 7
SOMEONE_ELSE = 8

RECORD = {"name": "Acme", "phone": "13812341234", "credit": 5000, "grade": "A", "owner": ME}


def role(**fields: dict[str, str]) -> EntityPermissions:
    """One role's permissions on the entity, with field rules only."""
    return EntityPermissions.model_validate({"read": True, "update": True, "fields": fields})


HIDDEN = {"access": "hidden"}
READONLY = {"access": "readonly"}
MASKED_PHONE = {"access": "masked", "mask": "phone"}
MASKED_ALL = {"access": "masked", "mask": "all"}

#: The plan the sample rep role gives: what most tests below present and refuse with.
REP = FieldPlan(
    hidden=frozenset({"credit"}), readonly=frozenset({"grade", "owner"}), masked={"phone": "phone"}
)


def codes(plan: FieldPlan, data: dict[str, Any], op: str) -> dict[str, str]:
    return {p.field or "": p.code for p in plan.refused(data, op, ME)}


# -- merging roles -----------------------------------------------------------------------------------


def test_no_roles_give_an_open_plan() -> None:
    assert merge([]) == OPEN
    assert OPEN.is_open


def test_one_role_gives_its_rules_as_written() -> None:
    plan = merge([role(credit=HIDDEN, grade=READONLY, phone=MASKED_PHONE)])
    assert plan == FieldPlan(frozenset({"credit"}), frozenset({"grade"}), {"phone": "phone"})
    assert not plan.is_open


def test_a_field_is_restricted_only_if_every_role_restricts_it() -> None:
    plan = merge([role(credit=HIDDEN, grade=READONLY, phone=MASKED_PHONE), role(grade=READONLY)])
    assert plan == FieldPlan(readonly=frozenset({"grade"}))


#: A field restricted the same way by a single role, to compare merged plans with.
ONLY = {
    "hidden": FieldPlan(hidden=frozenset({"f"})),
    "readonly": FieldPlan(readonly=frozenset({"f"})),
    "masked": FieldPlan(masked={"f": "phone"}),
    # shown plainly by one role, still fillable on create as the masking role allows
    "readonly+fill": FieldPlan(readonly=frozenset({"f"}), fillable_on_create=frozenset({"f"})),
}
RULES = {"hidden": HIDDEN, "readonly": READONLY, "masked": MASKED_PHONE}


@pytest.mark.parametrize(
    ("first", "second", "merged"),
    [
        ("hidden", "hidden", "hidden"),
        ("hidden", "readonly", "readonly"),
        ("readonly", "hidden", "readonly"),
        ("hidden", "masked", "masked"),
        ("masked", "hidden", "masked"),
        ("readonly", "readonly", "readonly"),
        ("masked", "readonly", "readonly+fill"),
        ("readonly", "masked", "readonly+fill"),
        ("masked", "masked", "masked"),
    ],
)
def test_two_roles_restricting_a_field_give_the_lesser_restriction(
    first: str, second: str, merged: str
) -> None:
    assert merge([role(f=RULES[first]), role(f=RULES[second])]) == ONLY[merged]


def test_the_order_of_the_roles_does_not_matter_when_they_mask_differently() -> None:
    assert merge([role(phone=MASKED_ALL), role(phone=MASKED_PHONE)]) == merge(
        [role(phone=MASKED_PHONE), role(phone=MASKED_ALL)]
    )


def test_a_second_role_does_not_take_away_filling_a_masked_field_on_create() -> None:
    assert merge([role(phone=MASKED_PHONE)]).refused({"phone": "13812341234"}, "create", ME) == []
    assert (
        merge([role(phone=MASKED_PHONE), role(phone=READONLY)]).refused(
            {"phone": "13812341234"}, "create", ME
        )
        == []
    )


# -- presenting records and history -------------------------------------------------------------------


def test_present_drops_hidden_fields_masks_masked_ones_and_shows_readonly_ones() -> None:
    assert REP.present(RECORD) == {"name": "Acme", "phone": "138****1234", "grade": "A", "owner": ME}


def test_present_leaves_the_stored_record_alone() -> None:
    record = dict(RECORD)
    REP.present(record)
    assert record == RECORD


def test_present_keeps_an_empty_masked_value_empty_and_adds_no_missing_field() -> None:
    assert REP.present({"name": "Acme", "phone": None}) == {"name": "Acme", "phone": None}
    assert REP.present({"name": "Acme"}) == {"name": "Acme"}


def test_an_open_plan_presents_records_and_changes_unchanged() -> None:
    changes = {"phone": ["13812341234", "13900001111"]}
    assert OPEN.present(RECORD) == RECORD
    assert OPEN.present_changes(changes) == changes


def test_present_changes_drops_hidden_fields_and_masks_both_sides_of_masked_ones() -> None:
    changes = {"phone": ["13812341234", "13900001111"], "credit": [5000, 9000], "name": ["Acme", "Acme Ltd"]}
    assert REP.present_changes(changes) == {
        "phone": ["138****1234", "139****1111"],
        "name": ["Acme", "Acme Ltd"],
    }


def test_present_changes_passes_a_history_entry_without_field_changes_through() -> None:
    assert REP.present_changes(None) is None


# -- refusing writes ----------------------------------------------------------------------------------


def test_hidden_and_readonly_fields_are_refused_on_create_and_update() -> None:
    data = {"name": "Acme", "credit": 1, "grade": "B"}
    expected = {"credit": "field_hidden", "grade": "field_read_only"}
    assert codes(REP, data, "create") == expected
    assert codes(REP, data, "update") == expected


def test_a_masked_field_may_be_given_on_create_but_not_changed() -> None:
    assert codes(REP, {"phone": "13812341234"}, "create") == {}
    assert codes(REP, {"phone": "13812341234"}, "update") == {"phone": "field_masked"}


def test_each_refused_field_is_one_problem_pointing_at_it() -> None:
    [hidden, readonly] = REP.refused({"credit": 1, "name": "x", "grade": "B"}, "update", ME)
    assert (hidden.code, hidden.field, hidden.pointer) == ("field_hidden", "credit", "/credit")
    assert (readonly.code, readonly.field, readonly.pointer) == ("field_read_only", "grade", "/grade")
    assert "credit" in hidden.message("en") and "grade" in readonly.message("zh")


@pytest.mark.parametrize(
    ("op", "owner", "refused"),
    [
        ("create", None, False),
        ("create", ME, False),
        ("create", SOMEONE_ELSE, True),
        ("update", ME, True),
        ("update", SOMEONE_ELSE, True),
    ],
)
def test_a_readonly_owner_may_only_be_left_empty_or_set_to_oneself_on_create(
    op: str, owner: int | None, refused: bool
) -> None:
    assert codes(REP, {"owner": owner}, op) == ({"owner": "field_read_only"} if refused else {})


def test_check_write_raises_forbidden_naming_every_refused_field() -> None:
    with pytest.raises(Forbidden) as caught:
        REP.check_write({"credit": 1, "grade": "B", "name": "ok"}, "update", ME)
    assert caught.value.details == {"fields": ["credit", "grade"]}
    assert [p.field for p in caught.value.problems] == ["credit", "grade"]
    assert "credit, grade" in caught.value.message("en")


def test_check_write_lets_allowed_values_through() -> None:
    REP.check_write({"name": "ok", "phone": "13812341234", "owner": ME}, "create", ME)
