"""The contract every field type fulfils, and the registry that holds them.

A field type is the single source for how one kind of value is stored (column), described
(JSON Schema, DSL type), accepted (coercion from JSON and from spreadsheet text), and shown.
The kernel and the other engines never switch on type names; they ask the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from form_engine.errors import FieldValueError
from form_engine.labels import Label
from form_engine.storable_text import code_point, unstorable_in

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

Storage = Literal["column", "none"]
Coercer = Callable[[Any], Any]
T = TypeVar("T", bound="FieldType")
#: Compiled coercers by (field type, field definition); see ``FieldType._coercer``.
_COERCERS: dict[tuple[int, int], tuple[FieldDef, Coercer]] = {}


class NoConfig(BaseModel):
    """Field types without settings of their own accept no extra keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldType:
    """Base class; subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    label: ClassVar[Label]
    #: DSL type the rule engine sees (``text number integer boolean date datetime list``);
    #: None keeps the field out of rules.
    dsl_type: ClassVar[str | None] = "text"
    #: Pydantic model for the type's own settings (the field's extra keys).
    config_model: ClassVar[type[BaseModel]] = NoConfig
    #: ``column``: one real column named after the field; ``none``: nothing in the row.
    storage: ClassVar[Storage] = "column"
    #: False for values the system computes (formula, auto-number, created-at...).
    writable: ClassVar[bool] = True
    #: True when the value can be unique/indexed in SQL.
    indexable: ClassVar[bool] = True
    #: True when an ORDER BY on the column sorts the way people expect.
    sortable: ClassVar[bool] = True
    #: For storage "none" types that show a system column (created_at...): its name.
    system_column: ClassVar[str | None] = None
    #: True for values the system derives from other data (formulas, roll-ups): a schema
    #: change that adds or changes such a field computes it for the rows already stored.
    derived: ClassVar[bool] = False
    #: True for quantities that add up (sum and avg roll-ups may read them); an integer that
    #: is an id (a lookup, a user) is not one.
    quantity: ClassVar[bool] = False
    #: What the type stores, for the docs.
    stores: ClassVar[str] = ""
    #: Sensitive personal data: the mask kind shown to everyone but administrators and roles
    #: that grant the field in ``full`` (a role's own field rule may restrict it further).
    default_mask: ClassVar[str | None] = None
    #: How JSON input is written where it is not obvious, for the docs (zh and en alike).
    input_notes: ClassVar[str] = ""
    #: True when text that is empty after trimming means "no value" (``None``); False for
    #: types where ``""`` is a value of its own (a JSON document may be the string ``""``).
    blank_is_missing: ClassVar[bool] = True

    def target_entity(self, field: FieldDef) -> str | None:
        """The entity a many-to-one reference points at (rules can follow it), else None."""
        return None

    def field_dsl_type(self, field: FieldDef) -> str | None:
        """The DSL type of one field; computed types answer from their settings."""
        return self.dsl_type

    def dsl_entry(self, field: FieldDef) -> Any:
        """A richer field map entry than the DSL type (a ``rule_engine.CodeTree``), or None."""
        return None

    def is_quantity(self, field: FieldDef) -> bool:
        """Whether this field's values add up; computed types answer from their result type."""
        return self.quantity

    # -- storage -------------------------------------------------------------------------
    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        raise NotImplementedError(f"field type {self.name!r} has no column (storage {self.storage!r})")

    # -- input ---------------------------------------------------------------------------
    def coerce(self, value: Any, field: FieldDef) -> Any:
        """Turn a JSON value into the Python value stored; raise ``FieldValueError``.

        Text no database stores is refused here for every type, whatever its coercer does.
        """
        for _path, char in unstorable_in(value):
            raise FieldValueError("unstorable_text", char=code_point(char))
        return self._coercer(field)(value)

    def _coercer(self, field: FieldDef) -> Coercer:
        """The field's compiled coercer, built once per (frozen) field definition rather than
        once per value: an import coerces a column's cells one by one."""
        key = (id(self), id(field))
        cached = _COERCERS.get(key)
        if cached is not None and cached[0] is field:
            return cached[1]
        coercer = self.compile_coercer(field)
        if len(_COERCERS) >= 4096:  # definitions are replaced when an app changes
            _COERCERS.clear()
        _COERCERS[key] = (field, coercer)
        return coercer

    def compile_coercer(self, field: FieldDef) -> Coercer:
        """A fast per-field coercer: a closure over the field's settings, no dispatch per value."""
        raise NotImplementedError

    def inline(self, field: FieldDef) -> tuple[str, str, dict[str, Any]] | None:
        """An optional fast path the compiled validator inlines: ``(condition, value, constants)``.

        ``condition`` and ``value`` are Python expressions over the input ``v`` with ``{name}``
        placeholders for ``constants``; when the condition holds, the value is stored without
        calling the coercer. Only for inputs that are already canonical; never raises.
        """
        return None

    def parse_text(self, text: str, field: FieldDef) -> Any:
        """Accept what people type in a spreadsheet cell; defaults to JSON coercion."""
        text = text.strip()
        if text == "":
            return None
        return self.coerce(text, field)

    # -- output --------------------------------------------------------------------------
    def to_json(self, value: Any, field: FieldDef) -> Any:
        return value

    def display(self, value: Any, field: FieldDef, locale: str = "en") -> str:
        if value is None:
            return ""
        return str(self.to_json(value, field))

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        """Schema of the JSON value (without null; the caller adds it)."""
        return {"type": "string"}

    def describe(self, field: FieldDef, locale: str = "en") -> dict[str, Any]:
        """The settings a form renderer needs, labels resolved to ``locale``.

        The UI renders a field from this and the JSON Schema without knowing the type's code.
        """
        described: dict[str, Any] = localise(
            field.config.model_dump(mode="json", exclude_defaults=True), locale
        )
        return described

    def normalise(self, value: Any, field: FieldDef) -> Any:
        """The value used to find duplicates; equal when people would call them the same."""
        return value

    def convert_from(self, value: Any, old: FieldDef, new: FieldDef) -> Any:
        """Convert a stored value of another type for a retype migration."""
        if value is None:
            return None
        old_type = registry.get(old.type)
        as_json = old_type.to_json(value, old)
        try:
            return self.coerce(as_json, new)
        except FieldValueError:
            if isinstance(as_json, str):
                raise
            return self.parse_text(str(as_json), new)


def localise(value: Any, locale: str) -> Any:
    """Replace every ``{"zh", "en"}`` label inside a JSON value by the text for ``locale``."""
    if isinstance(value, dict):
        if set(value) == {"zh", "en"}:
            return value["zh" if locale.startswith("zh") else "en"]
        return {k: localise(v, locale) for k, v in value.items()}
    if isinstance(value, list):
        return [localise(v, locale) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class FieldTypeRegistry:
    """All field types by name; plugins and later issues add to it with ``register``."""

    def __init__(self) -> None:
        self._types: dict[str, FieldType] = {}
        self._version = 0

    def register(self, field_type: type[FieldType] | FieldType) -> FieldType:
        instance = field_type() if isinstance(field_type, type) else field_type
        if instance.name in self._types:
            raise ValueError(f"field type {instance.name!r} is registered already")
        self._types[instance.name] = instance
        self._version += 1
        return instance

    @property
    def version(self) -> int:
        """Grows with every registration: part of the key of anything cached from the registry."""
        return self._version

    def get(self, name: str) -> FieldType:
        try:
            return self._types[name]
        except KeyError:
            raise KeyError(f"unknown field type {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[FieldType]:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return list(self._types)


registry = FieldTypeRegistry()


def register_field_type(cls: type[T]) -> type[T]:
    """Class decorator: add a field type to the global registry."""
    registry.register(cls)
    return cls
