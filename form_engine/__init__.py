"""Field types and entity definitions: how a business user's design becomes valid data.

Imports ``rule_engine`` only; never opens a database session.
"""

from form_engine import regions
from form_engine.auto_number import PatternError, format_auto_number, parse_pattern, sequence_key
from form_engine.column_types import ExactDecimal, UTCDateTime, id_column_type, json_column, json_text
from form_engine.definition_checks import entity_problems, parse_entity
from form_engine.definition_memo import DefinitionMemo
from form_engine.definitions import (
    IDENTIFIER,
    SYSTEM_FIELDS,
    EntityDef,
    FieldDef,
    IndexDef,
    pydantic_problems,
)
from form_engine.docs import field_types_markdown
from form_engine.dsl_fields import SYSTEM_DSL_FIELDS, dsl_fields, dsl_relations
from form_engine.duplicates import KEY_VERSION, DuplicateMatch, duplicate_keys, key_prefix, normalised_key
from form_engine.entity_rules import DuplicateRule, ValidationRule
from form_engine.errors import (
    DefinitionInvalid,
    FieldValueError,
    FormError,
    Problem,
    RecordInvalid,
)
from form_engine.field_types import (
    AutoNumberConfig,
    FieldType,
    FieldTypeRegistry,
    FileConfig,
    FormulaConfig,
    LookupConfig,
    ManyToManyConfig,
    Option,
    RollupConfig,
    SignatureConfig,
    SubTableConfig,
    link_table_name,
    register_field_type,
    registry,
)
from form_engine.field_types.identity import uscc_check_character
from form_engine.form_description import describe_form
from form_engine.forms import DEFAULT_FORM, Column, Columns, FieldItem, FormDef, Section, Tab, Tabs
from form_engine.labels import LOCALES, Label, normalise_locale
from form_engine.messages import MESSAGES, add_messages, render
from form_engine.runtime import EntityRuntime, ValidatedValues, compile_entity, linked_values
from form_engine.schema import record_schema
from form_engine.storable_text import code_point, escape_unstorable, unstorable_in
from form_engine.text_folding import fold_text

__all__ = [
    "DEFAULT_FORM",
    "IDENTIFIER",
    "KEY_VERSION",
    "LOCALES",
    "MESSAGES",
    "SYSTEM_DSL_FIELDS",
    "SYSTEM_FIELDS",
    "AutoNumberConfig",
    "Column",
    "Columns",
    "DefinitionInvalid",
    "DefinitionMemo",
    "DuplicateMatch",
    "DuplicateRule",
    "EntityDef",
    "EntityRuntime",
    "ExactDecimal",
    "FieldDef",
    "FieldItem",
    "FieldType",
    "FieldTypeRegistry",
    "FieldValueError",
    "FileConfig",
    "FormDef",
    "FormError",
    "FormulaConfig",
    "IndexDef",
    "Label",
    "LookupConfig",
    "ManyToManyConfig",
    "Option",
    "PatternError",
    "Problem",
    "RecordInvalid",
    "RollupConfig",
    "Section",
    "SignatureConfig",
    "SubTableConfig",
    "Tab",
    "Tabs",
    "UTCDateTime",
    "ValidatedValues",
    "ValidationRule",
    "add_messages",
    "code_point",
    "compile_entity",
    "describe_form",
    "dsl_fields",
    "dsl_relations",
    "duplicate_keys",
    "entity_problems",
    "escape_unstorable",
    "field_types_markdown",
    "fold_text",
    "format_auto_number",
    "id_column_type",
    "json_column",
    "json_text",
    "key_prefix",
    "link_table_name",
    "linked_values",
    "normalise_locale",
    "normalised_key",
    "parse_entity",
    "parse_pattern",
    "pydantic_problems",
    "record_schema",
    "regions",
    "register_field_type",
    "registry",
    "render",
    "sequence_key",
    "unstorable_in",
    "uscc_check_character",
]
