"""Fields that show a system column (who and when) on forms, lists and in rules.

They store nothing of their own (storage "none"): the value is the record's system column
named by ``system_column``, which the kernel fills on every write.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.field_types.reference import compile_record_id
from form_engine.field_types.temporal import DateTimeConfig, compile_datetime
from form_engine.labels import Label

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef


class _SystemUser(FieldType):
    dsl_type = "integer"
    storage = "none"
    writable = False

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_record_id("invalid_user")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "integer", "readOnly": True, "description": "id of a platform user"}


@register_field_type
class CreatedByType(_SystemUser):
    name = "created_by"
    label = Label(zh="创建人", en="Created by")
    system_column = "created_by"
    stores = "nothing: shows the system column created_by (user id)"


@register_field_type
class UpdatedByType(_SystemUser):
    name = "updated_by"
    label = Label(zh="最后修改人", en="Updated by")
    system_column = "updated_by"
    stores = "nothing: shows the system column updated_by (user id)"


class _SystemTime(FieldType):
    dsl_type = "datetime"
    storage = "none"
    writable = False
    config_model = DateTimeConfig

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return compile_datetime(ZoneInfo(field.config_as(DateTimeConfig).timezone))

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if not isinstance(value, datetime):
            return ""
        return value.astimezone(ZoneInfo(field.config_as(DateTimeConfig).timezone)).strftime("%Y-%m-%d %H:%M")

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "format": "date-time", "readOnly": True}


@register_field_type
class CreatedAtType(_SystemTime):
    name = "created_at"
    label = Label(zh="创建时间", en="Created at")
    system_column = "created_at"
    stores = "nothing: shows the system column created_at (UTC timestamp)"


@register_field_type
class UpdatedAtType(_SystemTime):
    name = "updated_at"
    label = Label(zh="最后修改时间", en="Updated at")
    system_column = "updated_at"
    stores = "nothing: shows the system column updated_at (UTC timestamp)"
