"""Field types: one registry that maps every type to storage, schema, coercion and display.

Importing this package registers the built-in types.
"""

from form_engine.field_types import (
    choice,
    computed,
    contact,
    files,
    identity,
    location,
    numeric,
    reference,
    structured,
    system,
    temporal,
    text,
)
from form_engine.field_types.base import (
    Coercer,
    FieldType,
    FieldTypeRegistry,
    NoConfig,
    localise,
    register_field_type,
    registry,
)
from form_engine.field_types.choice import Option
from form_engine.field_types.reference import link_table_name

__all__ = [
    "Coercer",
    "FieldType",
    "FieldTypeRegistry",
    "NoConfig",
    "Option",
    "choice",
    "computed",
    "contact",
    "files",
    "identity",
    "link_table_name",
    "localise",
    "location",
    "numeric",
    "reference",
    "register_field_type",
    "registry",
    "structured",
    "system",
    "temporal",
    "text",
]
