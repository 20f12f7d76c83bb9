"""Field types and entity definitions: how a business user's design becomes valid data.

Imports ``rule_engine`` only; never opens a database session.
"""

from form_engine.column_types import ExactDecimal, UTCDateTime, id_column_type, json_column
from form_engine.definitions import (
    IDENTIFIER,
    SYSTEM_FIELDS,
    EntityDef,
    FieldDef,
    IndexDef,
    entity_problems,
    parse_entity,
    pydantic_problems,
)
from form_engine.errors import (
    DefinitionInvalid,
    FieldValueError,
    FormError,
    Problem,
    RecordInvalid,
)
from form_engine.field_types import (
    FieldType,
    FieldTypeRegistry,
    Option,
    register_field_type,
    registry,
)
from form_engine.labels import LOCALES, Label, normalise_locale
from form_engine.messages import MESSAGES, render
from form_engine.schema import record_schema
from form_engine.validator import RecordValidator, compile_validator

__all__ = [
    "IDENTIFIER",
    "LOCALES",
    "MESSAGES",
    "SYSTEM_FIELDS",
    "DefinitionInvalid",
    "EntityDef",
    "ExactDecimal",
    "FieldDef",
    "FieldType",
    "FieldTypeRegistry",
    "FieldValueError",
    "FormError",
    "IndexDef",
    "Label",
    "Option",
    "Problem",
    "RecordInvalid",
    "RecordValidator",
    "UTCDateTime",
    "compile_validator",
    "entity_problems",
    "id_column_type",
    "json_column",
    "normalise_locale",
    "parse_entity",
    "pydantic_problems",
    "record_schema",
    "register_field_type",
    "registry",
    "render",
]
