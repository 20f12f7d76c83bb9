"""Definition checks: unknown ids in layouts, DSL that does not compile, duplicate rules, docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import rule_engine
from form_engine import (
    KEY_VERSION,
    DefinitionInvalid,
    EntityDef,
    FieldItem,
    Problem,
    Section,
    dsl_fields,
    duplicate_keys,
    field_types_markdown,
    key_prefix,
    normalised_key,
    parse_entity,
    record_schema,
)
from tests.form_engine.factories import label, make_entity, options


def base_fields() -> list[dict[str, Any]]:
    return [
        {"id": "f_name", "name": "name", "type": "text", "label": label("Name", "名称")},
        {"id": "f_amount", "name": "amount", "type": "number", "label": label("Amount", "金额")},
        {"id": "f_phone", "name": "phone", "type": "phone", "label": label("Phone", "电话")},
        {"id": "f_email", "name": "email", "type": "email", "label": label("E-mail", "邮箱")},
        {
            "id": "f_account",
            "name": "account",
            "type": "lookup",
            "label": label("Account"),
            "entity": "account",
        },
        {
            "id": "f_rows",
            "name": "rows",
            "type": "sub_table",
            "label": label("Rows"),
            "entity": "line",
            "link_field": "p",
        },
    ]


def problems(**extra: Any) -> dict[str | None, Problem]:
    with pytest.raises(DefinitionInvalid) as info:
        parse_entity(
            {"name": "thing", "label": label("Thing"), "fields": extra.pop("fields", base_fields()), **extra}
        )
    return {p.pointer: p for p in info.value.problems}


def test_layout_with_an_unknown_field_id_is_refused_with_its_pointer() -> None:
    found = problems(
        forms=[
            {
                "name": "full",
                "label": label("Full"),
                "layout": [{"kind": "section", "children": [{"field": "f_nmae"}]}],
            }
        ]
    )
    problem = found["/forms/0/layout/0/children/0/field"]
    assert (
        problem.code == "unknown_field"
        and "f_nmae" in problem.message("en")
        and "f_name" in problem.message("en")
    )


def test_dsl_errors_carry_pointer_line_and_column() -> None:
    found = problems(
        fields=[*base_fields()[:2], {**base_fields()[2], "visible_if": "amout > 1"}],
        validations=[{"condition": "amount >", "message": label("x"), "field": "amount"}],
    )
    typo = found["/fields/2/visible_if"]
    assert typo.code == "invalid_rule" and (typo.line, typo.column) == (1, 1)
    assert "did you mean `amount`" in typo.message("en") and "第 1 行第 1 列" in typo.message("zh")
    assert found["/validations/0/condition"].line == 1
    assert found["/validations/0/condition"].to_dict()["column"] > 1


def test_a_condition_must_be_boolean() -> None:
    found = problems(
        forms=[
            {"name": "f", "label": label("F"), "layout": [{"field": "f_name", "visible_if": "amount + 1"}]}
        ]
    )
    assert found["/forms/0/layout/0/visible_if"].code == "invalid_rule"


def test_required_field_missing_from_a_form_is_refused() -> None:
    fields = [{**base_fields()[0], "required": True}, base_fields()[1]]
    found = problems(
        fields=fields, forms=[{"name": "quick", "label": label("Q"), "layout": [{"field": "f_amount"}]}]
    )
    assert found["/forms/0/layout"].code == "required_field_missing"


def test_field_placed_twice_and_duplicate_form_names_are_refused() -> None:
    form = {"name": "f", "label": label("F"), "layout": [{"field": "f_name"}, {"field": "f_name"}]}
    found = problems(forms=[form, {**form, "layout": []}])
    assert found["/forms/0/layout/1/field"].code == "duplicate_field"
    assert found["/forms/1/name"].code == "duplicate_name"


def test_formula_cycles_and_bad_expressions_are_refused() -> None:
    fields = [
        *base_fields()[:2],
        {"name": "a", "type": "formula", "label": label("A"), "expression": "b + 1"},
        {"name": "b", "type": "formula", "label": label("B"), "expression": "a + 1"},
        {"name": "c", "type": "formula", "label": label("C"), "expression": "nope * 2"},
    ]
    found = problems(fields=fields)
    assert found["/fields"].code == "cycle" and "a -> b -> a" in found["/fields"].message("en")
    assert found["/fields/4/expression"].code == "invalid_rule"


def test_duplicate_rules_must_name_stored_fields() -> None:
    found = problems(
        duplicate_rules=[{"name": "d", "fields": ["phone", "rows", "nothing"], "policy": "block"}]
    )
    assert found["/duplicate_rules/0/fields/1"].code == "not_matchable"
    assert found["/duplicate_rules/0/fields/2"].code == "unknown_field"


def test_rollup_settings_are_checked_against_the_child_entity() -> None:
    child = make_entity(
        [
            {"name": "deal", "type": "lookup", "label": label("Deal"), "entity": "thing"},
            {"name": "amount", "type": "number", "label": label("Amount")},
        ]
    )
    rollup = {
        "name": "total",
        "type": "rollup",
        "label": label("Total"),
        "entity": "line",
        "link_field": "deal",
        "function": "sum",
        "field": "amonut",
        "filter": "amount > 'x'",
    }
    with pytest.raises(DefinitionInvalid) as info:
        parse_entity(
            {"name": "thing", "label": label("T"), "fields": [rollup]}, resolve_entity={"line": child}.get
        )
    pointers = {p.pointer: p.code for p in info.value.problems}
    assert pointers == {"/fields/0/field": "unknown_field", "/fields/0/filter": "invalid_rule"}


@pytest.mark.parametrize(
    ("expression", "result_type", "fits"),
    [
        ("amount * 2", "number", True),
        ("1 + 1", "number", True),
        ("amount", "integer", True),  # rounded to the column
        ("name", "text", True),
        ("amount", "text", True),  # written out
        ("created_at", "date", True),  # the date taken
        ("null", "boolean", True),
        ("name", "number", False),
        ("amount > 1", "number", False),
        ("amount", "boolean", False),
        ("name", "date", False),
        ("today()", "datetime", False),
    ],
)
def test_a_formula_result_must_fit_its_result_type(expression: str, result_type: str, fits: bool) -> None:
    formula = {
        "name": "f",
        "type": "formula",
        "label": label("F"),
        "expression": expression,
        "result_type": result_type,
    }
    fields = [*base_fields()[:2], formula]
    if fits:
        parse_entity({"name": "thing", "label": label("Thing"), "fields": fields})
        return
    found = problems(fields=fields)
    assert found["/fields/2/expression"].code == "result_type_mismatch"
    assert result_type in found["/fields/2/expression"].message("en")
    assert found["/fields/2/expression"].line == 1


@pytest.mark.parametrize(
    ("function", "child_field", "accepted"),
    [
        ("sum", "amount", True),
        ("avg", "stars", True),
        ("sum", "twice", True),
        ("avg", "deal", False),
        ("sum", "owner_id", False),
        ("sum", "label", False),
        ("min", "deal", True),
        ("count", None, True),
    ],
)
def test_sum_and_avg_roll_ups_read_quantities_only(
    function: str, child_field: str | None, accepted: bool
) -> None:
    child = make_entity(
        [
            {"name": "deal", "type": "lookup", "label": label("Deal"), "entity": "thing"},
            {"name": "amount", "type": "currency", "label": label("Amount")},
            {"name": "stars", "type": "rating", "label": label("Stars")},
            {"name": "owner_id", "type": "user", "label": label("Owner")},
            {"name": "label", "type": "text", "label": label("Label")},
            {"name": "twice", "type": "formula", "label": label("Twice"), "expression": "amount * 2"},
        ]
    )
    rollup = {
        "name": "total",
        "type": "rollup",
        "label": label("Total"),
        "entity": "line",
        "link_field": "deal",
    }
    rollup |= {"function": function} | ({"field": child_field} if child_field else {})
    definition = {"name": "thing", "label": label("T"), "fields": [rollup]}
    if accepted:
        parse_entity(definition, resolve_entity={"line": child}.get)
        return
    with pytest.raises(DefinitionInvalid) as info:
        parse_entity(definition, resolve_entity={"line": child}.get)
    [found] = info.value.problems
    assert (found.pointer, found.code) == ("/fields/0/field", "not_a_quantity")
    assert child_field is not None  # a count without a field is always accepted
    assert child_field in found.message("en") and function in found.message("zh")


def test_dsl_fields_maps_types_and_nests_lookups_when_resolvable() -> None:
    account = make_entity([{"name": "grade", "type": "text", "label": label("Grade")}])
    entity = make_entity(base_fields())
    flat = dsl_fields(entity)
    assert flat["amount"] == "number" and flat["account"] == "integer" and flat["created_at"] == "datetime"
    assert "rows" not in flat
    nested = dsl_fields(entity, {"account": account}.get)
    assert nested["account"]["grade"] == "text"


def test_dsl_fields_carry_the_options_of_select_fields() -> None:
    entity = make_entity(
        [
            {"name": "stage", "type": "select", "label": label("Stage"), "options": options("lead", "won")},
            {"name": "colours", "type": "multi_select", "label": label("Colours"), "options": options("red")},
            {"name": "labels", "type": "tags", "label": label("Labels")},
        ]
    )
    fields = dsl_fields(entity)
    stage, colours = fields["stage"], fields["colours"]
    assert isinstance(stage, rule_engine.Choices) and isinstance(colours, rule_engine.Choices)
    assert (stage.kind, stage.options, colours.kind, colours.options) == (
        "text",
        ("lead", "won"),
        "list",
        ("red",),
    )
    assert fields["labels"] == "list"
    assert stage.nearest("选项won") == ["won"]  # a label, as people see it
    with pytest.raises(DefinitionInvalid) as info:
        make_entity(
            [
                {
                    "name": "stage",
                    "type": "select",
                    "label": label("Stage"),
                    "options": options("lead", "won"),
                },
                {"name": "score", "type": "integer", "label": label("Score"), "visible_if": "stage == 'Won'"},
            ]
        )
    [found] = info.value.problems
    assert (found.pointer, found.code) == ("/fields/1/visible_if", "invalid_rule")
    assert found.params["en"].endswith("(did you mean `'won'`?)")


def test_normalised_keys_match_duplicates_however_they_were_typed() -> None:
    entity = make_entity(
        [*base_fields(), {"name": "city", "type": "address", "label": label("City")}],
        duplicate_rules=[
            {"name": "same_phone", "fields": ["phone"], "policy": "block"},
            {"name": "same_name_city", "fields": ["name", "city"], "policy": "warn"},
        ],
    )
    phone_rule, name_rule = entity.duplicate_rules
    a = {"phone": "+8613812345678", "name": "ACME  Ltd", "city": {"province": "北京市", "city": "北京市"}}
    b = {"phone": "+8613812345678", "name": "acme ltd", "city": {"province": "北京市", "city": "北京市"}}
    assert normalised_key(entity, phone_rule, a) == normalised_key(entity, phone_rule, b) is not None
    other_phone = {"phone": "+8613900000000"}
    assert normalised_key(entity, phone_rule, a) != normalised_key(entity, phone_rule, other_phone)
    keys = duplicate_keys(entity, a)
    assert set(keys) == {"same_phone", "same_name_city"} and keys == duplicate_keys(entity, b)
    assert duplicate_keys(entity, {**b, "name": "acme co"})["same_name_city"] != keys["same_name_city"]
    assert normalised_key(entity, name_rule, {"name": "acme"}) is None


def test_keys_name_their_rule_and_normalisation_version() -> None:
    entity = make_entity(
        base_fields(), duplicate_rules=[{"name": "same_name", "fields": ["name"], "policy": "warn"}]
    )
    key = normalised_key(entity, entity.duplicate_rules[0], {"name": "腾讯（深圳）"})
    assert key is not None and key.startswith(key_prefix("same_name")) and len(key) <= 100
    assert key_prefix("same_name") == f"same_name:{KEY_VERSION}:"
    assert key == normalised_key(entity, entity.duplicate_rules[0], {"name": "腾讯 (深圳)"})


def test_record_schema_accepts_what_the_runtime_accepts() -> None:
    import jsonschema

    entity = make_entity(base_fields())
    schema = record_schema(entity, "create")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"name": "x", "amount": "1.5", "phone": "+8613812345678", "rows": [{}]}, schema)
    assert "rows" in schema["properties"]


def test_definitions_round_trip_through_export() -> None:
    entity = make_entity(
        base_fields(), forms=[{"name": "f", "label": label("F"), "layout": [{"field": "f_name"}]}]
    )
    again = EntityDef.model_validate(entity.export())
    assert again.export() == entity.export()
    item = again.forms[0].layout[0]
    assert isinstance(item, FieldItem)
    assert item.field == "f_name"


def test_committed_field_type_doc_is_generated_from_the_registry() -> None:
    committed = Path(__file__).resolve().parents[2] / "docs" / "field_types.md"
    assert committed.read_text("utf-8") == field_types_markdown(), "run: python -m form_engine.docs"


def test_a_layout_of_columns_and_tabs_survives_its_own_export() -> None:
    """An export leaves default ``kind`` values out; reading it back must find the same nodes
    (a section holding columns and tabs once came back as a refused section)."""
    layout = [
        {
            "kind": "section",
            "label": label("Basics", "基本"),
            "children": [
                {
                    "kind": "columns",
                    "columns": [{"children": [{"field": "f_name"}]}, {"children": [{"field": "f_phone"}]}],
                },
                {
                    "kind": "tabs",
                    "tabs": [{"label": label("More", "更多"), "children": [{"field": "f_email"}]}],
                },
            ],
        }
    ]
    fields = [f for f in base_fields() if f["type"] != "sub_table"]
    forms = [{"name": "main", "label": label("Main"), "layout": layout}]
    entity = parse_entity({"name": "thing", "label": label("Thing"), "fields": fields, "forms": forms})
    exported = entity.export()
    assert "kind" not in exported["forms"][0]["layout"][0]["children"][0]  # the export drops defaults
    again = parse_entity(exported)
    assert again.export() == exported
    section = again.forms[0].layout[0]
    assert isinstance(section, Section)
    assert [node.kind for node in section.children] == ["columns", "tabs"]
