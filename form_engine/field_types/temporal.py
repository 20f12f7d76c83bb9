"""Dates, instants and times of day.

Datetimes are stored in UTC and shown in the field's time zone; text without an offset is
read in that zone, so ``2026/11/22 09:30`` typed in Beijing means 01:30 UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, field_validator

from form_engine.column_types import UTCDateTime
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_time": {
            "zh": "{label}应为时间（如 09:30 或 18:45:00），收到 {value}",
            "en": "{label} must be a time of day such as 09:30 or 18:45:00, got {value}",
        },
    }
)

_DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATETIME_TEXT = re.compile(
    r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T\s]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_TIME_TEXT = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")


def parse_date(value: Any) -> date:
    """A date from ``date``, ``2026-11-22``, ``2026/11/22``, ``2026.11.22`` or ``2026年11月22日``."""
    if type(value) is str and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise FieldValueError("invalid_date", value=value) from None
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

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return parse_date

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else value.isoformat()

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        return f"{value.year}年{value.month}月{value.day}日" if locale.startswith("zh") else value.isoformat()

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class DateTimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Zone of values typed without an offset, and of the display.
    timezone: str = "Asia/Shanghai"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ValueError, KeyError, OSError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name like Asia/Shanghai") from None
        return value


def compile_datetime(zone: tzinfo) -> Coercer:
    """A coercer to an aware UTC datetime; naive input is read in ``zone``."""

    def run(value: Any) -> Any:
        parsed: datetime | None
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value) if len(value) >= 19 and value[10] == "T" else None
            except ValueError:
                parsed = None
            if parsed is None:
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

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return UTCDateTime()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_datetime(ZoneInfo(field.config_as(DateTimeConfig).timezone))

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        moment: datetime = value
        zone = ZoneInfo(field.config_as(DateTimeConfig).timezone)
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


def parse_time(value: Any) -> time:
    """A wall-clock time from ``time``, ``9:30``, ``09:30:15`` or ``09：30``."""
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        match = _TIME_TEXT.match(value.strip())
        if match:
            try:
                return time(int(match[1]), int(match[2]), int(match[3] or 0))
            except ValueError:
                pass
    raise FieldValueError("invalid_time", value=value)


@register_field_type
class TimeType(FieldType):
    name = "time"
    label = Label(zh="时间", en="Time")
    #: The DSL has no time-of-day type; keep times out of rules rather than compare text.
    dsl_type = None
    stores = "TIME (wall clock, no zone); JSON: HH:MM:SS"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Time()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return parse_time

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else value.isoformat(timespec="seconds")

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        clock: time = value
        return clock.strftime("%H:%M" if clock.second == 0 else "%H:%M:%S")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "time", "pattern": r"^\d{2}:\d{2}(:\d{2})?$"}
