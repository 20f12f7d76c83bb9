"""The schema diff: which migration steps turn one definition of an entity into the next.

Fields are matched by their stable id, so each test builds two definitions by hand and states
the steps a person changing the entity in the builder expects, in the order they must run.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.schema.compiler import index_specs
from engine.schema.diff import (
    AddColumn,
    ConvertColumn,
    CreateLinkTable,
    CreateTable,
    Operation,
    RecomputeDerived,
    RemoveColumn,
    RemoveLinkTable,
    RenameColumn,
    RestoreColumn,
    SyncDuplicateKeys,
    SyncIndexes,
    SyncSearch,
    diff_entity,
)
from form_engine import EntityDef, FieldDef

LABEL = {"zh": "标签", "en": "Label"}


def field(field_id: str, name: str, type_: str = "text", **settings: Any) -> dict[str, Any]:
    return {"id": field_id, "name": name, "type": type_, "label": LABEL, **settings}


def entity(*fields: dict[str, Any], **extra: Any) -> EntityDef:
    return EntityDef.model_validate({"name": "contact", "label": LABEL, "fields": list(fields), **extra})


def removed_column(definition: FieldDef) -> str:
    return f"_del_{definition.id}"


def columns_after(table_columns: set[str], ops: list[Operation]) -> set[str]:
    """Play the steps on the set of column names, as the database would: a step that makes two
    columns share a name fails there, so it fails here."""
    columns = set(table_columns)

    def rename(old: str, new: str) -> None:
        assert old in columns, f"no column {old!r} to rename"
        assert new not in columns, f"renaming {old!r} to {new!r}: the table already has {new!r}"
        columns.remove(old)
        columns.add(new)

    for op in ops:
        if isinstance(op, AddColumn):
            assert op.field.name not in columns, f"adding {op.field.name!r}: the table already has it"
            columns.add(op.field.name)
        elif isinstance(op, RenameColumn):
            rename(op.old.name, op.new.name)
        elif isinstance(op, RemoveColumn):
            rename(op.field.name, removed_column(op.field))
        elif isinstance(op, RestoreColumn):
            rename(op.column_name, op.field.name)
    return columns


# -- creating and leaving alone ---------------------------------------------------------------------


def test_a_new_entity_is_one_create_table_then_its_link_tables_then_indexes() -> None:
    new = entity(field("name", "name"), field("tags", "tags", "many_to_many", entity="tag"))
    assert diff_entity(None, new) == [CreateTable(new), CreateLinkTable(new.fields[1]), SyncIndexes()]


def test_an_unchanged_entity_only_resyncs_its_indexes() -> None:
    definition = entity(field("name", "name"), field("age", "age", "integer", min=0))
    assert diff_entity(definition, definition) == [SyncIndexes()]


def test_label_help_required_and_default_changes_touch_no_column() -> None:
    old = entity(field("name", "name"), field("age", "age", "integer"))
    new = entity(
        field("name", "name", label={"zh": "姓名", "en": "Full name"}, help=LABEL, required=True),
        field("age", "age", "integer", default=18),
    )
    assert diff_entity(old, new) == [SyncIndexes()]


# -- add, rename, retype, remove ---------------------------------------------------------------------


def test_a_new_field_is_one_added_column() -> None:
    old = entity(field("name", "name"))
    new = entity(field("name", "name"), field("email", "email", "email"))
    # a new text-like field is searched: every row's search tokens are recomputed
    assert diff_entity(old, new) == [AddColumn(new.fields[1]), SyncSearch(), SyncIndexes()]


def test_rename_keeps_the_field_id_and_is_not_drop_plus_add() -> None:
    old = entity(field("f_phone", "phone"))
    new = entity(field("f_phone", "mobile"))
    assert diff_entity(old, new) == [RenameColumn(old.fields[0], new.fields[0]), SyncIndexes()]


def test_a_new_id_under_an_old_name_is_a_new_field_and_the_old_one_goes_first() -> None:
    """Without the stable id the data is not carried over: the old column is set aside (and
    kept, recoverable) before the new one takes its name."""
    old = entity(field("phone", "phone"))
    new = entity(field("phone_2", "phone"))
    ops = diff_entity(old, new)
    assert ops == [RemoveColumn(old.fields[0]), AddColumn(new.fields[0]), SyncSearch(), SyncIndexes()]
    assert columns_after({"phone"}, ops) == {"_del_phone", "phone"}


def test_retype_is_one_step_with_old_and_new_type() -> None:
    old = entity(field("qty", "qty", "text"))
    new = entity(field("qty", "qty", "integer"))
    [convert, search, sync, recompute] = diff_entity(old, new)
    assert search == SyncSearch()  # qty is no longer searched text
    assert convert == ConvertColumn(old.fields[0], new.fields[0], column_changes=True, source="qty")
    assert (convert.old.type, convert.new.type) == ("text", "integer")
    assert sync == SyncIndexes()
    assert recompute == RecomputeDerived(fields=(), converted=("qty",))


def test_rename_and_retype_together_convert_from_the_column_as_it_was() -> None:
    old = entity(field("qty", "quantity", "text"))
    new = entity(field("qty", "amount", "integer"))
    assert diff_entity(old, new) == [
        RenameColumn(old.fields[0], new.fields[0]),
        ConvertColumn(old.fields[0], new.fields[0], column_changes=True, source="quantity"),
        SyncSearch(),
        SyncIndexes(),
        RecomputeDerived(fields=(), converted=("amount",)),
    ]


def test_a_longer_text_limit_changes_the_column_type() -> None:
    old = entity(field("code", "code", max_length=20))
    new = entity(field("code", "code", max_length=50))
    assert diff_entity(old, new) == [
        ConvertColumn(old.fields[0], new.fields[0], column_changes=True, source="code"),
        SyncSearch(),
        SyncIndexes(),
        RecomputeDerived(fields=(), converted=("code",)),
    ]


def test_a_tighter_range_checks_stored_values_but_keeps_the_column() -> None:
    old = entity(field("age", "age", "integer", min=0))
    new = entity(field("age", "age", "integer", min=18))
    assert diff_entity(old, new) == [
        ConvertColumn(old.fields[0], new.fields[0], column_changes=False, source="age"),
        SyncIndexes(),
        RecomputeDerived(fields=(), converted=("age",)),
    ]


def test_removing_a_field_sets_its_column_aside() -> None:
    old = entity(field("name", "name"), field("fax", "fax"))
    new = entity(field("name", "name"))
    ops = diff_entity(old, new)
    assert ops == [RemoveColumn(old.fields[1]), SyncSearch(), SyncIndexes()]
    assert columns_after({"name", "fax"}, ops) == {"name", "_del_fax"}


def test_re_adding_a_removed_field_by_its_id_restores_its_column() -> None:
    old = entity(field("name", "name"))
    gone = FieldDef.model_validate(field("fax", "fax"))
    new = entity(field("name", "name"), field("fax", "fax_number"))
    ops = diff_entity(old, new, removed={"fax": (gone, "_del_fax")})
    assert ops == [RestoreColumn(new.fields[1], gone, "_del_fax"), SyncSearch(), SyncIndexes()]
    assert columns_after({"name", "_del_fax"}, ops) == {"name", "fax_number"}


def test_re_adding_a_removed_field_with_another_type_converts_from_the_kept_column() -> None:
    old = entity(field("name", "name"))
    gone = FieldDef.model_validate(field("score", "score", "text"))
    new = entity(field("name", "name"), field("score", "score", "integer"))
    assert diff_entity(old, new, removed={"score": (gone, "_del_score")}) == [
        RestoreColumn(new.fields[1], gone, "_del_score"),
        ConvertColumn(gone, new.fields[1], column_changes=True, source="_del_score"),
        SyncIndexes(),
    ]


def test_a_removed_field_that_is_not_re_added_stays_set_aside() -> None:
    definition = entity(field("name", "name"))
    gone = FieldDef.model_validate(field("fax", "fax"))
    assert diff_entity(definition, definition, removed={"fax": (gone, "_del_fax")}) == [SyncIndexes()]


@pytest.mark.parametrize(
    "new_order",
    [
        pytest.param(("a", "c"), id="renamed-field-listed-first"),
        pytest.param(("c", "a"), id="new-field-listed-first"),
    ],
)
def test_a_name_given_up_by_a_rename_can_be_taken_by_a_new_field(new_order: tuple[str, str]) -> None:
    old = entity(field("a", "phone"))
    fields = {"a": field("a", "old_phone"), "c": field("c", "phone")}
    new = entity(*(fields[i] for i in new_order))
    assert columns_after({"phone"}, diff_entity(old, new)) == {"phone", "old_phone"}


def test_two_fields_can_swap_names() -> None:
    old = entity(field("a", "first"), field("b", "second"))
    new = entity(field("a", "second"), field("b", "first"))
    assert columns_after({"first", "second"}, diff_entity(old, new)) == {"first", "second"}


# -- indexes and unique constraints ------------------------------------------------------------------


def test_making_a_field_unique_or_indexed_only_resyncs_indexes() -> None:
    old = entity(field("email", "email"), field("city", "city"))
    new = entity(field("email", "email", unique=True), field("city", "city", index=True))
    assert diff_entity(old, new) == [SyncIndexes()]
    before = {spec.field_ids for spec in index_specs("crm", old)}
    added = {spec.field_ids: spec.unique for spec in index_specs("crm", new) if spec.field_ids not in before}
    assert added == {("email",): True, ("city",): False}


def test_a_composite_unique_constraint_is_an_index_not_a_column_change() -> None:
    old = entity(field("first", "first"), field("last", "last"))
    new = entity(field("first", "first"), field("last", "last"), indexes=[{"fields": ["first", "last"]}])
    unique = entity(
        field("first", "first"),
        field("last", "last"),
        indexes=[{"fields": ["first", "last"], "unique": True}],
    )
    assert diff_entity(old, new) == [SyncIndexes()]
    assert diff_entity(new, unique) == [SyncIndexes()]

    def composite(definition: EntityDef) -> list[bool]:
        return [spec.unique for spec in index_specs("crm", definition) if spec.field_ids == ("first", "last")]

    assert (composite(old), composite(new), composite(unique)) == ([], [False], [True])


def test_indexes_are_named_from_field_ids_so_a_rename_keeps_them() -> None:
    old = entity(
        field("f1", "email", unique=True), field("f2", "city"), indexes=[{"fields": ["email", "city"]}]
    )
    new = entity(
        field("f1", "mail", unique=True), field("f2", "town"), indexes=[{"fields": ["mail", "town"]}]
    )
    assert index_specs("crm", new) == index_specs("crm", old)


# -- relation fields and duplicate rules -------------------------------------------------------------


def test_a_many_to_many_field_is_a_link_table_not_a_column() -> None:
    plain = entity(field("name", "name"))
    linked = entity(field("name", "name"), field("tags", "tags", "many_to_many", entity="tag"))
    assert diff_entity(plain, linked) == [CreateLinkTable(linked.fields[1]), SyncIndexes()]
    assert diff_entity(linked, plain) == [RemoveLinkTable(linked.fields[1]), SyncIndexes()]


def test_a_new_duplicate_rule_adds_its_key_column_and_keys_stored_rows() -> None:
    old = entity(field("phone", "phone", "phone"))
    new = entity(
        field("phone", "phone", "phone"), duplicate_rules=[{"name": "same_phone", "fields": ["phone"]}]
    )
    assert diff_entity(old, new) == [SyncDuplicateKeys(("_dupkey_same_phone",), (), True), SyncIndexes()]


def test_dropping_the_last_duplicate_rule_drops_its_column_without_recomputing() -> None:
    old = entity(
        field("phone", "phone", "phone"), duplicate_rules=[{"name": "by_phone", "fields": ["phone"]}]
    )
    new = entity(field("phone", "phone", "phone"))
    assert diff_entity(old, new) == [SyncDuplicateKeys((), ("_dupkey_by_phone",), False), SyncIndexes()]


def test_duplicate_keys_are_recomputed_when_a_field_they_read_changes_and_only_then() -> None:
    rules = [{"name": "by_name", "fields": ["name"]}]
    old = entity(field("name", "name", max_length=50), field("note", "note"), duplicate_rules=rules)
    read_field_changed = entity(
        field("name", "name", max_length=80), field("note", "note"), duplicate_rules=rules
    )
    other_field_changed = entity(
        field("name", "name", max_length=50), field("note", "note", max_length=80), duplicate_rules=rules
    )
    assert SyncDuplicateKeys((), (), True) in diff_entity(old, read_field_changed)
    assert not any(isinstance(op, SyncDuplicateKeys) for op in diff_entity(old, other_field_changed))


def test_a_changed_duplicate_rule_recomputes_the_keys_in_its_column() -> None:
    old = entity(
        field("name", "name"), field("city", "city"), duplicate_rules=[{"name": "same", "fields": ["name"]}]
    )
    new = entity(
        field("name", "name"),
        field("city", "city"),
        duplicate_rules=[{"name": "same", "fields": ["name", "city"]}],
    )
    assert diff_entity(old, new) == [SyncDuplicateKeys((), (), True), SyncIndexes()]


# -- derived values: formulas and roll-ups ------------------------------------------------------------


def rollup(function: str = "sum", **settings: Any) -> dict[str, Any]:
    return field("total", "total", "rollup", entity="line", link_field="deal", function=function, **settings)


def test_a_new_formula_is_computed_for_stored_rows_as_the_last_step() -> None:
    old = entity(field("qty", "qty", "integer"))
    new = entity(field("qty", "qty", "integer"), field("double", "double", "formula", expression="qty * 2"))
    assert diff_entity(old, new) == [AddColumn(new.fields[1]), SyncIndexes(), RecomputeDerived(("double",))]


def test_a_changed_expression_recomputes_without_converting_the_stored_values() -> None:
    old = entity(field("qty", "qty", "integer"), field("f", "f", "formula", expression="qty * 2"))
    new = entity(field("qty", "qty", "integer"), field("f", "f", "formula", expression="qty * 3"))
    assert diff_entity(old, new) == [SyncIndexes(), RecomputeDerived(("f",))]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"function": "avg", "field": "amount"}, id="function"),
        pytest.param({"field": "price"}, id="field"),
        pytest.param({"filter": "amount > 100"}, id="filter"),
    ],
)
def test_a_changed_rollup_setting_recomputes_it(change: dict[str, Any]) -> None:
    old = entity(field("f_name", "name"), rollup(field="amount"))
    new = entity(field("f_name", "name"), rollup(**{"field": "amount", **change}))
    assert diff_entity(old, new) == [SyncIndexes(), RecomputeDerived(("total",))]


def test_a_new_result_type_converts_leniently_then_recomputes() -> None:
    """The values are derived, so one that does not convert is cleared, not a refusal."""
    old = entity(field("f", "f", "formula", expression="'7'", result_type="text"))
    new = entity(field("f", "f", "formula", expression="7", result_type="integer"))
    assert diff_entity(old, new) == [
        ConvertColumn(old.fields[0], new.fields[0], column_changes=True, source="f", lenient=True),
        SyncIndexes(),
        RecomputeDerived(("f",)),
    ]


def test_a_restored_formula_is_recomputed() -> None:
    old = entity(field("qty", "qty", "integer"))
    gone = FieldDef.model_validate(field("f", "f", "formula", expression="qty * 2"))
    new = entity(field("qty", "qty", "integer"), field("f", "f", "formula", expression="qty * 2"))
    assert diff_entity(old, new, removed={"f": (gone, "_del_f")}) == [
        RestoreColumn(new.fields[1], gone, "_del_f"),
        SyncIndexes(),
        RecomputeDerived(("f",)),
    ]


def test_a_renamed_or_relabelled_formula_is_not_recomputed() -> None:
    old = entity(field("f", "f", "formula", expression="1"))
    new = entity(field("f", "g", "formula", expression="1", label={"zh": "新", "en": "New"}))
    assert diff_entity(old, new) == [RenameColumn(old.fields[0], new.fields[0]), SyncIndexes()]


def test_a_field_made_into_a_formula_converts_leniently_and_is_computed() -> None:
    old = entity(field("qty", "qty", "integer"), field("f", "f", "integer"))
    new = entity(
        field("qty", "qty", "integer"),
        field("f", "f", "formula", expression="qty + 1", result_type="integer"),
    )
    assert diff_entity(old, new) == [
        ConvertColumn(old.fields[1], new.fields[1], column_changes=False, source="f", lenient=True),
        SyncIndexes(),
        RecomputeDerived(("f",)),
    ]
