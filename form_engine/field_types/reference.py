"""References to other records; the kernel checks that the target exists and is visible."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field

from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label

_MAX_ID = 2**63 - 1


class LookupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Name of the referenced entity in the same app.
    entity: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: Fields copied from the referenced record when the reference is chosen.
    copy_fields: dict[str, str] = Field(default_factory=dict)


def compile_record_id() -> Coercer:
    def run(value: Any) -> Any:
        if isinstance(value, dict) and "id" in value:
            value = value["id"]
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if type(value) is not int or not 0 < value <= _MAX_ID:
            raise FieldValueError("invalid_reference", value=value)
        return value

    return run


@register_field_type
class LookupType(FieldType):
    name = "lookup"
    label = Label(zh="关联记录", en="Lookup")
    dsl_type = "integer"
    config_model = LookupConfig
    sortable = False
    stores = "BIGINT: id of the referenced record (many-to-one)"

    def column_type(self, field: Any) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def compile_coercer(self, field: Any) -> Coercer:
        return compile_record_id()

    def coerce(self, value: Any, field: Any) -> Any:
        return compile_record_id()(value)

    def json_schema(self, field: Any) -> dict[str, Any]:
        return {"type": "integer", "minimum": 1, "description": f"id of a {field.config.entity} record"}
