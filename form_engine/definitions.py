"""Entity and field definitions: the metadata a business user designs.

Definitions are JSON documents that diff well: defaults are omitted on export, fields carry a
stable ``id`` (a rename keeps the id), and type-specific settings sit flat on the field,
validated by that type's ``config_model``.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from form_engine.entity_rules import DuplicateRule, ValidationRule
from form_engine.errors import Problem
from form_engine.field_types.base import registry
from form_engine.forms import DSL, FormDef
from form_engine.labels import Label

if TYPE_CHECKING:
    from form_engine.field_types.base import FieldType

IDENTIFIER = r"^[a-z][a-z0-9_]*$"
Identifier = Annotated[str, Field(pattern=IDENTIFIER, min_length=1, max_length=50)]
EntityName = Annotated[str, Field(pattern=IDENTIFIER, min_length=1, max_length=30)]

#: Columns every record table has; no field may take these names.
SYSTEM_FIELDS = (
    "id",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "owner",
    "version",
    "deleted_at",
)


_Settings = TypeVar("_Settings", bound=BaseModel)


class FieldDef(BaseModel):
    """One field of an entity; type-specific settings are extra keys."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: Identifier
    name: Identifier
    type: str
    label: Label
    help: Label | None = None
    required: bool = False
    unique: bool = False
    index: bool = False
    default: Any = None
    #: A rule-DSL expression computed for new records when the client sends no value.
    default_expression: DSL | None = None
    #: Conditions that apply on every write, whatever the form (forms may add their own).
    visible_if: DSL | None = None
    required_if: DSL | None = None
    readonly_if: DSL | None = None

    _config: BaseModel = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _id_defaults_to_name(cls, data: Any) -> Any:
        if isinstance(data, dict) and "id" not in data and "name" in data:
            data = {**data, "id": data["name"]}
        return data

    @model_validator(mode="after")
    def _parse_type_settings(self) -> FieldDef:
        if self.type not in registry:
            raise ValueError(f"unknown field type {self.type!r}; known: {', '.join(registry.names())}")
        self._config = registry.get(self.type).config_model.model_validate(self.model_extra or {})
        return self

    @property
    def config(self) -> BaseModel:
        """The type's own settings, parsed by its ``config_model``."""
        return self._config

    # builtins.type: inside this class ``type`` is the field above
    def config_as(self, model: builtins.type[_Settings]) -> _Settings:
        """The settings as ``model``, for code that knows the field's type (a field type reading
        its own config model); a field of another type raises TypeError."""
        config = self._config
        if not isinstance(config, model):
            raise TypeError(
                f"field {self.name!r} of type {self.type!r} has {type(config).__name__} settings, "
                f"not {model.__name__}"
            )
        return config

    @property
    def field_type(self) -> FieldType:
        return registry.get(self.type)

    def export(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


class IndexDef(BaseModel):
    """An index or a composite uniqueness constraint over field names."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fields: list[Identifier] = Field(min_length=1)
    unique: bool = False


class EntityDef(BaseModel):
    """An entity: one real table, one column per stored field."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: EntityName
    label: Label
    fields: list[FieldDef] = Field(default_factory=list)
    indexes: list[IndexDef] = Field(default_factory=list)
    title_field: Identifier | None = None
    forms: list[FormDef] = Field(default_factory=list)
    validations: list[ValidationRule] = Field(default_factory=list)
    duplicate_rules: list[DuplicateRule] = Field(default_factory=list)

    def form(self, name: str) -> FormDef:
        for form in self.forms:
            if form.name == name:
                return form
        raise KeyError(name)

    def field(self, name: str) -> FieldDef:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def field_by_id(self, field_id: str) -> FieldDef | None:
        for f in self.fields:
            if f.id == field_id:
                return f
        return None

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def stored_fields(self) -> list[FieldDef]:
        return [f for f in self.fields if f.field_type.storage == "column"]

    def export(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True)


def definition_problem(pointer: str, zh: str, en: str, code: str = "definition") -> Problem:
    return Problem(code=code, pointer=pointer, params={"zh": zh, "en": en})


def structure_problems(entity: EntityDef, pointer: str = "") -> list[Problem]:
    """Names, ids, indexes and references between fields; rules are checked elsewhere."""
    problems: list[Problem] = []
    seen_names: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for i, f in enumerate(entity.fields):
        at = f"{pointer}/fields/{i}"
        if f.name in SYSTEM_FIELDS and f.name != f.field_type.system_column:
            problems.append(
                definition_problem(
                    f"{at}/name",
                    f"字段名 {f.name} 为系统保留字段",
                    f"field name {f.name!r} is reserved for a system column ({', '.join(SYSTEM_FIELDS)})",
                    "reserved_name",
                )
            )
        if f.name in seen_names:
            problems.append(
                definition_problem(
                    f"{at}/name",
                    f"字段名 {f.name} 重复（与第 {seen_names[f.name]} 个字段相同）",
                    f"field name {f.name!r} is used twice (also at /fields/{seen_names[f.name]})",
                    "duplicate_name",
                )
            )
        if f.id in seen_ids:
            problems.append(
                definition_problem(
                    f"{at}/id",
                    f"字段 id {f.id} 重复",
                    f"field id {f.id!r} is used twice (also at /fields/{seen_ids[f.id]})",
                    "duplicate_id",
                )
            )
        seen_names.setdefault(f.name, i)
        seen_ids.setdefault(f.id, i)
        if (f.unique or f.index) and not f.field_type.indexable:
            problems.append(
                definition_problem(
                    f"{at}/unique",
                    f"{f.type} 类型的字段不能建索引或唯一约束",
                    f"a field of type {f.type!r} cannot be indexed or unique",
                    "not_indexable",
                )
            )
    names = set(seen_names)
    for i, index in enumerate(entity.indexes):
        for j, name in enumerate(index.fields):
            if name not in names:
                problems.append(
                    definition_problem(
                        f"{pointer}/indexes/{i}/fields/{j}",
                        f"索引引用了不存在的字段 {name}",
                        f"index refers to unknown field {name!r}",
                        "unknown_field",
                    )
                )
    if entity.title_field is not None and entity.title_field not in names:
        problems.append(
            definition_problem(
                f"{pointer}/title_field",
                f"标题字段 {entity.title_field} 不存在",
                f"title_field {entity.title_field!r} is not a field of this entity",
                "unknown_field",
            )
        )
    return problems


def pydantic_problems(exc: ValidationError, pointer: str = "") -> list[Problem]:
    """Turn Pydantic's error list into JSON-pointer problems."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = "/".join(str(part) for part in err["loc"] if not str(part).startswith("function-"))
        text = err["msg"]
        problems.append(
            definition_problem(f"{pointer}/{loc}" if loc else pointer or "/", text, text, "invalid")
        )
    return problems
