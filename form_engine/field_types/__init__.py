"""Field types: one registry that maps every type to storage, schema, coercion and display.

Importing this package registers the built-in types.
"""

from form_engine.field_types import (
    choice,
    computed,
    contact,
    divisions,
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
from form_engine.field_types.computed import AutoNumberConfig, FormulaConfig, RollupConfig
from form_engine.field_types.files import FileConfig, SignatureConfig
from form_engine.field_types.reference import (
    LookupConfig,
    ManyToManyConfig,
    SubTableConfig,
    link_table_name,
)

__all__ = [
    "AutoNumberConfig",
    "Coercer",
    "FieldType",
    "FieldTypeRegistry",
    "FileConfig",
    "FormulaConfig",
    "LookupConfig",
    "ManyToManyConfig",
    "NoConfig",
    "Option",
    "RollupConfig",
    "SignatureConfig",
    "SubTableConfig",
    "choice",
    "computed",
    "contact",
    "divisions",
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
