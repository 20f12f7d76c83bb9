"""Ways to reach someone: e-mail, telephone (E.164, Chinese numbers recognised), mainland mobile
numbers and web links."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, NoConfig, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_email": {
            "zh": "{label}不是有效的电子邮箱地址：{value}",
            "en": "{label} is not a valid e-mail address: {value}",
        },
        "invalid_phone": {
            "zh": "{label}不是有效的电话号码：{value}"
            "（手机如 13812345678，座机如 010-12345678，国外号码以 + 开头）",
            "en": "{label} is not a valid phone number: {value} (a mobile like 13812345678, a landline "
            "like 010-12345678, or an international number starting with +)",
        },
        "invalid_cn_mobile": {
            "zh": "{label}不是有效的中国大陆手机号：{value}（11 位，以 13-19 开头，可带 +86）",
            "en": "{label} is not a mainland Chinese mobile number: {value} (11 digits starting "
            "13-19, optionally with +86)",
        },
        "invalid_url": {
            "zh": "{label}不是有效的网址：{value}（应以 http:// 或 https:// 开头）",
            "en": "{label} is not a valid web address: {value} (expected http:// or https://)",
        },
    }
)

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


#: Addresses already in stored form (domain lower-case): the validator accepts them inline.
_CANONICAL_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
#: E.164 numbers already in stored form.
_CANONICAL_PHONE = re.compile(
    r"\+86(?:1[3-9]\d{9}|(?:10|2\d)\d{8}|[3-9]\d{9,10})|\+(?!86)[1-9]\d{7,14}", re.ASCII
)


def compile_email() -> Coercer:
    def run(value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldValueError("invalid_email", value=value)
        text = value.strip().replace("＠", "@").replace("。", ".")
        if len(text) > 254 or not _EMAIL.match(text) or ".." in text:
            raise FieldValueError("invalid_email", value=value)
        local, domain = text.rsplit("@", 1)
        if len(local) > 64:
            raise FieldValueError("invalid_email", value=value)
        return f"{local}@{domain.lower()}"

    return run


@register_field_type
class EmailType(FieldType):
    name = "email"
    label = Label(zh="电子邮箱", en="E-mail")
    stores = "VARCHAR(254): address with the domain lower-cased"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(254)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_email()

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return (
            "type(v) is str and len(v) <= 254 and {m}(v) is not None",
            "v",
            {"m": _CANONICAL_EMAIL.fullmatch},
        )

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "email", "maxLength": 254}

    def normalise(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else value.strip().lower()


_PHONE_PUNCTUATION = re.compile(r"[\s\-–—.()（）/]")
_CN_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
#: National number of a Chinese landline: area code without its 0 (10, 2x, or 3 digits) + subscriber.
_CN_LANDLINE = re.compile(r"(10|2\d)\d{8}|[3-9]\d{2}\d{7,8}", re.ASCII)


class PhoneConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Country calling code assumed for numbers typed without ``+`` (Chinese numbers by default).
    default_country: str = Field(default="86", pattern=r"^[1-9]\d{0,2}$")


def to_e164(value: str, default_country: str = "86") -> str | None:
    """``13812345678``, ``+86 138-1234-5678``, ``(010) 1234 5678`` -> E.164, or None."""
    # NFKC folds full-width input (＋８６ １３８…) to ASCII; other scripts' digits stay and are refused.
    text = _PHONE_PUNCTUATION.sub("", unicodedata.normalize("NFKC", value).strip())
    if not text.isascii():
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    if text.startswith("+"):
        digits = text[1:]
        if not digits.isdigit() or not 8 <= len(digits) <= 15:
            return None
        if digits.startswith("86"):
            national = digits[2:]
            if national.startswith("0"):
                national = national[1:]
            if not (_CN_MOBILE.fullmatch(national) or _CN_LANDLINE.fullmatch(national)):
                return None
            return "+86" + national
        return "+" + digits
    if not text.isdigit():
        return None
    if default_country != "86":
        national = text[1:] if text.startswith("0") else text
        return f"+{default_country}{national}" if 6 <= len(national) <= 14 else None
    if _CN_MOBILE.fullmatch(text):
        return "+86" + text
    if text.startswith("86") and _CN_MOBILE.fullmatch(text[2:]):
        return "+" + text
    if text.startswith("0") and _CN_LANDLINE.fullmatch(text[1:]):
        return "+86" + text[1:]
    return None


def format_cn_phone(e164: str) -> str:
    """Chinese numbers as people write them: ``138 1234 5678``, ``010-1234 5678``."""
    national = e164[3:]
    if _CN_MOBILE.fullmatch(national):
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    area = 2 if national[:2] == "10" or national[0] == "2" else 3
    subscriber = national[area:]
    return f"0{national[:area]}-{subscriber[:-4]} {subscriber[-4:]}"


@register_field_type
class PhoneType(FieldType):
    name = "phone"
    label = Label(zh="电话", en="Phone")
    config_model: ClassVar[type[BaseModel]] = PhoneConfig
    stores = "VARCHAR(16): E.164 (+8613812345678)"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(16)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        default_country = field.config_as(PhoneConfig).default_country

        def run(value: Any) -> Any:
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise FieldValueError("invalid_phone", value=value)
            number = to_e164(value, default_country)
            if number is None:
                raise FieldValueError("invalid_phone", value=value)
            return number

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return "type(v) is str and {m}(v) is not None", "v", {"m": _CANONICAL_PHONE.fullmatch}

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        phone: str = value
        if phone.startswith("+86"):
            local = format_cn_phone(phone)
            return local if locale.startswith("zh") else f"+86 {local.lstrip('0')}"
        return phone

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\+[1-9]\d{6,14}$", "description": "E.164"}

    def normalise(self, value: Any, field: FieldDef) -> Any:
        """Digits only, so the same number matches however it was typed."""
        return None if value is None else re.sub(r"\D", "", value)


_CANONICAL_CN_MOBILE = re.compile(r"\+861[3-9]\d{9}", re.ASCII)


@register_field_type
class CnMobileType(PhoneType):
    """A mainland mobile number: stored, shown and compared exactly as a ``phone`` field stores
    it (E.164), so the two find each other in filters and duplicate checks; landlines and
    foreign numbers are refused."""

    name = "cn_mobile"
    label = Label(zh="手机号", en="Chinese mobile number")
    config_model = NoConfig
    stores = "VARCHAR(16): E.164 of a mainland mobile (+8613812345678), as ``phone`` stores it"
    input_notes = "Accepts what ``phone`` accepts (spaces, dashes, +86, 0086, full-width digits)."

    def compile_coercer(self, field: FieldDef) -> Coercer:
        def run(value: Any) -> Any:
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if not isinstance(value, str):
                raise FieldValueError("invalid_cn_mobile", value=value)
            number = to_e164(value, "86")
            if number is None or not _CANONICAL_CN_MOBILE.fullmatch(number):
                raise FieldValueError("invalid_cn_mobile", value=value)
            return number

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return "type(v) is str and {m}(v) is not None", "v", {"m": _CANONICAL_CN_MOBILE.fullmatch}

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "description": "mainland mobile, e.g. 13812345678 or +8613812345678"}


@register_field_type
class UrlType(FieldType):
    name = "url"
    label = Label(zh="网址", en="URL")
    indexable = False
    stores = "VARCHAR(2048): http(s) URL; text without a scheme gets https://"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(2048)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        def run(value: Any) -> Any:
            if not isinstance(value, str):
                raise FieldValueError("invalid_url", value=value)
            text = value.strip()
            if "://" not in text:
                text = "https://" + text
            if len(text) > 2048 or any(c.isspace() for c in text):
                raise FieldValueError("invalid_url", value=value)
            try:
                parts = urlsplit(text)
                host = parts.hostname or ""
            except ValueError:
                raise FieldValueError("invalid_url", value=value) from None
            if (
                parts.scheme.lower() not in ("http", "https")
                or not ("." in host or host == "localhost")
                or host.startswith(".")
                or host.endswith(".")
            ):
                raise FieldValueError("invalid_url", value=value)
            return text

        return run

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "uri", "maxLength": 2048}

    def normalise(self, value: Any, field: FieldDef) -> Any:
        if value is None:
            return None
        parts = urlsplit(value)
        host = (parts.hostname or "").removeprefix("www.")
        return f"{host}{parts.path.rstrip('/')}".lower()
