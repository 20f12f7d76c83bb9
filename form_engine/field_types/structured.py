"""Free-form values: JSON documents (optionally constrained by a JSON Schema) and colours."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import jsonschema
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from form_engine.column_types import json_column
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_json": {
            "zh": "{label}应为 JSON 数据：{reason}",
            "en": "{label} must be JSON data: {reason}",
        },
        "invalid_colour": {
            "zh": "{label}应为颜色值，如 #1A73E8，收到 {value}",
            "en": "{label} must be a colour such as #1A73E8, got {value}",
        },
    }
)


class JsonConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Optional JSON Schema (Draft 2020-12) every value must satisfy.
    json_schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    max_bytes: int = Field(default=65_536, ge=1)

    @field_validator("json_schema_")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            jsonschema.Draft202012Validator.check_schema(value)
        return value


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


@register_field_type
class JsonType(FieldType):
    name = "json"
    label = Label(zh="JSON 数据", en="JSON")
    dsl_type = None
    config_model = JsonConfig
    indexable = False
    sortable = False
    stores = "JSON (JSONB on PostgreSQL), optionally checked against the field's JSON Schema"
    blank_is_missing = False

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return json_column()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        config = field.config_as(JsonConfig)
        schema = config.json_schema_
        validator = jsonschema.Draft202012Validator(schema) if schema is not None else None
        max_bytes = config.max_bytes

        def run(value: Any) -> Any:
            if not _is_json(value):
                raise FieldValueError(
                    "invalid_json", reason={"zh": "含有非 JSON 值", "en": "not a JSON value"}
                )
            if len(json.dumps(value, ensure_ascii=False).encode()) > max_bytes:
                raise FieldValueError("invalid_json", reason={"zh": "数据过大", "en": "too large"})
            if validator is not None:
                error = jsonschema.exceptions.best_match(validator.iter_errors(value))
                if error is not None:
                    where = "/" + "/".join(str(p) for p in error.absolute_path)
                    raise FieldValueError("invalid_json", reason=f"{where}: {error.message}")
            return value

        return run

    def parse_text(self, text: str, field: FieldDef) -> Any:
        if not text.strip():
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FieldValueError("invalid_json", reason=str(exc)) from None
        return self.coerce(value, field)

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if value is None else json.dumps(value, ensure_ascii=False)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        schema = field.config_as(JsonConfig).json_schema_
        return {} if schema is None else dict(schema)

    def describe(self, field: FieldDef, locale: str = "en") -> dict[str, Any]:
        return field.config_as(JsonConfig).model_dump(mode="json", exclude_defaults=True, by_alias=True)


_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_RGB = re.compile(r"^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$", re.IGNORECASE)


def parse_colour(value: Any) -> str:
    """``#1a73e8``, ``1A73E8``, ``#abc`` or ``rgb(26, 115, 232)`` -> ``#1A73E8``."""
    if isinstance(value, str):
        text = value.strip()
        match = _HEX.match(text)
        if match:
            digits = match[1]
            if len(digits) == 3:
                digits = "".join(c * 2 for c in digits)
            return "#" + digits.upper()
        match = _RGB.match(text)
        if match and all(int(part) <= 255 for part in match.groups()):
            return "#" + "".join(f"{int(part):02X}" for part in match.groups())
    raise FieldValueError("invalid_colour", value=value)


@register_field_type
class ColourType(FieldType):
    name = "colour"
    label = Label(zh="颜色", en="Colour")
    stores = "CHAR(7): #RRGGBB, upper-case"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(7)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return parse_colour

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$"}
