"""References to other records, users and departments; the kernel checks that targets exist.

Many-to-one references (lookup, user, department) are an id column. One-to-many (sub-table)
and many-to-many relations live outside the row: the child table holds a lookup to the
parent, and the kernel keeps a link table; their values travel in ``ValidatedValues.relations``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "invalid_user": {
            "zh": "{label}应为用户编号（整数），收到 {value}",
            "en": "{label} must be a user id (an integer), got {value}",
        },
        "invalid_department": {
            "zh": "{label}应为部门编号（整数），收到 {value}",
            "en": "{label} must be a department id (an integer), got {value}",
        },
        "invalid_rows": {
            "zh": "{label}应为明细行列表（每行一个对象），收到 {value}",
            "en": "{label} must be a list of rows (one object each), got {value}",
        },
    }
)

_MAX_ID = 2**63 - 1
ENTITY_NAME = r"^[a-z][a-z0-9_]*$"


def inline_record_id() -> tuple[str, str, dict[str, Any]]:
    return "type(v) is int and 0 < v <= {top}", "v", {"top": _MAX_ID}


def compile_record_id(code: str = "invalid_reference") -> Coercer:
    """Accepts ``12``, ``"12"`` and ``{"id": 12, ...}`` (what the API returns for a reference)."""

    def run(value: Any) -> Any:
        if type(value) is int and 0 < value <= _MAX_ID:
            return value
        if isinstance(value, dict) and "id" in value:
            value = value["id"]
        if isinstance(value, str) and value.strip().isdecimal():
            value = int(value.strip())
        if type(value) is not int or not 0 < value <= _MAX_ID:
            raise FieldValueError(code, value=value)
        return value

    return run


class LookupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Name of the referenced entity in the same app.
    entity: str = Field(pattern=ENTITY_NAME)
    #: Linkage: field of this entity -> field of the referenced record copied into it when the
    #: reference is chosen (picking an account fills the region).
    copy_fields: dict[str, str] = Field(default_factory=dict)


@register_field_type
class LookupType(FieldType):
    name = "lookup"
    label = Label(zh="关联记录", en="Lookup")
    dsl_type = "integer"
    config_model = LookupConfig
    sortable = False
    stores = "BIGINT: id of the referenced record (many-to-one); indexed"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return inline_record_id()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_record_id()

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {
            "type": "integer",
            "minimum": 1,
            "description": f"id of a {field.config_as(LookupConfig).entity} record",
        }

    def target_entity(self, field: FieldDef) -> str | None:
        return field.config_as(LookupConfig).entity


@register_field_type
class UserType(FieldType):
    name = "user"
    label = Label(zh="人员", en="User")
    dsl_type = "integer"
    sortable = False
    stores = "BIGINT: id of a platform user"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        return inline_record_id()

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_record_id("invalid_user")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "description": "id of a platform user"}


@register_field_type
class DepartmentType(UserType):
    name = "department"
    label = Label(zh="部门", en="Department")
    stores = "BIGINT: id of a platform department"

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_record_id("invalid_department")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "description": "id of a platform department"}


class SubTableConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The child entity; its rows are edited inside this form and deleted with the parent.
    entity: str = Field(pattern=ENTITY_NAME)
    #: The child's lookup field that points at the parent.
    link_field: str = Field(pattern=ENTITY_NAME)
    max_rows: int = Field(default=500, ge=1, le=10_000)


@register_field_type
class SubTableType(FieldType):
    name = "sub_table"
    label = Label(zh="子表（主从明细）", en="Sub-table (master-detail)")
    dsl_type = None
    config_model = SubTableConfig
    storage = "none"
    indexable = False
    sortable = False
    stores = "nothing in the row: child records of `entity` whose `link_field` holds this record's id"

    def compile_coercer(self, field: FieldDef) -> Coercer:
        max_rows = field.config_as(SubTableConfig).max_rows

        def run(value: Any) -> Any:
            if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
                raise FieldValueError("invalid_rows", value=value)
            if len(value) > max_rows:
                raise FieldValueError("too_many_items", max=max_rows, actual=len(value))
            return [dict(row) for row in value]

        return run

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        config = field.config_as(SubTableConfig)
        return {
            "type": "array",
            "items": {"type": "object", "description": f"a {config.entity} record; with id to update it"},
            "maxItems": config.max_rows,
        }


class ManyToManyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The related entity; the kernel keeps a link table (this id, target id).
    entity: str = Field(pattern=ENTITY_NAME)
    max_items: int = Field(default=1000, ge=1)


@register_field_type
class ManyToManyType(FieldType):
    name = "many_to_many"
    label = Label(zh="多对多关联", en="Many-to-many")
    dsl_type = None
    config_model = ManyToManyConfig
    storage = "none"
    indexable = False
    sortable = False
    stores = "nothing in the row: a link table (this record id, target record id) kept by the kernel"

    def compile_coercer(self, field: FieldDef) -> Coercer:
        one = compile_record_id()
        max_items = field.config_as(ManyToManyConfig).max_items

        def run(value: Any) -> Any:
            if not isinstance(value, list):
                raise FieldValueError("invalid_list", value=value)
            ids = list(dict.fromkeys(one(item) for item in value))
            if len(ids) > max_items:
                raise FieldValueError("too_many_items", max=max_items, actual=len(ids))
            return ids

        return run

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "integer", "minimum": 1},
            "uniqueItems": True,
            "description": f"ids of {field.config_as(ManyToManyConfig).entity} records",
        }


def link_table_name(entity: str, field: FieldDef) -> str:
    """Name of a many-to-many link table: from the field id, so a rename keeps the table."""
    return f"{entity}__{field.id}__links"
