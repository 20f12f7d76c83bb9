"""Field types: one registry that maps every type to storage, schema, coercion and display."""

from form_engine.field_types import choice, reference, scalar
from form_engine.field_types.base import (
    Coercer,
    FieldType,
    FieldTypeRegistry,
    NoConfig,
    register_field_type,
    registry,
)
from form_engine.field_types.choice import Option

__all__ = [
    "Coercer",
    "FieldType",
    "FieldTypeRegistry",
    "NoConfig",
    "Option",
    "choice",
    "reference",
    "register_field_type",
    "registry",
    "scalar",
]
