"""Types with more behaviour than a value: HTML, regions, files, auto-numbers, computed and system."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from form_engine import (
    ExactDecimal,
    FieldValueError,
    PatternError,
    format_auto_number,
    parse_pattern,
    regions,
    registry,
    sequence_key,
)
from form_engine.html_sanitiser import sanitise_html
from tests.form_engine.factories import make_field


@pytest.mark.parametrize(
    ("markup", "clean"),
    [
        ("<p>Hi<script>alert(1)</script></p>", "<p>Hi</p>"),
        ('<a href="javascript:alert(1)" onclick="x()">x</a>', "<a>x</a>"),
        (
            '<a href="https://e.com" target="_blank">x</a>',
            '<a href="https://e.com" target="_blank" rel="noopener noreferrer">x</a>',
        ),
        ('<img src="x.png" onerror="steal()">', '<img src="x.png">'),
        ("<b>open", "<b>open</b>"),
        ("<p>1 < 2 & <blink>3</blink></p>", "<p>1 &lt; 2 &amp; 3</p>"),
        ('<p style="color:red">x</p>', "<p>x</p>"),
    ],
)
def test_rich_text_is_sanitised(markup: str, clean: str) -> None:
    assert sanitise_html(markup) == clean
    field = make_field("rich_text")
    assert field.field_type.coerce(markup, field) == clean


def test_region_list_has_every_provincial_division_and_their_cities() -> None:
    table = {p.name: p for p in regions.children(None)}
    assert len(table) == 34
    assert "广西壮族自治区" in table and "香港特别行政区" in table and "台湾省" in table
    guangdong = {c.name: c for c in regions.children(table["广东省"].code)}
    assert "深圳市" in guangdong and len(guangdong) == 21
    assert "朝阳区" in [d.name for d in regions.children("110100")]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (
            {"province": "北京", "district": "朝阳", "detail": "建国路 88 号"},
            ("北京市", "110000", "北京市", "110100", "朝阳区", "110105", "建国路 88 号"),
        ),
        (
            {"province": "广西", "city": "南宁", "district": "青秀区"},
            ("广西壮族自治区", "450000", "南宁市", "450100", "青秀区", "450103", None),
        ),
        (
            "广东省深圳市南山区科技园",
            ("广东省", "440000", "深圳市", "440300", "南山区", "440305", "科技园"),
        ),
        (
            {"province": "吉林", "city": "延边", "district": "延吉市"},
            ("吉林省", "220000", "延边朝鲜族自治州", "222400", "延吉市", "222401", None),
        ),
    ],
)
def test_address_resolves_region_synonyms(value: object, stored: tuple[object, ...]) -> None:
    field = make_field("address")
    keys = ("province", "province_code", "city", "city_code", "district", "district_code", "detail")
    assert field.field_type.coerce(value, field) == dict(zip(keys, stored, strict=True))


@pytest.mark.parametrize(
    ("value", "code", "zh", "en"),
    [
        ({"province": "火星省"}, "unknown_region", "省份 火星省 不存在", "no province 火星省"),
        (
            {"province": "北京", "district": "浦东新区"},
            "unknown_region",
            "区县 浦东新区 不存在",
            "no district 浦东新区",
        ),
        ({"province": "广东"}, "region_incomplete", "需要填写到城市", "must name the city"),
        ({"street": "x"}, "invalid_address", "地址", "address"),
    ],
)
def test_address_refuses_unknown_regions(value: object, code: str, zh: str, en: str) -> None:
    from tests.form_engine.test_field_types import refusal

    found, zh_message, en_message = refusal(make_field("address"), value)
    assert found == code
    assert zh in zh_message and en in en_message


def test_split_address_keeps_unrecognised_text_as_detail() -> None:
    province, city, district, detail = regions.split_address("上海浦东新区世纪大道1号")
    assert (province and province.name, city and city.name, district and district.name, detail) == (
        "上海市",
        "上海市",
        "浦东新区",
        "世纪大道1号",
    )


def test_attachments_check_size_and_type() -> None:
    field = make_field("image", max_size=100)
    good = {"id": "f1", "name": "a.png", "size": 10, "content_type": "image/png"}
    assert field.field_type.coerce([good], field) == [good]
    with pytest.raises(FieldValueError) as info:
        field.field_type.coerce([{**good, "size": 101}], field)
    assert info.value.problem_code == "file_too_large"
    with pytest.raises(FieldValueError) as info:
        field.field_type.coerce(
            [{**good, "name": "a.exe", "content_type": "application/x-msdownload"}], field
        )
    assert info.value.problem_code == "file_type_not_allowed"
    pdf = make_field("attachment", accept=[".pdf"])
    one_pdf = {**good, "name": "x.PDF", "content_type": "application/pdf"}
    assert pdf.field_type.coerce(one_pdf, pdf) == [one_pdf]


def test_auto_number_pattern() -> None:
    now = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)  # 2026-11-22 01:00 in Beijing
    assert format_auto_number("HT-{YYYYMMDD}-{seq:4}", 7, now) == "HT-20261122-0007"
    assert format_auto_number("HT-{YYYYMMDD}-{seq:4}", 12345, now) == "HT-20261122-12345"
    assert sequence_key("HT-{YYYYMMDD}-{seq:4}", now) == "HT-20261122-{seq:4}"
    assert sequence_key("{YYYY}{seq:3}", now) != sequence_key(
        "{YYYY}{seq:3}", datetime(2027, 6, 1, tzinfo=UTC)
    )
    assert parse_pattern("A{seq}").width == 1


@pytest.mark.parametrize("pattern", ["HT-{YYYY}", "{seq}{seq}", "{WEEK}{seq}", "x{seq"])
def test_bad_auto_number_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        parse_pattern(pattern)
    with pytest.raises(ValueError):
        make_field("auto_number", pattern=pattern)


def test_computed_and_system_types_are_not_writable() -> None:
    for name in ("formula", "rollup", "auto_number", "created_by", "updated_by", "created_at", "updated_at"):
        assert not registry.get(name).writable, name
    assert registry.get("created_at").system_column == "created_at"
    assert registry.get("sub_table").storage == "none"
    assert registry.get("many_to_many").storage == "none"


def test_formula_and_rollup_columns_follow_their_result_type() -> None:
    formula = make_field("formula", expression="1 + 1", result_type="integer")
    assert isinstance(formula.field_type.column_type(formula), sa.BigInteger)
    assert formula.field_type.field_dsl_type(formula) == "integer"
    rollup = make_field("rollup", entity="line", link_field="deal", function="sum", field="amount")
    column = rollup.field_type.column_type(rollup)
    assert isinstance(column, ExactDecimal) and column.scale == 2
    assert rollup.field_type.coerce(Decimal("1.005"), rollup) == Decimal("1.01")
    with pytest.raises(ValueError, match="needs `field`"):
        make_field("rollup", entity="line", link_field="deal", function="sum")


def test_every_column_type_builds_a_table_on_both_dialects() -> None:
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateTable

    from tests.form_engine.test_field_types import GOOD

    samples = {type_: settings for type_, settings, _v, _e in GOOD}
    samples.update(
        formula={"expression": "1"},
        rollup={"entity": "line", "link_field": "deal"},
        auto_number={"pattern": "{seq:4}"},
        sub_table={"entity": "line", "link_field": "deal"},
    )
    columns = []
    for ft in registry:
        field = make_field(ft.name, name=f"f_{ft.name}", **samples.get(ft.name, {}))
        if ft.storage == "column":
            columns.append(sa.Column(field.name, ft.column_type(field)))
        else:
            with pytest.raises(NotImplementedError):
                ft.column_type(field)
    table = sa.Table("t", sa.MetaData(), *columns)
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert "f_multi_select" in str(CreateTable(table).compile(dialect=dialect))
