"""Choices: yes/no, one option, several options, and free tags."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from form_engine.column_types import json_column
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages
from form_engine.text_folding import fold_text

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_list": {
            "zh": "{label}应为列表，收到 {value}",
            "en": "{label} must be a list, got {value}",
        },
        "too_many_items": {
            "zh": "{label}最多 {max} 项（当前 {actual} 项）",
            "en": "{label} allows at most {max} items (got {actual})",
        },
        "invalid_tag": {
            "zh": "{label}的标签应为 1 到 {max} 个字符的文本，收到 {value}",
            "en": "{label} takes tags of 1 to {max} characters, got {value}",
        },
    }
)

_TRUE = {"true", "t", "yes", "y", "1", "是", "对", "真", "✓", "√", "on"}
_FALSE = {"false", "f", "no", "n", "0", "否", "错", "假", "✗", "×", "off"}
#: Separators people use between items in one spreadsheet cell.
LIST_SEPARATORS = re.compile(r"[,，;；、|\n]")


@register_field_type
class BooleanType(FieldType):
    name = "boolean"
    label = Label(zh="是/否", en="Yes/No")
    dsl_type = "boolean"
    stores = "BOOLEAN"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Boolean()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        def run(value: Any) -> Any:
            if value is True or value is False:
                return value
            if isinstance(value, str):
                word = value.strip().lower()
                if word in _TRUE:
                    return True
                if word in _FALSE:
                    return False
            if type(value) is int and value in (0, 1):
                return bool(value)
            raise FieldValueError("invalid_boolean", value=value)

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return "v is True or v is False", "v", {}

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "boolean"}

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        if locale.startswith("zh"):
            return "是" if value else "否"
        return "Yes" if value else "No"


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


def _option_label(options: list[Option], value: Any, locale: str) -> str:
    for option in options:
        if option.value == value:
            return option.label.text(locale)
    return "" if value is None else str(value)


@register_field_type
class SelectType(FieldType):
    name = "select"
    label = Label(zh="单选", en="Select")
    config_model = SelectConfig
    stores = "VARCHAR(100): the option's stable value"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(100)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        options = field.config_as(SelectConfig).options
        values = frozenset(o.value for o in options)
        choices = ", ".join(o.value for o in options)

        def run(value: Any) -> Any:
            if type(value) is str and value in values:
                return value
            raise FieldValueError("invalid_option", value=value, choices=choices)

        return run

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return (
            "type(v) is str and v in {values}",
            "v",
            {"values": frozenset(o.value for o in field.config_as(SelectConfig).options)},
        )

    def parse_text(self, text: str, field: FieldDef) -> Any:
        text = text.strip()
        if not text:
            return None
        found = option_lookup(field.config_as(SelectConfig).options).get(text.casefold())
        return self.coerce(text if found is None else found, field)

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return _option_label(field.config_as(SelectConfig).options, value, locale)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "enum": [o.value for o in field.config_as(SelectConfig).options]}


class MultiSelectConfig(SelectConfig):
    max_items: int | None = Field(default=None, ge=1)


def _distinct(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


@register_field_type
class MultiSelectType(FieldType):
    name = "multi_select"
    label = Label(zh="多选", en="Multi-select")
    dsl_type = "list"
    config_model = MultiSelectConfig
    indexable = False
    sortable = False
    stores = "JSON list of option values (JSONB on PostgreSQL), in option order, no repeats"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return json_column()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        c = field.config_as(MultiSelectConfig)
        order = {o.value: i for i, o in enumerate(c.options)}
        choices = ", ".join(order)
        max_items = c.max_items

        def run(value: Any) -> Any:
            if type(value) is not list:
                if isinstance(value, str):
                    value = [value]
                elif isinstance(value, (tuple, set, frozenset)):
                    value = list(value)
                else:
                    raise FieldValueError("invalid_list", value=value)
            last = -1
            in_order = True
            for item in value:
                position = order.get(item) if type(item) is str else None
                if position is None:
                    raise FieldValueError("invalid_option", value=item, choices=choices)
                if position <= last:
                    in_order = False
                last = position
            items = value[:] if in_order else sorted(_distinct(value), key=order.__getitem__)
            if max_items is not None and len(items) > max_items:
                raise FieldValueError("too_many_items", max=max_items, actual=len(items))
            return items

        return run

    def parse_text(self, text: str, field: FieldDef) -> Any:
        table = option_lookup(field.config_as(MultiSelectConfig).options)
        items = [part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()]
        if not items:
            return None
        return self.coerce([table.get(item.casefold(), item) for item in items], field)

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if not value:
            return ""
        return ("、" if locale.startswith("zh") else ", ").join(
            _option_label(field.config_as(MultiSelectConfig).options, item, locale) for item in value
        )

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        c = field.config_as(MultiSelectConfig)
        schema: dict[str, Any] = {
            "type": "array",
            "items": {"enum": [o.value for o in c.options]},
            "uniqueItems": True,
        }
        if c.max_items is not None:
            schema["maxItems"] = c.max_items
        return schema

    def normalise(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else tuple(sorted(value))


class TagsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    max_items: int = Field(default=20, ge=1, le=200)
    max_length: int = Field(default=30, ge=1, le=100)
    #: Tags suggested by the UI; any other tag is allowed too.
    suggestions: list[str] = Field(default_factory=list)


@register_field_type
class TagsType(FieldType):
    name = "tags"
    label = Label(zh="标签", en="Tags")
    dsl_type = "list"
    config_model = TagsConfig
    indexable = False
    sortable = False
    stores = "JSON list of trimmed tag texts, first spelling kept, no case-insensitive repeats"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return json_column()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        c = field.config_as(TagsConfig)
        max_items, max_length = c.max_items, c.max_length

        def run(value: Any) -> Any:
            if isinstance(value, str):
                value = LIST_SEPARATORS.split(value)
            elif not isinstance(value, (list, tuple)):
                raise FieldValueError("invalid_list", value=value)
            seen: dict[str, str] = {}
            for item in value:
                if not isinstance(item, str):
                    raise FieldValueError("invalid_tag", max=max_length, value=item)
                tag = " ".join(item.split())
                if not tag:
                    continue
                if len(tag) > max_length:
                    raise FieldValueError("invalid_tag", max=max_length, value=item)
                seen.setdefault(tag.casefold(), tag)
            if len(seen) > max_items:
                raise FieldValueError("too_many_items", max=max_items, actual=len(seen))
            return list(seen.values())

        return run

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        return "" if not value else ", ".join(value)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        c = field.config_as(TagsConfig)
        return {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": c.max_length},
            "maxItems": c.max_items,
        }

    def normalise(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else tuple(sorted({fold_text(tag) for tag in value}))
