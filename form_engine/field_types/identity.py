"""Identity documents: the Chinese resident identity number (GB 11643-1999)."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_resident_id": {
            "zh": "{label}应为 18 位居民身份证号码（最后一位可为 X），收到 {value}",
            "en": "{label} must be an 18-character resident ID number (the last may be X), got {value}",
        },
        "resident_id_checksum": {
            "zh": "{label}的校验码不正确，请核对号码：{value}",
            "en": "{label} has a wrong check character; please check the number: {value}",
        },
        "resident_id_birth_date": {
            "zh": "{label}中的出生日期 {birth} 无效",
            "en": "{label} contains an impossible birth date {birth}",
        },
        "resident_id_region": {
            "zh": "{label}的前两位 {region} 不是有效的省级行政区代码",
            "en": "{label} starts with {region}, which is not a province code",
        },
    }
)

#: GB 11643-1999 weights (2^(17-i) mod 11) and the check characters for each remainder.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


def check_character(first17: str) -> str:
    """The 18th character implied by the first 17 digits."""
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def birth_date(number: str) -> date:
    """Birth date encoded in positions 7-14 of a valid number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def parse_resident_id(value: Any, today: date | None = None) -> str:
    if not isinstance(value, str):
        raise FieldValueError("invalid_resident_id", value=value)
    # NFKC folds full-width digits and Ｘ; isascii keeps other digits (², ١) out of int().
    number = unicodedata.normalize("NFKC", value).strip().replace(" ", "").upper()
    if (
        len(number) != 18
        or not number.isascii()
        or not number[:17].isdigit()
        or not (number[17].isdigit() or number[17] == "X")
    ):
        raise FieldValueError("invalid_resident_id", value=value)
    if number[:2] not in PROVINCE_CODES:
        raise FieldValueError("resident_id_region", region=number[:2], value=value)
    try:
        born = birth_date(number)
    except ValueError:
        born = None
    if born is None or born < date(1850, 1, 1) or born > (today or date.today()):
        raise FieldValueError("resident_id_birth_date", birth=number[6:14], value=value)
    if check_character(number[:17]) != number[17]:
        raise FieldValueError("resident_id_checksum", value=value)
    return number


def mask_resident_id(number: str) -> str:
    """Shown as ``1101**********1234``: enough to recognise, not enough to misuse."""
    return f"{number[:4]}{'*' * 10}{number[-4:]}"


@register_field_type
class ResidentIdType(FieldType):
    name = "cn_resident_id"
    label = Label(zh="身份证号", en="Chinese resident ID")
    sortable = False
    stores = "CHAR(18): upper-case, GB 11643 check character verified; displayed masked"
    default_mask = "id_number"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(18)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return parse_resident_id

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else mask_resident_id(value)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\d{17}[\dXx]$"}

    def normalise(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else value.upper()
