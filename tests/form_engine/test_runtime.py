"""Server-side enforcement: coercion, defaults, conditions, forms, formulas and validation rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from form_engine import RecordInvalid, compile_entity, describe_form, parse_entity
from tests.form_engine.factories import label, make_entity, options

NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)


def deal_entity() -> Any:
    return make_entity(
        [
            {
                "id": "f_title",
                "name": "title",
                "type": "text",
                "label": label("Title", "名称"),
                "required": True,
            },
            {
                "id": "f_stage",
                "name": "stage",
                "type": "select",
                "label": label("Stage", "阶段"),
                "options": options("open", "won", "lost"),
                "default": "open",
            },
            {
                "id": "f_lost_reason",
                "name": "lost_reason",
                "type": "text",
                "label": label("Lost reason", "输单原因"),
                "visible_if": "stage == 'lost'",
                "required_if": "stage == 'lost'",
            },
            {"id": "f_quantity", "name": "quantity", "type": "integer", "label": label("Quantity", "数量")},
            {"id": "f_price", "name": "price", "type": "currency", "label": label("Price", "单价")},
            {
                "id": "f_total",
                "name": "total",
                "type": "formula",
                "label": label("Total", "总额"),
                "expression": "quantity * price",
                "result_type": "number",
            },
            {
                "id": "f_close",
                "name": "close_date",
                "type": "date",
                "label": label("Close date", "预计成交日期"),
                "default_expression": "today()",
            },
            {
                "id": "f_account",
                "name": "account",
                "type": "lookup",
                "label": label("Account", "客户"),
                "entity": "account",
                "copy_fields": {"region": "region"},
            },
            {"id": "f_region", "name": "region", "type": "text", "label": label("Region", "区域")},
            {
                "id": "f_code",
                "name": "code",
                "type": "text",
                "label": label("Code", "编码"),
                "readonly_if": "stage == 'won'",
            },
        ],
        forms=[
            {
                "name": "quick",
                "label": label("Quick", "快速新建"),
                "layout": [{"field": "f_title"}, {"field": "f_stage"}, {"field": "f_price"}],
            },
            {
                "name": "full",
                "label": label("Full", "完整"),
                "layout": [
                    {
                        "kind": "section",
                        "label": label("Basics", "基本信息"),
                        "children": [
                            {
                                "kind": "columns",
                                "columns": [
                                    {"children": [{"field": "f_title"}, {"field": "f_stage"}]},
                                    {"children": [{"field": "f_lost_reason"}, {"field": "f_close"}]},
                                ],
                            }
                        ],
                    },
                    {
                        "kind": "tabs",
                        "tabs": [
                            {
                                "label": label("Money", "金额"),
                                "children": [
                                    {
                                        "kind": "section",
                                        "visible_if": "stage != 'lost'",
                                        "children": [
                                            {"field": "f_quantity", "required_if": "stage == 'won'"},
                                            {
                                                "field": "f_price",
                                                "placeholder": label("e.g. 100", "例如 100"),
                                            },
                                            {"field": "f_total"},
                                        ],
                                    }
                                ],
                            }
                        ],
                    },
                    {"field": "f_account"},
                    {"field": "f_region"},
                    {"field": "f_code"},
                ],
            },
        ],
        validations=[
            {
                "condition": "close_date >= date(created_at)",
                "message": label(
                    "The close date cannot be before the creation date", "预计成交日期不能早于创建日期"
                ),
                "field": "close_date",
            },
            {
                "when": "stage == 'won'",
                "condition": "price > 0",
                "message": label("A won deal needs a price", "赢单必须填写单价"),
                "field": "price",
            },
        ],
    )


def problems_of(call: Any, locale: str = "en") -> dict[str | None, tuple[str, str]]:
    with pytest.raises(RecordInvalid) as info:
        call()
    return {p.field: (p.code, p.message(locale)) for p in info.value.problems}


def test_create_coerces_applies_defaults_and_computes_formulas() -> None:
    runtime = compile_entity(deal_entity())
    values = runtime.validate({"title": " Big deal ", "quantity": "3", "price": "¥1,000.50"}, now=NOW)
    assert values == {
        "title": "Big deal",
        "quantity": 3,
        "price": Decimal("1000.50"),
        "stage": "open",
        "close_date": date(2026, 11, 22),
        "total": Decimal("3001.50"),
    }


def test_all_type_problems_are_reported_together_in_the_request_locale() -> None:
    runtime = compile_entity(deal_entity())
    found = problems_of(
        lambda: runtime.validate({"quantity": "many", "price": "x", "stage": "?"}, locale="zh"), "zh"
    )
    assert found["quantity"][0] == "invalid_integer" and "数量应为整数" in found["quantity"][1]
    assert found["price"][0] == "invalid_number"
    assert found["stage"][0] == "invalid_option"
    assert found["title"] == ("required", "名称为必填项")


def test_unknown_and_computed_fields_are_refused_with_a_hint() -> None:
    runtime = compile_entity(deal_entity())
    found = problems_of(lambda: runtime.validate({"title": "x", "titel": "y", "total": 5}))
    assert found["titel"][0] == "unknown_field" and "did you mean title" in found["titel"][1]
    assert found["total"][0] == "not_writable"


def test_hidden_field_is_neither_required_nor_accepted() -> None:
    runtime = compile_entity(deal_entity())
    values = runtime.validate({"title": "x", "stage": "open", "lost_reason": "price"}, now=NOW)
    assert "lost_reason" not in values
    assert values.dropped == ("lost_reason",)
    found = problems_of(
        lambda: runtime.validate({"title": "x", "stage": "open", "lost_reason": "p"}, on_hidden="refuse")
    )
    assert found["lost_reason"][0] == "hidden_field"


def test_required_if_applies_when_the_field_shows() -> None:
    runtime = compile_entity(deal_entity())
    found = problems_of(lambda: runtime.validate({"title": "x", "stage": "lost"}, now=NOW), "zh")
    assert found == {"lost_reason": ("required", "输单原因为必填项")}
    assert (
        runtime.validate({"title": "x", "stage": "lost", "lost_reason": "price"}, now=NOW)["lost_reason"]
        == "price"
    )


def test_update_evaluates_conditions_on_old_merged_with_new() -> None:
    runtime = compile_entity(deal_entity())
    old = {"title": "x", "stage": "open", "close_date": date(2026, 12, 1), "created_at": NOW, "code": "A1"}
    found = problems_of(lambda: runtime.validate({"stage": "lost"}, partial=True, old=old, now=NOW))
    assert found == {"lost_reason": ("required", "Lost reason is required")}
    values = runtime.validate({"stage": "lost", "lost_reason": "late"}, partial=True, old=old, now=NOW)
    assert values["lost_reason"] == "late" and "title" not in values


def test_readonly_if_refuses_changes_but_accepts_the_same_value() -> None:
    runtime = compile_entity(deal_entity())
    old = {"title": "x", "stage": "won", "code": "A1", "quantity": 1, "price": Decimal(5)}
    found = problems_of(lambda: runtime.validate({"code": "B2"}, partial=True, old=old, locale="zh"), "zh")
    assert found == {"code": ("readonly", "编码当前为只读，不能修改")}
    assert runtime.validate({"code": "A1"}, partial=True, old=old)["code"] == "A1"


def test_validation_rules_report_each_failure_on_its_field() -> None:
    runtime = compile_entity(deal_entity())
    old = {"title": "x", "stage": "open", "created_at": NOW, "quantity": 1, "price": Decimal(0)}
    call = lambda: runtime.validate(  # noqa: E731
        {"close_date": "2026-11-01", "stage": "won"}, partial=True, old=old, now=NOW, locale="zh"
    )
    found = problems_of(call, "zh")
    assert found == {
        "close_date": ("validation_rule", "预计成交日期不能早于创建日期"),
        "price": ("validation_rule", "赢单必须填写单价"),
    }


def test_a_form_accepts_only_its_fields_and_adds_its_conditions() -> None:
    runtime = compile_entity(deal_entity())
    values = runtime.validate({"title": "x", "price": "3", "quantity": 2}, form="quick", now=NOW)
    assert "quantity" not in values and values.dropped == ("quantity",)
    found = problems_of(lambda: runtime.validate({"title": "x", "stage": "won"}, form="full", now=NOW))
    assert found["quantity"] == ("required", "Quantity is required")
    # the money section hides for lost deals, so its required_if does not apply
    runtime.validate({"title": "x", "stage": "lost", "lost_reason": "r"}, form="full", now=NOW)
    assert problems_of(lambda: runtime.validate({"title": "x"}, form="nope"))[None][0] == "unknown_form"


def test_lookup_linkage_copies_fields_from_the_referenced_record() -> None:
    runtime = compile_entity(deal_entity())
    loaded = []

    def loader(field: str, record_id: Any) -> dict[str, Any]:
        loaded.append((field, record_id))
        return {"region": "华东"}

    values = runtime.validate({"title": "x", "account": 7}, loader=loader, now=NOW)
    assert values["region"] == "华东" and loaded == [("account", 7)]
    values = runtime.validate({"title": "x", "account": 7, "region": "华南"}, loader=loader, now=NOW)
    assert values["region"] == "华南"
    assert runtime.linked_fields() == {"account": {"region": "region"}}


def test_field_state_for_the_ui() -> None:
    runtime = compile_entity(deal_entity())
    state = runtime.field_state({"stage": "won"}, form="full")
    assert state["lost_reason"]["visible"] is False
    assert state["quantity"] == {"visible": True, "required": True, "readonly": False}
    assert state["code"]["readonly"] is True and state["total"]["readonly"] is True


def test_simple_entities_take_the_fast_path_with_the_same_results() -> None:
    entity = make_entity(
        [
            {"name": "name", "type": "text", "label": label("Name"), "required": True},
            {"name": "n", "type": "integer", "label": label("N"), "default": 3},
            {
                "name": "rows",
                "type": "sub_table",
                "label": label("Rows"),
                "entity": "line",
                "link_field": "parent",
            },
        ]
    )
    runtime = compile_entity(entity)
    values = runtime.validate({"name": "a", "rows": [{"sku": "x"}]})
    assert values == {"name": "a", "n": 3} and values.relations == {"rows": [{"sku": "x"}]}
    assert runtime.validate({"n": None}, partial=True) == {"n": None}
    assert problems_of(lambda: runtime.validate({"name": None}, partial=True)) == {
        "name": ("required", "Name is required")
    }


def test_the_inline_fast_path_stores_only_ascii_phone_numbers() -> None:
    runtime = compile_entity(make_entity([{"name": "phone", "type": "phone", "label": label("Phone")}]))
    # Looks canonical but for one full-width digit: the inline check must not store it as is.
    assert runtime.validate({"phone": "+8613８12345678"}) == {"phone": "+8613812345678"}
    assert problems_of(lambda: runtime.validate({"phone": "+8613٨12345678"}))["phone"][0] == "invalid_phone"


def test_describe_form_gives_the_ui_everything_it_renders() -> None:
    description = describe_form(deal_entity(), "full", "zh")
    assert description["label"] == "完整"
    section = description["layout"][0]
    assert section["kind"] == "section" and section["label"] == "基本信息"
    column_fields = [child["field"] for child in section["children"][0]["columns"][0]["children"]]
    assert column_fields == ["title", "stage"]
    price = description["fields"]["price"]
    assert price["placeholder"] == "例如 100" and price["label"] == "单价" and price["type"] == "currency"
    assert description["fields"]["stage"]["settings"]["options"][1] == {"value": "won", "label": "选项won"}
    assert description["fields"]["lost_reason"]["conditions"] == {
        "visible_if": "stage == 'lost'",
        "required_if": "stage == 'lost'",
    }
    assert description["depends_on"] == ["stage"]


def test_an_update_is_not_refused_for_a_required_gap_it_did_not_touch() -> None:
    def entity(*extra: dict[str, Any]) -> Any:
        fields = [
            {"name": "code", "type": "text", "label": {"zh": "编码", "en": "Code"}, "required": True},
            {"name": "note", "type": "text", "label": {"zh": "备注", "en": "Note"}},
            *extra,
        ]
        return compile_entity(
            parse_entity({"name": "thing", "label": {"zh": "物", "en": "Thing"}, "fields": fields})
        )

    kind = {"name": "kind", "type": "text", "label": {"zh": "类", "en": "Kind"}}
    why = {"name": "why", "type": "text", "label": {"zh": "原因", "en": "Why"}, "required_if": "kind == 'x'"}
    plain = entity()  # no conditions: the fast path
    conditional = entity(kind, why)  # the full path
    stored = {"code": None, "note": "a", "kind": None, "why": None}
    for runtime in (plain, conditional):
        assert runtime.validate({"note": "b"}, partial=True, old=stored)["note"] == "b"
    with pytest.raises(RecordInvalid) as info:
        conditional.validate({"kind": "x"}, partial=True, old=stored)
    assert [p.field for p in info.value.problems] == ["why"]


def _required_text(*, conditional: bool) -> Any:
    """Required text fields on the fast path, or (``conditional``) on the full one."""
    extra = {"visible_if": "true"} if conditional else {}
    return compile_entity(
        make_entity(
            [
                {"name": "name", "type": "text", "label": label("Name", "名称"), "required": True, **extra},
                {"name": "short", "type": "text", "label": label("Short"), "required": True, "max_length": 3},
                {"name": "notes", "type": "long_text", "label": label("Notes"), "required": True},
                {"name": "body", "type": "rich_text", "label": label("Body"), "required": True},
            ]
        )
    )


@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("blank", ["", "   ", "\u3000\t", "\n"])
def test_required_text_empty_after_trimming_is_missing(conditional: bool, blank: str) -> None:
    runtime = _required_text(conditional=conditional)
    create = {"name": blank, "short": blank, "notes": blank, "body": f"<p>{blank}<br></p>"}
    found = problems_of(lambda: runtime.validate(create))
    assert {name: code for name, (code, _) in found.items()} == dict.fromkeys(create, "required")
    stored = {"name": "a", "short": "b", "notes": "c", "body": "<p>d</p>"}
    found = problems_of(lambda: runtime.validate({"name": blank}, partial=True, old=stored))
    assert found == {"name": ("required", "Name is required")}


@pytest.mark.parametrize("conditional", [False, True])
def test_a_bad_value_is_one_problem_not_also_required(conditional: bool) -> None:
    runtime = _required_text(conditional=conditional)
    found = problems_of(lambda: runtime.validate({"name": "a", "short": "abcd", "notes": "x", "body": "y"}))
    assert found == {"short": ("too_long", "Short allows at most 3 characters (got 4)")}
    found = problems_of(lambda: runtime.validate({"name": ["a"], "short": "a", "notes": 1, "body": "y"}))
    assert {name: code for name, (code, _) in found.items()} == {
        "name": "invalid_text",
        "notes": "invalid_text",
    }


def test_blank_text_of_an_optional_field_is_stored_as_null() -> None:
    runtime = compile_entity(
        make_entity(
            [
                {"name": "note", "type": "text", "label": label("Note")},
                {"name": "due", "type": "date", "label": label("Due")},
                {"name": "mail", "type": "email", "label": label("Mail")},
                {"name": "extra", "type": "json", "label": label("Extra")},
            ]
        )
    )
    values = runtime.validate({"note": "  ", "due": "", "mail": " ", "extra": ""})
    assert values == {"note": None, "due": None, "mail": None, "extra": ""}


def test_the_default_form_the_forms_api_lists_is_accepted_by_name() -> None:
    """The forms API always offers ``default`` (every field); writing with it must work too."""
    runtime = compile_entity(deal_entity())
    values = runtime.validate({"title": "x", "price": "3", "quantity": 2}, form="default", now=NOW)
    assert values["quantity"] == 2 and not values.dropped  # every field, unlike the quick form
    found = problems_of(lambda: runtime.validate({"title": "x"}, form="nope"))
    assert found[None][0] == "unknown_form"
