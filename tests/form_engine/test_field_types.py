"""Each field type: good values (JSON and spreadsheet text), bad values with zh/en messages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from form_engine import FieldTypeRegistry, FieldValueError, Problem, registry
from form_engine.field_types.numeric import CurrencyConfig, NumberConfig
from form_engine.field_types.text import TextConfig
from tests.form_engine.factories import make_field, options


def refusal(field: Any, value: Any, *, text: bool = False) -> tuple[str, str, str]:
    """The problem code and its zh and en messages for a refused value."""
    with pytest.raises(FieldValueError) as info:
        if text:
            field.field_type.parse_text(value, field)
        else:
            field.field_type.coerce(value, field)
    exc = info.value
    problem = Problem(
        exc.problem_code, field=field.name, params={**exc.params, "label": field.label.model_dump()}
    )
    return exc.problem_code, problem.message("zh"), problem.message("en")


GOOD: list[tuple[str, dict[str, Any], Any, Any]] = [
    ("text", {}, "  Acme  ", "Acme"),
    ("text", {}, 42, "42"),
    ("long_text", {}, "line 1\nline 2", "line 1\nline 2"),
    ("integer", {}, "1,200", 1200),
    ("integer", {}, 12.0, 12),
    ("number", {"scale": 2}, "1,234.50", Decimal("1234.50")),
    ("number", {"scale": 2}, 0.1, Decimal("0.10")),
    ("number", {}, "1.2万", Decimal("12000")),
    ("currency", {}, "¥1234", Decimal("1234.00")),
    ("currency", {}, {"amount": "9.90", "currency": "CNY"}, Decimal("9.90")),
    ("percent", {}, "12.5%", Decimal("0.125")),
    ("percent", {}, "12.5％", Decimal("0.125")),
    ("percent", {}, 0.125, Decimal("0.125")),
    ("percent", {}, "0.5", Decimal("0.5")),
    ("percent", {}, 1, Decimal("1")),
    ("percent", {}, "50 %", Decimal("0.5")),
    ("percent", {}, "150%", Decimal("1.5")),
    ("percent", {}, "-20%", Decimal("-0.2")),
    ("currency", {}, "１,２３４.５", Decimal("1234.50")),
    ("currency", {}, "1 234 567", Decimal("1234567.00")),
    ("number", {}, "1_000", Decimal("1000")),
    ("rating", {}, 4, 4),
    ("boolean", {}, "是", True),
    ("boolean", {}, "false", False),
    ("boolean", {}, "否", False),
    ("date", {}, "2026/11/22", date(2026, 11, 22)),
    ("date", {}, "2026年11月22日", date(2026, 11, 22)),
    ("date", {}, "2026-11-22", date(2026, 11, 22)),
    ("datetime", {}, "2026-11-22 09:30", datetime(2026, 11, 22, 1, 30, tzinfo=UTC)),
    ("datetime", {}, "2026-11-22T09:30:00Z", datetime(2026, 11, 22, 9, 30, tzinfo=UTC)),
    ("time", {}, "9:30", time(9, 30)),
    ("select", {"options": options("a", "b")}, "b", "b"),
    ("multi_select", {"options": options("a", "b", "c")}, ["c", "a", "c"], ["a", "c"]),
    ("tags", {}, ["VIP", " vip ", "key  account"], ["VIP", "key account"]),
    ("email", {}, " Li.Lei@Example.COM ", "Li.Lei@example.com"),
    ("phone", {}, "13812345678", "+8613812345678"),
    ("phone", {}, "+86 138-1234-5678", "+8613812345678"),
    ("phone", {}, "(010) 1234 5678", "+861012345678"),
    ("phone", {}, "0755-8765 4321", "+8675587654321"),
    ("phone", {}, "+1 415 555 2671", "+14155552671"),
    ("phone", {}, "１３８ １２３４ ５６７８", "+8613812345678"),
    ("phone", {}, "＋８６ 13８-1234-5678", "+8613812345678"),
    ("url", {}, "www.example.com/a", "https://www.example.com/a"),
    ("cn_resident_id", {}, "11010519491231002x", "11010519491231002X"),
    ("cn_resident_id", {}, "440524188001010014", "440524188001010014"),
    ("cn_resident_id", {}, "１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
    ("lookup", {"entity": "account"}, "12", 12),
    ("lookup", {"entity": "account"}, {"id": 7, "title": "Acme"}, 7),
    ("user", {}, 3, 3),
    ("department", {}, 5, 5),
    ("many_to_many", {"entity": "tag"}, [3, "4", 3], [3, 4]),
    ("colour", {}, "#abc", "#AABBCC"),
    ("colour", {}, "rgb(26, 115, 232)", "#1A73E8"),
    ("geolocation", {}, "39.9042, 116.4074", {"lat": 39.9042, "lng": 116.4074}),
    ("json", {}, {"a": [1, 2]}, {"a": [1, 2]}),
]


@pytest.mark.parametrize(("type_", "settings", "value", "expected"), GOOD)
def test_good_values_are_coerced(type_: str, settings: dict[str, Any], value: Any, expected: Any) -> None:
    field = make_field(type_, **settings)
    assert field.field_type.coerce(value, field) == expected


BAD: list[tuple[str, dict[str, Any], Any, str, str, str]] = [
    ("text", {"max_length": 3}, "abcd", "too_long", "最多 3 个字符", "at most 3 characters"),
    ("text", {}, ["x"], "invalid_text", "应为文本", "must be text"),
    ("integer", {}, "12.5", "invalid_integer", "应为整数", "whole number"),
    ("integer", {}, True, "invalid_integer", "应为整数", "whole number"),
    ("integer", {"min": 0}, -1, "out_of_range", "应在 0 到", "between 0 and"),
    ("number", {"scale": 2}, "1.234", "too_many_digits", "2 位小数", "2 decimals"),
    ("number", {}, "abc", "invalid_number", "应为数字", "must be a number"),
    ("currency", {}, {"amount": "1", "currency": "USD"}, "wrong_currency", "币种应为 CNY", "is in CNY"),
    ("percent", {}, "ten%", "invalid_number", "应为数字", "must be a number"),
    ("percent", {}, 50, "percent_ambiguous", '50% 写作 0.5 或 "50%"', 'e.g. 50 % as 0.5 or "50%"'),
    ("percent", {}, "50", "percent_ambiguous", '请写 "50%"', 'send "50%"'),
    ("percent", {}, -3, "percent_ambiguous", '请写 "-3%"', 'send "-3%"'),
    ("currency", {}, "12,34", "invalid_number", "应为数字", "must be a number"),
    ("currency", {}, "1,2345.00", "invalid_number", "应为数字", "must be a number"),
    ("currency", {}, "1.234,50", "invalid_number", "应为数字", "must be a number"),
    ("integer", {}, "12,34", "invalid_integer", "应为整数", "whole number"),
    ("number", {}, "12_34", "invalid_number", "应为数字", "must be a number"),
    ("number", {}, "1,000 000", "invalid_number", "应为数字", "must be a number"),
    ("number", {}, "Infinity", "invalid_number", "应为数字", "must be a number"),
    ("rating", {}, 6, "invalid_rating", "0 到 5", "from 0 to 5"),
    ("boolean", {}, "maybe", "invalid_boolean", "是/否", "yes/no"),
    ("date", {}, "2026-02-30", "invalid_date", "应为日期", "must be a date"),
    ("date", {}, "22/11/2026", "invalid_date", "应为日期", "must be a date"),
    ("datetime", {}, "tomorrow", "invalid_datetime", "应为日期时间", "date and time"),
    ("time", {}, "25:00", "invalid_time", "应为时间", "time of day"),
    ("select", {"options": options("a")}, "z", "invalid_option", "不在选项中", "has no option z"),
    ("multi_select", {"options": options("a")}, ["a", "z"], "invalid_option", "不在选项中", "no option z"),
    ("tags", {"max_items": 1}, ["a", "b"], "too_many_items", "最多 1 项", "at most 1 items"),
    ("email", {}, "someone@", "invalid_email", "电子邮箱", "e-mail address"),
    ("email", {}, "a..b@example.com", "invalid_email", "电子邮箱", "e-mail address"),
    ("phone", {}, "12345", "invalid_phone", "电话号码", "phone number"),
    ("phone", {}, "1381234567", "invalid_phone", "电话号码", "phone number"),
    ("phone", {}, "١٣٨١٢٣٤٥٦٧٨", "invalid_phone", "电话号码", "phone number"),
    ("url", {}, "javascript:alert(1)", "invalid_url", "网址", "web address"),
    ("url", {}, "ftp://example.com", "invalid_url", "网址", "web address"),
    ("cn_resident_id", {}, "110105194912310021", "resident_id_checksum", "校验码", "check character"),
    ("cn_resident_id", {}, "110105194913310021", "resident_id_birth_date", "出生日期", "birth date"),
    ("cn_resident_id", {}, "990105194912310021", "resident_id_region", "省级行政区", "province code"),
    ("cn_resident_id", {}, "1101051949", "invalid_resident_id", "18 位", "18-character"),
    ("cn_resident_id", {}, "11010519491231002٣", "invalid_resident_id", "18 位", "18-character"),
    ("lookup", {"entity": "account"}, -3, "invalid_reference", "记录编号", "record id"),
    ("lookup", {"entity": "account"}, "1²", "invalid_reference", "记录编号", "record id"),
    ("user", {}, "bob", "invalid_user", "用户编号", "user id"),
    ("department", {}, 1.5, "invalid_department", "部门编号", "department id"),
    ("colour", {}, "blue", "invalid_colour", "颜色", "colour"),
    ("geolocation", {}, {"lat": 91, "lng": 0}, "invalid_geolocation", "纬度", "latitude"),
    (
        "json",
        {"schema": {"type": "object", "required": ["a"]}},
        {},
        "invalid_json",
        "JSON",
        "'a' is a required",
    ),
    ("sub_table", {"entity": "line", "link_field": "deal"}, [1], "invalid_rows", "明细行", "list of rows"),
]


@pytest.mark.parametrize(("type_", "settings", "value", "code", "zh", "en"), BAD)
def test_bad_values_are_refused_in_both_languages(
    type_: str, settings: dict[str, Any], value: Any, code: str, zh: str, en: str
) -> None:
    field = make_field(type_, **settings)
    found, zh_message, en_message = refusal(field, value)
    assert found == code
    assert zh in zh_message and zh_message.startswith("值"), zh_message
    assert en in en_message and en_message.startswith("Value"), en_message


@pytest.mark.parametrize(
    ("type_", "settings", "text", "expected"),
    [
        ("number", {"scale": 2}, "1,234.50", Decimal("1234.50")),
        ("currency", {}, "￥1,234", Decimal("1234.00")),
        ("currency", {}, "(1,000.00)", Decimal("-1000.00")),
        ("percent", {}, "0.125", Decimal("0.125")),
        ("percent", {}, "12.5%", Decimal("0.125")),
        ("boolean", {}, "是", True),
        ("boolean", {}, "TRUE", True),
        ("date", {}, "2026/11/22", date(2026, 11, 22)),
        ("rating", {}, "★★★☆☆", 3),
        ("select", {"options": options("a", "b")}, "选项b", "b"),
        ("select", {"options": options("a", "b")}, "B", "b"),
        ("multi_select", {"options": options("a", "b")}, "选项b、A", ["a", "b"]),
        ("tags", {}, "大客户, 华东；VIP", ["大客户", "华东", "VIP"]),
        ("json", {}, '{"a": 1}', {"a": 1}),
        ("text", {}, "   ", None),
    ],
)
def test_spreadsheet_text_is_accepted(type_: str, settings: dict[str, Any], text: str, expected: Any) -> None:
    field = make_field(type_, **settings)
    assert field.field_type.parse_text(text, field) == expected


@pytest.mark.parametrize(
    ("type_", "text", "code"),
    [
        ("integer", "twelve", "invalid_integer"),
        ("boolean", "也许", "invalid_boolean"),
        ("date", "下周一", "invalid_date"),
        ("attachment", "report.pdf", "invalid_file"),
        ("json", "{oops", "invalid_json"),
        ("percent", "12.5", "percent_ambiguous"),
        ("currency", "12,34", "invalid_number"),
    ],
)
def test_spreadsheet_text_refused_clearly(type_: str, text: str, code: str) -> None:
    field = make_field(type_)
    found, zh, en = refusal(field, text, text=True)
    assert found == code
    assert zh and en and zh != en


def test_a_percent_setting_change_keeps_stored_fractions_above_one() -> None:
    old, new = make_field("percent"), make_field("percent", scale=4, max=2)
    assert new.field_type.convert_from(Decimal("1.5"), old, new) == Decimal("1.5")
    assert new.field_type.convert_from(1.25, old, new) == Decimal("1.25")


def test_resident_id_is_masked_on_display() -> None:
    field = make_field("cn_resident_id")
    assert field.field_type.display("11010519491231002X", field, "zh") == "1101**********002X"


@pytest.mark.parametrize(
    ("type_", "settings", "value", "locale", "shown"),
    [
        ("currency", {}, Decimal("1234.5"), "zh", "¥1,234.50"),
        ("currency", {"currency": "USD"}, Decimal("-3"), "en", "-$3.00"),
        ("percent", {}, Decimal("0.125"), "en", "12.5%"),
        ("boolean", {}, True, "zh", "是"),
        ("phone", {}, "+8613812345678", "zh", "138 1234 5678"),
        ("phone", {}, "+861012345678", "zh", "010-1234 5678"),
        ("rating", {}, 3, "en", "★★★☆☆"),
        ("select", {"options": options("a")}, "a", "zh", "选项a"),
        ("date", {}, date(2026, 11, 22), "zh", "2026年11月22日"),
        ("datetime", {}, datetime(2026, 11, 22, 1, 30, tzinfo=UTC), "en", "2026-11-22 09:30"),
        ("rich_text", {}, "<p>Hello <b>world</b></p>", "en", "Hello world"),
        (
            "address",
            {},
            {"province": "北京市", "city": "北京市", "district": "朝阳区", "detail": "建国路88号"},
            "zh",
            "北京市朝阳区建国路88号",
        ),
    ],
)
def test_display(type_: str, settings: dict[str, Any], value: Any, locale: str, shown: str) -> None:
    field = make_field(type_, **settings)
    assert field.field_type.display(value, field, locale) == shown


@pytest.mark.parametrize(
    ("type_", "a", "b"),
    [
        ("phone", "13812345678", "+86 138 1234 5678"),
        ("email", "Li@Example.com", "li@example.COM"),
        ("text", "  ACME   Ltd ", "acme ltd"),
        ("address", {"province": "北京", "city": "北京市"}, {"province": "北京市"}),
        ("address", {"province": "广西", "city": "南宁"}, {"province": "广西壮族自治区", "city": "南宁市"}),
        ("url", "https://www.example.com/", "http://example.com"),
        ("text", "腾讯科技（深圳） 有限公司", "腾讯科技(深圳)有限公司"),
        ("text", "ＡＣＭＥ　Ｃｏ．，Ｌｔｄ", "Acme Co.,Ltd"),
        ("long_text", "迈克尔•乔丹", "迈克尔·乔丹"),
        ("rich_text", "<p>上海、北京</p>", "<p>上海,北京</p>"),
        ("tags", ["ＶＩＰ", "华东"], ["华东", "vip"]),
        (
            "address",
            {"province": "北京", "detail": "建国路８８号（A座）"},
            {"province": "北京市", "detail": "建国路88号(a座)"},
        ),
    ],
)
def test_normalised_values_match_what_people_call_the_same(type_: str, a: Any, b: Any) -> None:
    field = make_field(type_)
    ft = field.field_type
    assert ft.normalise(ft.coerce(a, field), field) == ft.normalise(ft.coerce(b, field), field)


def test_every_type_has_a_label_docs_schema_and_dsl_type() -> None:
    allowed = {None, "text", "number", "integer", "boolean", "date", "datetime", "list"}
    for ft in registry:
        assert ft.label.zh and ft.label.en and ft.stores, ft.name
        assert ft.dsl_type in allowed, ft.name
        assert ft.storage in ("column", "none"), ft.name


def test_issue_four_types_are_all_registered() -> None:
    wanted = [
        "text",
        "long_text",
        "rich_text",
        "integer",
        "number",
        "currency",
        "percent",
        "boolean",
        "date",
        "datetime",
        "time",
        "select",
        "multi_select",
        "email",
        "phone",
        "url",
        "cn_resident_id",
        "rating",
        "tags",
        "auto_number",
        "user",
        "department",
        "lookup",
        "sub_table",
        "many_to_many",
        "attachment",
        "image",
        "address",
        "geolocation",
        "json",
        "formula",
        "rollup",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "signature",
        "colour",
    ]
    assert set(wanted) <= set(registry.names())


def test_registering_a_type_moves_the_registry_version_and_twice_is_refused() -> None:
    types = FieldTypeRegistry()
    text = registry.get("text")
    assert types.version == 0
    types.register(text)
    assert types.version == 1 and "text" in types
    with pytest.raises(ValueError, match="registered already"):
        types.register(text)
    assert types.version == 1


def test_settings_are_read_as_the_fields_own_config_model() -> None:
    field = make_field("currency", currency="USD")
    assert field.config_as(CurrencyConfig).currency == "USD"
    # a currency is a number with a currency: what reads number settings reads it too
    assert field.config_as(NumberConfig).scale == 2
    with pytest.raises(TypeError, match="CurrencyConfig settings, not TextConfig"):
        field.config_as(TextConfig)
