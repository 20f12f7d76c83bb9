"""The app package: one JSON document holding an app's entities (and later forms, flows...).

Its JSON Schema is generated from the field-type registry, so a type added by a plugin is
described the moment it is registered. Importing checks the schema first (every problem, with
its JSON pointer), then the cross-references inside the package.
"""

from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import json
import threading
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.apps.role_definitions import RoleDef, role_problems, roles_json_schema
from engine.apps.sections import RESERVED, SectionRegistry, section_problems, sections
from engine.errors import InvalidPackage, NotFound
from engine.messages import did_you_mean, name_list, problem
from form_engine import (
    IDENTIFIER,
    EntityDef,
    FieldTypeRegistry,
    Label,
    Problem,
    entity_problems,
    pydantic_problems,
    registry,
)

SCHEMA_ID = "https://tangram.dev/schemas/app-package.json"


class AppPackage(BaseModel):
    """A parsed, consistent app package."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: str = Field(pattern=IDENTIFIER, max_length=30)
    label: Label
    description: Label | None = None
    entities: list[EntityDef] = Field(default_factory=list)
    #: Who may do what; without a role granting access an app is closed to all but admins.
    roles: list[RoleDef] = Field(default_factory=list)

    def role(self, name: str) -> RoleDef | None:
        return next((r for r in self.roles if r.name == name), None)

    def entity(self, name: str) -> EntityDef:
        for e in self.entities:
            if e.name == name:
                return e
        raise KeyError(name)

    def has_entity(self, name: str) -> bool:
        return any(e.name == name for e in self.entities)

    def with_entity(self, entity: EntityDef) -> AppPackage:
        """A copy with ``entity`` added or replacing the one of the same name."""
        entities = [e for e in self.entities if e.name != entity.name]
        position = next((i for i, e in enumerate(self.entities) if e.name == entity.name), None)
        entities.insert(position if position is not None else len(entities), entity)
        return self.model_copy(update={"entities": entities})

    def section(self, name: str) -> list[dict[str, Any]]:
        """The items of a plugin's package section (``flows``, ``reports``), empty if none."""
        value = (self.model_extra or {}).get(name)
        return list(value) if isinstance(value, list) else []

    def export(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


def _label_schema() -> dict[str, Any]:
    return {"$ref": "#/$defs/Label"}


def _type_settings_schema(field_types: FieldTypeRegistry, defs: dict[str, Any]) -> list[dict[str, Any]]:
    """One ``if type == X then settings of X`` clause per registered field type."""
    clauses = []
    for field_type in field_types:
        schema = copy.deepcopy(field_type.config_model.model_json_schema(ref_template="#/$defs/{model}"))
        for name, definition in schema.pop("$defs", {}).items():
            defs.setdefault(name, definition)
        clauses.append(
            {
                "if": {"properties": {"type": {"const": field_type.name}}, "required": ["type"]},
                "then": {"properties": schema.get("properties", {}), "required": schema.get("required", [])},
            }
        )
    return clauses


_DSL = {"type": "string", "minLength": 1, "maxLength": 10_000, "description": "A rule-DSL expression"}


def _model_properties(model: type[BaseModel], names: tuple[str, ...], defs: dict[str, Any]) -> dict[str, Any]:
    """Schemas of some of a Pydantic model's properties, their definitions hoisted into ``defs``."""
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    for name, definition in schema.get("$defs", {}).items():
        defs.setdefault(name, definition)
    return {name: schema["properties"][name] for name in names}


def package_json_schema(field_types: FieldTypeRegistry = registry) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of an app package, for the types in ``field_types``.

    Cached per registry and registry version, so a type or a plugin's package section
    registered after the first call is in the next answer.
    """
    return _package_json_schema(field_types, field_types.version, sections, sections.version)


def _section_properties(registry: SectionRegistry, defs: dict[str, Any]) -> dict[str, Any]:
    """The reserved sections as opaque lists, then each registered section's item schema."""
    properties: dict[str, Any] = {name: {"type": "array", "items": {"type": "object"}} for name in RESERVED}
    for section in registry:
        item = copy.deepcopy(section.item_schema)
        for name, definition in item.pop("$defs", {}).items():
            defs.setdefault(name, definition)
        properties[section.name] = {"type": "array", "items": item}
        if section.description:
            properties[section.name]["description"] = section.description
    return properties


@functools.lru_cache(maxsize=4)
def _package_json_schema(
    field_types: FieldTypeRegistry, _version: int, registry: SectionRegistry, _sections_version: int
) -> dict[str, Any]:
    defs: dict[str, Any] = {
        "Label": {
            "type": "object",
            "properties": {
                "zh": {"type": "string", "minLength": 1, "maxLength": 200},
                "en": {"type": "string", "minLength": 1, "maxLength": 200},
            },
            "required": ["zh", "en"],
            "additionalProperties": False,
        },
    }
    identifier = {"type": "string", "pattern": IDENTIFIER, "maxLength": 50}
    field_schema = {
        "type": "object",
        "properties": {
            "id": {**identifier, "description": "Stable id: keep it when renaming the field."},
            "name": identifier,
            "type": {"enum": field_types.names()},
            "label": _label_schema(),
            "help": _label_schema(),
            "required": {"type": "boolean"},
            "unique": {"type": "boolean"},
            "index": {"type": "boolean"},
            "default": {},
            "default_expression": _DSL,
            "visible_if": _DSL,
            "required_if": _DSL,
            "readonly_if": _DSL,
        },
        "required": ["name", "type", "label"],
        "allOf": _type_settings_schema(field_types, defs),
        "unevaluatedProperties": False,
    }
    defs["Field"] = field_schema
    defs["Entity"] = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": IDENTIFIER, "maxLength": 30},
            "label": _label_schema(),
            "title_field": identifier,
            "fields": {"type": "array", "items": {"$ref": "#/$defs/Field"}},
            "indexes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "fields": {"type": "array", "items": identifier, "minItems": 1},
                        "unique": {"type": "boolean"},
                    },
                    "required": ["fields"],
                    "additionalProperties": False,
                },
            },
            **_model_properties(EntityDef, ("forms", "validations", "duplicate_rules"), defs),
        },
        "required": ["name", "label"],
        "additionalProperties": False,
    }
    defs.update(roles_json_schema())
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tangram app package",
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": IDENTIFIER, "maxLength": 30},
            "label": _label_schema(),
            "description": _label_schema(),
            "entities": {"type": "array", "items": {"$ref": "#/$defs/Entity"}},
            "roles": {"type": "array", "items": {"$ref": "#/$defs/Role"}},
            **_section_properties(registry, defs),
        },
        "required": ["name", "label"],
        "additionalProperties": False,
        "$defs": defs,
    }


def _validator() -> jsonschema.protocols.Validator:
    return _package_validator(registry, registry.version, sections.version)


@functools.lru_cache(maxsize=4)
def _package_validator(
    field_types: FieldTypeRegistry, _version: int, _sections_version: int
) -> jsonschema.protocols.Validator:
    schema = package_json_schema(field_types)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _pointer(path: Any) -> str:
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in path) or "/"


def schema_problems(data: Any) -> list[Problem]:
    """Every JSON Schema violation, deepest cause first, each with its JSON pointer.

    Remembered by the document's digest for the current schema: validating a large package
    takes a second, and the same package is checked again and again (installed per database,
    parsed before and after a dry run, exported and re-imported)."""
    validator = _validator()
    try:
        text = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):  # not a JSON document: validate it as it is
        return _schema_problems(validator, data)
    key = (registry.version, sections.version, hashlib.sha256(text.encode()).hexdigest())
    with _checked_lock:
        found = _checked.get(key)
    if found is None:
        found = _schema_problems(validator, data)
        with _checked_lock:
            if len(_checked) >= 64:
                _checked.pop(next(iter(_checked)))
            _checked[key] = found
    return list(found)


_checked: dict[tuple[int, int, str], list[Problem]] = {}
_checked_lock = threading.Lock()


def _schema_problems(validator: jsonschema.protocols.Validator, data: Any) -> list[Problem]:
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        leaves = [error]
        while leaves and leaves[0].context:
            leaves = sorted(leaves[0].context, key=lambda e: len(e.absolute_path), reverse=True)[:1]
        leaf = leaves[0] if leaves else error
        problems.append(problem("schema", pointer=_pointer(leaf.absolute_path), detail=leaf.message))
    return problems


def _reference_problems(package: AppPackage) -> list[Problem]:
    by_name = {e.name: e for e in package.entities}
    names = set(by_name)
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, entity in enumerate(package.entities):
        if entity.name in seen:
            problems.append(problem("duplicate_name.entity", pointer=f"/entities/{i}/name", name=entity.name))
        seen.add(entity.name)
        # With the other entities at hand, rules may read through lookups (``account.grade``)
        # and roll-ups are checked against their child entity.
        found = entity_problems(entity, f"/entities/{i}", by_name.get)
        problems.extend(found)
        reported = {p.pointer for p in found}
        for j, field in enumerate(entity.fields):
            target = getattr(field.config, "entity", None)
            at = f"/entities/{i}/fields/{j}/entity"
            if isinstance(target, str) and target not in names and at not in reported:
                problems.append(
                    problem(
                        "unknown_entity.reference",
                        pointer=at,
                        name=field.name,
                        target=target,
                        entities=name_list(names),
                    )
                )
    return problems


def entity_of(package: AppPackage, name: str) -> EntityDef:
    """The entity ``name`` of ``package``, or NotFound suggesting the nearest name."""
    if not package.has_entity(name):
        close = difflib.get_close_matches(name, [e.name for e in package.entities], n=1)
        hint = did_you_mean(close[0] if close else None, aside=True)
        raise NotFound("entity_not_found", app=package.name, entity=name, hint=hint)
    return package.entity(name)


def parse_package(data: Any) -> AppPackage:
    """Validate and parse a package document; raise ``InvalidPackage`` listing every problem."""
    problems = schema_problems(data)
    if problems:
        raise InvalidPackage("package_invalid", count=len(problems), problems=problems)
    try:
        package = AppPackage.model_validate(data)
    except ValidationError as exc:
        problems = pydantic_problems(exc)
    else:
        problems = _reference_problems(package) + role_problems(package.roles, package.entities)
        if not problems:
            # A plugin's checks may read entities and fields, so they run on a sound package.
            problems = section_problems(package)
    if problems:
        raise InvalidPackage("package_invalid", count=len(problems), problems=problems)
    return package
