"""Chinese business data: every division with its code, addresses and regions, company codes,
bank cards and mobile numbers, with good and bad values."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from form_engine import DefinitionInvalid, FieldValueError, regions
from tests.form_engine.factories import make_entity, make_field
from tests.form_engine.test_field_types import refusal

ADDRESS_KEYS = ("province", "province_code", "city", "city_code", "district", "district_code", "detail")


def coerce(type_: str, value: Any, **settings: Any) -> Any:
    field = make_field(type_, **settings)
    return field.field_type.coerce(value, field)


def test_the_list_holds_every_county_level_division_with_a_unique_code() -> None:
    provinces = regions.children(None)
    cities = [c for p in provinces for c in regions.children(p.code)]
    districts = [d for c in cities for d in regions.children(c.code)]
    assert len(provinces) == 34
    # the Ministry of Civil Affairs counts 333 prefecture-level divisions and about 2,845
    # county-level ones in the mainland
    prefecture_level = [c for c in cities if c.code[:2] not in ("11", "12", "31", "50", "71", "81", "82")]
    assert len([c for c in prefecture_level if c.code.endswith("00")]) == 333
    mainland = [d for d in districts if d.code[:2] not in ("71", "81", "82")]
    assert 2800 <= len(mainland) <= 2900
    codes = [d.code for d in (*provinces, *cities, *districts)]
    assert len(codes) == len(set(codes)) and all(len(c) == 6 and c.isdigit() for c in codes)
    for district in districts:
        assert district.code[:2] == (district.parent or "")[:2]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("北京", "110000"),
        ("北京市", "110000"),
        ("广西", "450000"),
        ("广西壮族自治区", "450000"),
        ("上海浦东", "310115"),
        ("浦东新区", "310115"),
        ("浦东", "310115"),
        ("内蒙", "150000"),
        ("延边州", "222400"),
        ("上海闸北区", "310106"),  # merged into 静安区 in 2015
        ("襄樊", "420600"),  # renamed 襄阳 in 2010
        ("杭州下城区", "330105"),  # merged into 拱墅区 in 2021
        ("黔南州都匀市", "522701"),
    ],
)
def test_names_people_type_find_the_current_division(text: str, code: str) -> None:
    assert [d.code for d in regions.find(text)] == [code]


def test_every_former_name_maps_to_a_division_that_exists_and_is_not_current_itself() -> None:
    extra = json.loads(resources.files("form_engine").joinpath("data/cn_divisions_extra.json").read_text())
    for entry in extra["renamed"]:
        parent = None
        for name in entry["within"]:
            above = regions.resolve(parent, name)
            assert above is not None and above.name == name, entry
            parent = above.code
        siblings = {d.name for d in regions.children(parent)}
        assert entry["now"] in siblings, entry
        assert entry["former"] not in siblings, entry
        assert regions.resolve(parent, entry["former"]) == regions.resolve(parent, entry["now"])


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("上海浦东新区世纪大道100号", ("上海市", "上海市", "浦东新区", "世纪大道100号")),
        ("杭州市西湖区文三路90号", ("浙江省", "杭州市", "西湖区", "文三路90号")),
        ("浦东新区世纪大道100号", ("上海市", "上海市", "浦东新区", "世纪大道100号")),
        ("吉林市船营区解放路", ("吉林省", "吉林市", "船营区", "解放路")),
        ("广东东莞长安镇振安路", ("广东省", "东莞市", None, "长安镇振安路")),
        ("朝阳区建国路88号", (None, None, None, "朝阳区建国路88号")),  # 北京 or 长春?
        ("香港中西区皇后大道中", ("香港特别行政区", "香港特别行政区", "中西区", "皇后大道中")),
    ],
)
def test_free_text_addresses_split_into_levels(text: str, parts: tuple[str | None, ...]) -> None:
    province, city, district, rest = regions.split_address(text)
    assert (*(d.name if d else None for d in (province, city, district)), rest) == parts


def test_address_stores_codes_beside_the_names() -> None:
    stored = coerce("address", "上海浦东新区世纪大道100号")
    assert stored == dict(
        zip(
            ADDRESS_KEYS,
            ("上海市", "310000", "上海市", "310100", "浦东新区", "310115", "世纪大道100号"),
            strict=True,
        )
    )


@pytest.mark.parametrize(
    "value",
    [
        {"district_code": "310115", "detail": "世纪大道100号"},
        {"province": "上海", "district": "浦东", "detail": "世纪大道100号"},
        {"province": "上海市", "district": "浦东新区", "district_code": "310115", "detail": "世纪大道100号"},
        {"province": "上海", "city": "上海", "district": "南汇区", "detail": "世纪大道100号"},
    ],
)
def test_an_address_given_by_codes_or_names_is_the_same_address(value: dict[str, Any]) -> None:
    assert coerce("address", value) == coerce("address", "上海浦东新区世纪大道100号")


@pytest.mark.parametrize(
    ("value", "code", "zh", "en"),
    [
        (
            {"province": "上海", "district": "西湖区"},
            "unknown_region",
            "区县 西湖区 不存在",
            "no district 西湖区",
        ),
        ({"province": "浙江", "city": "杭州", "district": "浦东"}, "unknown_region", "杭州市", "in 杭州市"),
        ({"district_code": "999999"}, "unknown_region", "999999", "999999"),
        ({"city_code": "310115"}, "unknown_region", "310115", "310115"),  # a district's code
        ({"province_code": "440000", "city": "杭州"}, "unknown_region", "杭州", "杭州"),
        ({"province": "浙江", "city": "杭州"}, "region_incomplete", "区县", "district"),
        ("火星基地1号", "invalid_address", "地址", "address"),
    ],
)
def test_every_level_is_checked_against_the_list(value: Any, code: str, zh: str, en: str) -> None:
    found, zh_message, en_message = refusal(make_field("address", level="district"), value)
    assert found == code and zh in zh_message and en in en_message


def test_a_city_without_districts_is_complete_at_the_city() -> None:
    stored = coerce("address", "广东省东莞市长安镇", level="district")
    assert (stored["city_code"], stored["district"], stored["detail"]) == ("441900", None, "长安镇")


def test_an_address_and_its_former_district_name_are_duplicates() -> None:
    field = make_field("address")
    ft = field.field_type
    a = ft.coerce({"province": "上海", "district": "闸北区", "detail": "天目西路２１８号"}, field)
    b = ft.coerce("上海市静安区天目西路218号", field)
    assert ft.normalise(a, field) == ft.normalise(b, field)


@pytest.mark.parametrize(
    ("value", "stored", "shown"),
    [
        ("上海", "310100", "上海市"),
        ("上海浦东", "310115", "上海市浦东新区"),
        ("310115", "310115", "上海市浦东新区"),
        ("苏州", "320500", "江苏省苏州市"),
        ({"province": "广西", "city": "南宁"}, "450100", "广西壮族自治区南宁市"),
        ({"code": "320505", "district": "虎丘区"}, "320505", "江苏省苏州市虎丘区"),
        ("浙江", "330000", "浙江省"),
    ],
)
def test_a_region_stores_the_code_of_the_smallest_division(value: Any, stored: str, shown: str) -> None:
    field = make_field("region")
    ft = field.field_type
    assert ft.coerce(value, field) == stored
    assert ft.display(stored, field) == shown
    assert ft.coerce(ft.to_json(stored, field), field) == stored  # what the API returns comes back


@pytest.mark.parametrize(
    ("value", "settings", "code", "zh"),
    [
        ("朝阳区", {}, "ambiguous_region", "北京市朝阳区、吉林省长春市朝阳区"),
        ("火星", {}, "invalid_region", "火星"),
        ({"code": "320505", "district": "姑苏区"}, {}, "unknown_region", "姑苏区"),
        ("浙江", {"level": "city"}, "region_incomplete", "城市"),
        ("上海浦东", {"depth": "city"}, "region_too_deep", "城市"),
        (42, {}, "invalid_region", "42"),
    ],
)
def test_bad_regions_are_refused(value: Any, settings: dict[str, Any], code: str, zh: str) -> None:
    found, zh_message, _ = refusal(make_field("region", **settings), value)
    assert found == code and zh in zh_message


def test_region_groups_must_name_divisions() -> None:
    fields = [
        {"name": "area", "type": "region", "label": {"zh": "区域", "en": "Area"}, "groups": {"x": ["朝阳区"]}}
    ]
    with pytest.raises(DefinitionInvalid):
        make_entity(fields)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("914403001922038216", "914403001922038216"),  # published codes of well-known companies
        ("91330100716105852f", "91330100716105852F"),
        ("9144 0300 7152 6726 XG", "9144030071526726XG"),
        ("９１１１００００８０２１００４３３Ｂ", "91110000802100433B"),
    ],
)
def test_a_unified_social_credit_code_is_checked_and_upper_cased(typed: str, stored: str) -> None:
    assert coerce("cn_uscc", typed) == stored


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("914403001922038217", "uscc_checksum"),
        ("91440300192203821", "invalid_uscc"),
        ("9144030019220382I6", "invalid_uscc"),  # I is not in the code's alphabet
        ("910000001922038216", "invalid_uscc"),  # no province 00
        (914403001922038216, "invalid_uscc"),
    ],
)
def test_bad_unified_social_credit_codes_are_refused(typed: Any, code: str) -> None:
    assert refusal(make_field("cn_uscc"), typed)[0] == code


def test_a_company_code_is_a_duplicate_key_however_typed() -> None:
    field = make_field("cn_uscc")
    ft = field.field_type
    assert ft.normalise(ft.coerce("91330100716105852f", field), field) == ft.normalise(
        ft.coerce("9133 0100 7161 0585 2F", field), field
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("6200 0000 0000 0005", "6200000000000005"),  # UnionPay test numbers
        ("6205500000000000004", "6205500000000000004"),
        ("4111-1111-1111-1111", "4111111111111111"),
        (4111111111111111, "4111111111111111"),
    ],
)
def test_bank_cards_pass_the_luhn_check(typed: Any, stored: str) -> None:
    assert coerce("bank_card", typed) == stored


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("4111111111111112", "bank_card_checksum"),
        ("12345", "invalid_bank_card"),
        ("6200abcd", "invalid_bank_card"),
    ],
)
def test_bad_bank_cards_are_refused_without_echoing_the_number(typed: str, code: str) -> None:
    found, zh, en = refusal(make_field("bank_card"), typed)
    assert found == code and typed not in zh and typed not in en


def test_bank_cards_are_masked_by_default_and_in_display() -> None:
    field = make_field("bank_card")
    assert field.field_type.default_mask == "bank_card"
    assert field.field_type.display("6200000000000005", field) == "**** **** **** 0005"


@pytest.mark.parametrize(
    "typed", ["13812345678", "+86 138-1234-5678", "0086 13812345678", "１３８１２３４５６７８"]
)
def test_a_mobile_is_stored_as_the_phone_type_stores_it(typed: str) -> None:
    mobile, phone = make_field("cn_mobile"), make_field("phone")
    stored = mobile.field_type.coerce(typed, mobile)
    assert stored == phone.field_type.coerce(typed, phone) == "+8613812345678"
    assert mobile.field_type.normalise(stored, mobile) == phone.field_type.normalise(stored, phone)
    assert mobile.field_type.display(stored, mobile, "zh") == "138 1234 5678"


@pytest.mark.parametrize("typed", ["010-12345678", "+1 415 555 0100", "12812345678", "1381234567", "x"])
def test_landlines_and_foreign_numbers_are_not_mobiles(typed: str) -> None:
    found, zh, _ = refusal(make_field("cn_mobile"), typed)
    assert found == "invalid_cn_mobile" and "手机号" in zh


def test_bad_values_raise_field_value_errors_not_crashes() -> None:
    values: list[Any] = [[], {"x": 1}, True, 3.5]
    for type_ in ("address", "region", "cn_uscc", "bank_card", "cn_mobile"):
        field = make_field(type_)
        for value in values:
            with pytest.raises(FieldValueError):
                field.field_type.coerce(value, field)
