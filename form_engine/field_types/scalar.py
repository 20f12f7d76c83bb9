"""Plain values: text, numbers, yes/no, dates and times."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine.column_types import ExactDecimal, UTCDateTime
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label

_THOUSANDS = re.compile(r"[,，_\s]")
_CURRENCY = re.compile(r"^[¥￥$€£]|(元|人民币|RMB|CNY)$", re.IGNORECASE)
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
_TRUE = {"true", "t", "yes", "y", "1", "是", "对", "真", "✓", "√"}
_FALSE = {"false", "f", "no", "n", "0", "否", "错", "假", "✗", "×"}


def _number_text(text: str) -> Decimal:
    """``1,234.50``, ``¥1234``, ``1.2万`` -> Decimal; raises InvalidOperation otherwise."""
    cleaned = _THOUSANDS.sub("", text.strip())
    cleaned = _CURRENCY.sub("", cleaned)
    multiplier = Decimal(1)
    if cleaned and cleaned[-1] in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[cleaned[-1]]
        cleaned = cleaned[:-1]
    if not cleaned or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cleaned):
        raise InvalidOperation(text)
    return Decimal(cleaned) * multiplier


class TextConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_length: int = Field(default=255, ge=1, le=10_000)
    placeholder: Label | None = None


@register_field_type
class TextType(FieldType):
    name = "text"
    label = Label(zh="单行文本", en="Text")
    config_model = TextConfig
    stores = "VARCHAR(max_length), trimmed"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return sa.String(field.config.max_length)

    def compile_coercer(self, field: Any) -> Coercer:
        max_length = field.config.max_length

        def run(value: Any) -> Any:
            if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                value = str(value)
            elif not isinstance(value, str):
                raise FieldValueError("invalid_text", value=value)
            value = value.strip()
            if len(value) > max_length:
                raise FieldValueError("too_long", max=max_length, actual=len(value))
            return value

        return run

    def coerce(self, value: Any, field: Any) -> Any:
        return self.compile_coercer(field)(value)

    def json_schema(self, field: Any) -> dict[str, Any]:
        return {"type": "string", "maxLength": field.config.max_length}

    def normalise(self, value: Any, field: Any) -> Any:
        return None if value is None else " ".join(str(value).split()).casefold()


class LongTextConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_length: int = Field(default=100_000, ge=1, le=10_000_000)
    placeholder: Label | None = None


@register_field_type
class LongTextType(TextType):
    name = "long_text"
    label = Label(zh="多行文本", en="Long text")
    config_model = LongTextConfig
    indexable = False
    stores = "TEXT"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def compile_coercer(self, field: Any) -> Coercer:
        max_length = field.config.max_length

        def run(value: Any) -> Any:
            if not isinstance(value, str):
                raise FieldValueError("invalid_text", value=value)
            if len(value) > max_length:
                raise FieldValueError("too_long", max=max_length, actual=len(value))
            return value

        return run


class IntegerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min: int | None = None
    max: int | None = None


_INT64 = 2**63 - 1


@register_field_type
class IntegerType(FieldType):
    name = "integer"
    label = Label(zh="整数", en="Integer")
    dsl_type = "integer"
    config_model = IntegerConfig
    stores = "BIGINT"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def compile_coercer(self, field: Any) -> Coercer:
        low = field.config.min if field.config.min is not None else -_INT64
        high = field.config.max if field.config.max is not None else _INT64

        def run(value: Any) -> Any:
            if type(value) is not int:
                if isinstance(value, bool):
                    raise FieldValueError("invalid_integer", value=value)
                if (isinstance(value, float) and value.is_integer()) or (
                    isinstance(value, Decimal) and value == value.to_integral_value()
                ):
                    value = int(value)
                elif isinstance(value, str):
                    try:
                        number = _number_text(value)
                    except InvalidOperation:
                        raise FieldValueError("invalid_integer", value=value) from None
                    if number != number.to_integral_value():
                        raise FieldValueError("invalid_integer", value=value)
                    value = int(number)
                else:
                    raise FieldValueError("invalid_integer", value=value)
            if not low <= value <= high:
                raise FieldValueError("out_of_range", min=low, max=high, value=value)
            return value

        return run

    def coerce(self, value: Any, field: Any) -> Any:
        return self.compile_coercer(field)(value)

    def json_schema(self, field: Any) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if field.config.min is not None:
            schema["minimum"] = field.config.min
        if field.config.max is not None:
            schema["maximum"] = field.config.max
        return schema


class NumberConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    precision: int = Field(default=18, ge=1, le=38)
    scale: int = Field(default=4, ge=0, le=18)
    min: Decimal | None = None
    max: Decimal | None = None


def compile_decimal(precision: int, scale: int, low: Decimal | None, high: Decimal | None) -> Coercer:
    """A coercer to an exact Decimal that refuses values the column cannot hold."""
    quantum = Decimal(1).scaleb(-scale)
    limit = Decimal(10) ** (precision - scale)

    def run(value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldValueError("invalid_number", value=value)
        try:
            if isinstance(value, Decimal):
                number = value
            elif isinstance(value, int):
                number = Decimal(value)
            elif isinstance(value, float):
                number = Decimal(repr(value))
            elif isinstance(value, str):
                number = _number_text(value)
            else:
                raise InvalidOperation
        except InvalidOperation:
            raise FieldValueError("invalid_number", value=value) from None
        if not number.is_finite():
            raise FieldValueError("invalid_number", value=value)
        quantised = number.quantize(quantum)
        if quantised != number or abs(quantised) >= limit:
            raise FieldValueError("too_many_digits", precision=precision, scale=scale, value=value)
        if (low is not None and quantised < low) or (high is not None and quantised > high):
            raise FieldValueError("out_of_range", min=low, max=high, value=value)
        return quantised

    return run


@register_field_type
class NumberType(FieldType):
    name = "number"
    label = Label(zh="数字", en="Number")
    dsl_type = "number"
    config_model = NumberConfig
    stores = "NUMERIC(precision, scale) (REAL on SQLite, exact Decimal in Python); JSON: string"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return ExactDecimal(field.config.precision, field.config.scale)

    def compile_coercer(self, field: Any) -> Coercer:
        c = field.config
        return compile_decimal(c.precision, c.scale, c.min, c.max)

    def coerce(self, value: Any, field: Any) -> Any:
        return self.compile_coercer(field)(value)

    def to_json(self, value: Any, field: Any) -> Any:
        return None if value is None else format(value, "f")

    def json_schema(self, field: Any) -> dict[str, Any]:
        return {
            "type": ["string", "number"],
            "format": "decimal",
            "description": f"decimal({field.config.precision}, {field.config.scale}); "
            "returned as a string so no digit is lost",
        }


@register_field_type
class BooleanType(FieldType):
    name = "boolean"
    label = Label(zh="是/否", en="Yes/No")
    dsl_type = "boolean"
    stores = "BOOLEAN"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return sa.Boolean()

    def coerce(self, value: Any, field: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise FieldValueError("invalid_boolean", value=value)

    def compile_coercer(self, field: Any) -> Coercer:
        coerce = self.coerce
        return lambda value: value if value is True or value is False else coerce(value, field)

    def json_schema(self, field: Any) -> dict[str, Any]:
        return {"type": "boolean"}

    def display(self, value: Any, field: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        if locale.startswith("zh"):
            return "是" if value else "否"
        return "Yes" if value else "No"


_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        raise FieldValueError("invalid_date", value=value)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        match = _DATE_TEXT.match(value.strip())
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
    raise FieldValueError("invalid_date", value=value)


@register_field_type
class DateType(FieldType):
    name = "date"
    label = Label(zh="日期", en="Date")
    dsl_type = "date"
    stores = "DATE; JSON: YYYY-MM-DD"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def coerce(self, value: Any, field: Any) -> Any:
        return parse_date(value)

    def compile_coercer(self, field: Any) -> Coercer:
        return parse_date

    def to_json(self, value: Any, field: Any) -> Any:
        return None if value is None else value.isoformat()

    def json_schema(self, field: Any) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class DateTimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Zone of values typed without an offset, and of the display.
    timezone: str = "Asia/Shanghai"


_DATETIME_TEXT = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def compile_datetime(zone: tzinfo) -> Coercer:
    def run(value: Any) -> Any:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            match = _DATETIME_TEXT.match(value.strip())
            if not match:
                raise FieldValueError("invalid_datetime", value=value)
            try:
                parsed = datetime.fromisoformat(
                    f"{int(match[1]):04d}-{int(match[2]):02d}-{int(match[3]):02d}"
                    f"T{int(match[4] or 0):02d}:{match[5] or '00'}:{match[6] or '00'}"
                    + (f".{match[7].ljust(6, '0')}" if match[7] else "")
                    + (match[8] or "").replace("Z", "+00:00")
                )
            except ValueError:
                raise FieldValueError("invalid_datetime", value=value) from None
        else:
            raise FieldValueError("invalid_datetime", value=value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=zone)
        return parsed.astimezone(UTC)

    return run


@register_field_type
class DateTimeType(FieldType):
    name = "datetime"
    label = Label(zh="日期时间", en="Date and time")
    dsl_type = "datetime"
    config_model = DateTimeConfig
    stores = "TIMESTAMP (UTC); JSON: ISO 8601 with offset"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return UTCDateTime()

    def compile_coercer(self, field: Any) -> Coercer:
        return compile_datetime(ZoneInfo(field.config.timezone))

    def coerce(self, value: Any, field: Any) -> Any:
        return self.compile_coercer(field)(value)

    def to_json(self, value: Any, field: Any) -> Any:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    def display(self, value: Any, field: Any, locale: str = "en") -> str:
        if value is None:
            return ""
        return value.astimezone(ZoneInfo(field.config.timezone)).strftime("%Y-%m-%d %H:%M")

    def json_schema(self, field: Any) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}
