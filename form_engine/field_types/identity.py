"""Identity numbers: the Chinese resident identity number (GB 11643-1999), the unified social
credit code of an organisation (GB 32100-2015) and bank card numbers (ISO/IEC 7812, Luhn)."""

from __future__ import annotations

import operator
import re
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


add_messages(
    {
        "invalid_uscc": {
            "zh": "{label}应为 18 位统一社会信用代码（数字和大写字母，不含 I、O、S、V、Z），收到 {value}",
            "en": "{label} must be an 18-character unified social credit code (digits and capital "
            "letters other than I, O, S, V, Z), got {value}",
        },
        "uscc_checksum": {
            "zh": "{label}的校验码不正确，请核对代码：{value}",
            "en": "{label} has a wrong check character; please check the code: {value}",
        },
        "invalid_bank_card": {
            "zh": "{label}应为 12 到 19 位数字的银行卡号",
            "en": "{label} must be a bank card number of 12 to 19 digits",
        },
        "bank_card_checksum": {
            "zh": "{label}未通过校验（Luhn），请核对卡号",
            "en": "{label} fails the card number check (Luhn); please check the number",
        },
    }
)

#: GB 32100-2015: the 31 characters a code may use (no I, O, S, V, Z), in value order, and the
#: weights of the first 17 positions (3^i mod 31).
USCC_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARACTERS)}


#: The shape of a compacted code: two code characters, a six-digit region, ten more characters
#: (the check character is verified apart). Checked in one match, as imports read many codes.
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}")


def uscc_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code implied by the first 17."""
    if len(first17) != len(USCC_WEIGHTS):
        raise ValueError("a unified social credit code's check covers exactly 17 characters")
    total = sum(map(operator.mul, map(_USCC_VALUE.__getitem__, first17), USCC_WEIGHTS))
    return USCC_CHARACTERS[(31 - total % 31) % 31]


def _compact(value: str) -> str:
    """Full-width characters folded (NFKC), spaces and dashes gone, letters upper-cased."""
    return "".join(unicodedata.normalize("NFKC", value).split()).replace("-", "").upper()


def parse_uscc(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldValueError("invalid_uscc", value=value)
    code = _compact(value)
    if _USCC_SHAPE.fullmatch(code) is None or code[2:4] == "00":
        raise FieldValueError("invalid_uscc", value=value)
    if uscc_check_character(code[:17]) != code[17]:
        raise FieldValueError("uscc_checksum", value=value)
    return code


@register_field_type
class UsccType(FieldType):
    name = "cn_uscc"
    label = Label(zh="统一社会信用代码", en="Unified social credit code")
    stores = "CHAR(18): upper-case, GB 32100 check character verified (a company's natural key)"
    input_notes = "Spaces, dashes, lower case and full-width characters are accepted and folded."

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(18)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return parse_uscc

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return "type(v) is str and len(v) == 18 and {check}(v) == v", "v", {"check": _checked_uscc}

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "minLength": 18}

    def normalise(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else _compact(value)


def _checked_uscc(value: str) -> str | None:
    """``value`` when it is a valid code as stored, else None (the inline fast path)."""
    try:
        return parse_uscc(value)
    except FieldValueError:
        return None


def luhn_valid(digits: str) -> bool:
    """ISO/IEC 7812 check: double every second digit from the right, the sum ends in 0."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def parse_bank_card(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise FieldValueError("invalid_bank_card")
    digits = _compact(value)
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 19):
        raise FieldValueError("invalid_bank_card")
    if not luhn_valid(digits):
        raise FieldValueError("bank_card_checksum")
    return digits


def mask_card(digits: str) -> str:
    """``**** **** **** 1234``: the last four identify the card to its owner."""
    return "**** **** **** " + digits[-4:]


@register_field_type
class BankCardType(FieldType):
    name = "bank_card"
    label = Label(zh="银行卡号", en="Bank card number")
    sortable = False
    stores = "VARCHAR(19): 12-19 digits, Luhn-checked; displayed masked"
    default_mask = "bank_card"
    input_notes = "Spaces and dashes between the digit groups are accepted."

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(19)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return parse_bank_card

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else mask_card(value)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": ["string", "integer"]}
