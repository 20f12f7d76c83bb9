"""Numbers: integers, exact decimals, money, percentages and star ratings."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine.column_types import ExactDecimal
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages
from form_engine.number_text import PLAIN_NUMBER, number_text

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "wrong_currency": {
            "zh": "{label}的币种应为 {expected}，收到 {value}",
            "en": "{label} is in {expected}, got an amount in {value}",
        },
        "percent_ambiguous": {
            "zh": '{label}收到 {value}：百分比请写成小数或带百分号，例如 50% 写作 0.5 或 "50%"'
            '（若指 {value}%，请写 "{value}%"）',
            "en": "{label} got {value}: write a percentage as a fraction or with a percent sign, "
            'e.g. 50 % as 0.5 or "50%" (for {value} %, send "{value}%")',
        },
        "invalid_rating": {
            "zh": "{label}应为 0 到 {max} 的整数星级，收到 {value}",
            "en": "{label} must be a whole number of stars from 0 to {max}, got {value}",
        },
    }
)

_INT64 = 2**63 - 1


def compile_integer(low: int, high: int, code: str = "invalid_integer") -> Coercer:
    """A coercer to ``int`` within ``[low, high]`` accepting 12, 12.0, "12", "1,200"."""

    def run(value: Any) -> Any:
        if type(value) is not int:
            if isinstance(value, bool):
                raise FieldValueError(code, value=value)
            if (isinstance(value, float) and value.is_integer()) or (
                isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
            ):
                value = int(value)
            elif isinstance(value, str):
                try:
                    number = number_text(value)
                except InvalidOperation:
                    raise FieldValueError(code, value=value) from None
                if number != number.to_integral_value():
                    raise FieldValueError(code, value=value)
                value = int(number)
            elif isinstance(value, int):
                value = int(value)
            else:
                raise FieldValueError(code, value=value)
        if not low <= value <= high:
            raise FieldValueError("out_of_range", min=low, max=high, value=value)
        return value

    return run


def decimal_of(value: Any) -> Decimal:
    """A finite Decimal from a JSON number or number text; ``invalid_number`` otherwise."""
    kind = type(value)
    try:
        if kind is str:
            number = Decimal(value) if PLAIN_NUMBER.fullmatch(value) else number_text(value)
        elif kind is int:
            number = Decimal(value)
        elif kind is float:
            number = Decimal(repr(value))
        elif isinstance(value, Decimal):
            number = value
        elif isinstance(value, int) and not isinstance(value, bool):
            number = Decimal(int(value))
        else:
            raise InvalidOperation
    except InvalidOperation:
        raise FieldValueError("invalid_number", value=value) from None
    if not number.is_finite():
        raise FieldValueError("invalid_number", value=value)
    return number


def compile_decimal(precision: int, scale: int, low: Decimal | None, high: Decimal | None) -> Coercer:
    """A coercer to an exact Decimal that refuses values the column cannot hold.

    Plain decimal strings and ints (what JSON clients send) take the short path; spreadsheet
    text (``1,234.50``, ``¥1234``, ``1.2万``) falls back to ``number_text``.
    """
    quantum = Decimal(1).scaleb(-scale)
    integer_digits = precision - scale

    def run(value: Any) -> Any:
        number = decimal_of(value)
        try:
            quantised = number.quantize(quantum)
        except InvalidOperation:
            raise FieldValueError("too_many_digits", precision=precision, scale=scale, value=value) from None
        if quantised != number or (quantised and quantised.adjusted() >= integer_digits):
            raise FieldValueError("too_many_digits", precision=precision, scale=scale, value=value)
        if (low is not None and quantised < low) or (high is not None and quantised > high):
            raise FieldValueError("out_of_range", min=low, max=high, value=value)
        return quantised

    return run


def _grouped(value: Decimal, scale: int) -> str:
    return f"{value:,.{scale}f}"


class IntegerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min: int | None = None
    max: int | None = None


@register_field_type
class IntegerType(FieldType):
    name = "integer"
    label = Label(zh="整数", en="Integer")
    dsl_type = "integer"
    quantity = True
    config_model = IntegerConfig
    stores = "BIGINT"
    input_notes = (
        'a JSON number, or text as people write it: `"1,200"`, `"1 200"`, full-width digits, `1.2万`. '
        "Thousands separators (comma, space or underscore, one kind per number) must group "
        'thousands: `"12,34"` is refused, never read as 1234.'
    )

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        c = field.config_as(IntegerConfig)
        return compile_integer(
            c.min if c.min is not None else -_INT64, c.max if c.max is not None else _INT64
        )

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        c = field.config_as(IntegerConfig)
        low = c.min if c.min is not None else -_INT64
        high = c.max if c.max is not None else _INT64
        return "type(v) is int and {lo} <= v <= {hi}", "v", {"lo": low, "hi": high}

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        c = field.config_as(IntegerConfig)
        schema: dict[str, Any] = {"type": "integer"}
        if c.min is not None:
            schema["minimum"] = c.min
        if c.max is not None:
            schema["maximum"] = c.max
        return schema

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else f"{value:,}"


class NumberConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    precision: int = Field(default=18, ge=1, le=38)
    scale: int = Field(default=4, ge=0, le=18)
    min: Decimal | None = None
    max: Decimal | None = None


@register_field_type
class NumberType(FieldType):
    name = "number"
    label = Label(zh="数字", en="Number")
    dsl_type = "number"
    quantity = True
    config_model = NumberConfig
    stores = "NUMERIC(precision, scale) (REAL on SQLite, exact Decimal in Python); JSON: string"
    input_notes = (
        'a JSON number or decimal text; spreadsheet text too: `"1,234.50"`, `"¥1234"`, `"1234元"`, '
        '`"1.2万"`, `"(1,234.00)"` (negative), full-width digits. Thousands separators (comma, '
        "space or underscore, one kind per number) must group thousands before the decimal point: "
        '`"12,34"` and `"1.234,50"` are refused (`invalid_number`), never read as 1234.'
    )

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        c = field.config_as(NumberConfig)
        return ExactDecimal(c.precision, c.scale)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        c = field.config_as(NumberConfig)
        return compile_decimal(c.precision, c.scale, c.min, c.max)

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else format(value, "f")

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else _grouped(value, field.config_as(NumberConfig).scale)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        c = field.config_as(NumberConfig)
        return {
            "type": ["string", "number"],
            "format": "decimal",
            "description": f"decimal({c.precision}, {c.scale}); returned as a string so no digit is lost",
        }


CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "JP¥", "HKD": "HK$"}


class CurrencyConfig(NumberConfig):
    #: ISO 4217 code of every amount in this field: one currency per field keeps SUM meaningful.
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    scale: int = Field(default=2, ge=0, le=6)


@register_field_type
class CurrencyType(NumberType):
    """An amount in the field's currency.

    The currency code is a setting of the field, not part of each value: the kernel maps one
    field to one column, and one currency per column keeps sums, sorting and filters in SQL
    meaningful. A value may still be sent as ``{"amount", "currency"}``; a different currency
    is refused rather than silently mixed.
    """

    name = "currency"
    label = Label(zh="金额", en="Currency")
    config_model = CurrencyConfig
    stores = "NUMERIC(precision, scale) amount; the ISO 4217 code is the field's `currency` setting (CNY)"

    def compile_coercer(self, field: FieldDef) -> Coercer:
        c = field.config_as(CurrencyConfig)
        amount = compile_decimal(c.precision, c.scale, c.min, c.max)
        code = c.currency

        def run(value: Any) -> Any:
            if isinstance(value, dict):
                currency = value.get("currency", code)
                if currency != code:
                    raise FieldValueError("wrong_currency", expected=code, value=currency)
                if "amount" not in value:
                    raise FieldValueError("invalid_number", value=value)
                value = value["amount"]
            return amount(value)

        return run

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        c = field.config_as(CurrencyConfig)
        sign = "-" if value < 0 else ""
        return f"{sign}{CURRENCY_SYMBOLS.get(c.currency, c.currency + ' ')}{_grouped(abs(value), c.scale)}"

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        c = field.config_as(CurrencyConfig)
        return {
            "type": ["string", "number"],
            "format": "decimal",
            "description": f"amount in {c.currency}, decimal({c.precision}, {c.scale}); returned as a string",
        }


class PercentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Decimals of the stored fraction (6 keeps 12.3456 %).
    scale: int = Field(default=6, ge=0, le=12)
    min: Decimal | None = None
    max: Decimal | None = None


@register_field_type
class PercentType(FieldType):
    """A fraction (0.125 is 12.5 %), so formulas can multiply by it directly.

    A number is the fraction; text with a percent sign is in points: ``0.5`` and ``"50%"`` are
    both 50 %. A bare number beyond ±1 (``50``, ``"50"``) is refused with a message that shows
    both spellings instead of being stored as 5000 %: it is what people type meaning 50 %, and
    a forecast ``amount * probability`` fifty times too big does silent damage. Above 100 % is
    written with the sign (``"150%"``). A Decimal (Python callers, stored values) is the fraction.
    The fraction is what spreadsheet cells and Airtable's API hold; Salesforce's 50-means-50 %
    would make every formula divide by 100.
    """

    name = "percent"
    label = Label(zh="百分比", en="Percent")
    dsl_type = "number"
    quantity = True
    config_model = PercentConfig
    stores = "NUMERIC(18, scale): the fraction (0.125 = 12.5 %); JSON: string"
    input_notes = (
        "a number is the fraction, from -1 to 1 (`0.5` is 50 %, `1` is 100 %), as in spreadsheets and "
        "Airtable's API; text with a percent sign "
        'is in points (`"50%"`, `"50 %"`, `"150%"`). `50` or `"50"` without the sign is refused (422 '
        "`percent_ambiguous`, saying how to write it), never stored as 5000 %. The same holds for "
        "spreadsheet text."
    )

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return ExactDecimal(18, field.config_as(PercentConfig).scale)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        c = field.config_as(PercentConfig)
        fraction = compile_decimal(18, c.scale, c.min, c.max)

        def run(value: Any) -> Any:
            if isinstance(value, Decimal):
                return fraction(value)
            if type(value) is str:
                text = unicodedata.normalize("NFKC", value).strip()
                if text.endswith("%"):
                    try:
                        return fraction(number_text(text[:-1]) / 100)
                    except InvalidOperation:
                        raise FieldValueError("invalid_number", value=value) from None
            number = decimal_of(value)
            if abs(number) > 1:
                raise FieldValueError("percent_ambiguous", value=value)
            return fraction(number)

        return run

    def convert_from(self, value: Any, old: FieldDef, new: FieldDef) -> Any:
        """A percent stays the same fraction (a new scale may refuse it); other types as JSON."""
        if old.type == self.name and value is not None:
            return self.coerce(value if isinstance(value, Decimal) else Decimal(str(value)), new)
        return super().convert_from(value, old, new)

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else format(value, "f")

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        points = (value * 100).normalize()
        return f"{points:f}%"

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {
            "type": ["string", "number"],
            "format": "decimal",
            "description": 'a fraction from -1 to 1 (0.125 is 12.5 %), or text with a percent sign ("150%")',
        }


class RatingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max: int = Field(default=5, ge=1, le=10)


@register_field_type
class RatingType(FieldType):
    name = "rating"
    label = Label(zh="评分", en="Rating")
    dsl_type = "integer"
    quantity = True
    config_model = RatingConfig
    stores = "SMALLINT: stars from 0 to max (5)"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.SmallInteger()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        top = field.config_as(RatingConfig).max
        whole = compile_integer(0, top, "invalid_rating")

        def run(value: Any) -> Any:
            try:
                return whole(value)
            except FieldValueError:
                raise FieldValueError("invalid_rating", max=top, value=value) from None

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return "type(v) is int and 0 <= v <= {top}", "v", {"top": field.config_as(RatingConfig).max}

    def parse_text(self, text: str, field: FieldDef) -> Any:
        text = text.strip()
        if text and set(text) <= {"★", "☆"}:
            return self.coerce(text.count("★"), field)
        return super().parse_text(text, field)

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else "★" * value + "☆" * (field.config_as(RatingConfig).max - value)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "integer", "minimum": 0, "maximum": field.config_as(RatingConfig).max}
