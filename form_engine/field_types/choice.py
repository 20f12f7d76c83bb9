"""Choices from a fixed list of options with stable keys."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label


class Option(BaseModel):
    """One choice: ``value`` is the stable key stored in the row, ``label`` what people see."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str = Field(min_length=1, max_length=100)
    label: Label
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class SelectConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    options: list[Option] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_values(self) -> SelectConfig:
        values = [o.value for o in self.options]
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            raise ValueError(f"option values must be unique; repeated: {', '.join(duplicates)}")
        return self


def option_lookup(options: list[Option]) -> dict[str, str]:
    """Keys and zh/en labels (case-folded) -> stored key, for text people type."""
    table: dict[str, str] = {}
    for option in options:
        for text in (option.label.en, option.label.zh):
            table.setdefault(text.strip().casefold(), option.value)
    for option in options:
        table[option.value.casefold()] = option.value
    return table


@register_field_type
class SelectType(FieldType):
    name = "select"
    label = Label(zh="单选", en="Select")
    config_model = SelectConfig
    stores = "VARCHAR(100): the option's stable value"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return sa.String(100)

    def compile_coercer(self, field: Any) -> Coercer:
        values = frozenset(o.value for o in field.config.options)
        choices = ", ".join(o.value for o in field.config.options)

        def run(value: Any) -> Any:
            if value in values:
                return value
            raise FieldValueError("invalid_option", value=value, choices=choices)

        return run

    def coerce(self, value: Any, field: Any) -> Any:
        return self.compile_coercer(field)(value)

    def parse_text(self, text: str, field: Any) -> Any:
        text = text.strip()
        if not text:
            return None
        found = option_lookup(field.config.options).get(text.casefold())
        if found is None:
            return self.coerce(text, field)
        return found

    def display(self, value: Any, field: Any, locale: str = "en") -> str:
        for option in field.config.options:
            if option.value == value:
                return option.label.text(locale)
        return "" if value is None else str(value)

    def json_schema(self, field: Any) -> dict[str, Any]:
        return {"type": "string", "enum": [o.value for o in field.config.options]}
