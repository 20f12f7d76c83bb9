"""Values the system computes: formulas, roll-ups over related records, and auto-numbers.

None of them is writable by clients. A formula is computed by ``EntityRuntime.validate`` on
every save; a roll-up is recomputed by the kernel when a related record changes (it needs
queries); an auto-number is assigned by the kernel from a gap-free counter on create.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from form_engine.auto_number import PatternError, parse_pattern
from form_engine.column_types import ExactDecimal, UTCDateTime
from form_engine.errors import FieldValueError
from form_engine.field_types.base import Coercer, FieldType, register_field_type
from form_engine.labels import Label
from form_engine.messages import add_messages

if TYPE_CHECKING:
    from form_engine.definitions import FieldDef

add_messages(
    {
        "formula_failed": {
            "zh": "{label}的公式无法计算：{reason}",
            "en": "{label}: the formula could not be computed: {reason}",
        },
    }
)

ResultType = Literal["text", "number", "integer", "boolean", "date", "datetime"]


def result_column(result_type: str, scale: int) -> sa.types.TypeEngine[Any]:
    """The column that holds a computed value of ``result_type``."""
    if result_type == "number":
        return ExactDecimal(18, scale)
    if result_type == "integer":
        return sa.BigInteger()
    if result_type == "boolean":
        return sa.Boolean()
    if result_type == "date":
        return sa.Date()
    if result_type == "datetime":
        return UTCDateTime()
    return sa.String(1000)


def result_coercer(result_type: str, scale: int) -> Coercer:
    """Computed results are rounded to the column, never refused for extra decimals."""
    quantum = Decimal(1).scaleb(-scale)

    def run(value: Any) -> Any:
        if value is None:
            return None
        try:
            if result_type == "number":
                if isinstance(value, bool):
                    raise TypeError
                number = value if isinstance(value, Decimal) else Decimal(str(value))
                return number.quantize(quantum, rounding=ROUND_HALF_UP)
            if result_type == "integer":
                if isinstance(value, bool):
                    raise TypeError
                return int(Decimal(str(value)).to_integral_value(rounding=ROUND_HALF_UP))
            if result_type == "boolean":
                if not isinstance(value, bool):
                    raise TypeError
                return value
            if result_type == "date":
                if isinstance(value, datetime):
                    return value.date()
                if not isinstance(value, date):
                    raise TypeError
                return value
            if result_type == "datetime":
                if not isinstance(value, datetime):
                    raise TypeError
                return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
            return str(value)[:1000]
        except (TypeError, ValueError, InvalidOperation):
            raise FieldValueError(
                "formula_failed",
                reason={
                    "zh": f"结果 {value!r} 不是{result_type}",
                    "en": f"result {value!r} is not a {result_type}",
                },
            ) from None

    return run


def result_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def result_schema(result_type: str) -> dict[str, Any]:
    schemas: dict[str, dict[str, Any]] = {
        "text": {"type": "string"},
        "number": {"type": ["string", "number"], "format": "decimal"},
        "integer": {"type": "integer"},
        "boolean": {"type": "boolean"},
        "date": {"type": "string", "format": "date"},
        "datetime": {"type": "string", "format": "date-time"},
    }
    return schemas[result_type]


class FormulaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: A rule-DSL expression over this entity's fields, e.g. ``quantity * unit_price``.
    expression: str = Field(min_length=1, max_length=4000)
    result_type: ResultType = "number"
    #: Decimals kept when ``result_type`` is number.
    scale: int = Field(default=2, ge=0, le=12)


class _Computed(FieldType):
    """A value the system computes; column, coercion and schema follow its result type."""

    writable = False
    derived = True

    def result(self, field: FieldDef) -> tuple[str, int]:
        """The field's DSL result type and the decimals kept when it is a number."""
        raise NotImplementedError

    def field_dsl_type(self, field: FieldDef) -> str | None:
        return self.result(field)[0]

    def is_quantity(self, field: FieldDef) -> bool:
        return self.field_dsl_type(field) in ("integer", "number")

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return result_column(*self.result(field))

    def compile_coercer(self, field: FieldDef) -> Coercer:
        return result_coercer(*self.result(field))

    def to_json(self, value: Any, field: FieldDef) -> Any:
        return result_json(value)

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {**result_schema(self.result(field)[0]), "readOnly": True}


@register_field_type
class FormulaType(_Computed):
    name = "formula"
    label = Label(zh="公式", en="Formula")
    config_model = FormulaConfig
    stores = (
        "a column of `result_type` holding the DSL expression's value, computed on every save "
        "and for every stored row when the field is added or changed"
    )

    def result(self, field: FieldDef) -> tuple[str, int]:
        config = field.config_as(FormulaConfig)
        return config.result_type, config.scale


RollupFunction = Literal["count", "sum", "min", "max", "avg"]


class RollupConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: The related (child) entity whose records are aggregated.
    entity: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: The child's lookup field pointing at this entity.
    link_field: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    function: RollupFunction = "count"
    #: The child field aggregated; not used by count.
    field: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    #: Optional rule-DSL condition on the child records (``stage == 'won'``).
    filter: str | None = Field(default=None, max_length=4000)
    #: integer for count; number by default otherwise; date/datetime for min/max of dates.
    result_type: Literal["integer", "number", "date", "datetime"] | None = None
    scale: int = Field(default=2, ge=0, le=12)

    @model_validator(mode="after")
    def _field_unless_count(self) -> RollupConfig:
        if self.function != "count" and self.field is None:
            raise ValueError(f"a {self.function} roll-up needs `field`, the child field to aggregate")
        if self.result_type in ("date", "datetime") and self.function not in ("min", "max"):
            raise ValueError("only min and max roll-ups can have a date or datetime result")
        return self

    @property
    def effective_result_type(self) -> str:
        if self.result_type is not None:
            return self.result_type
        return "integer" if self.function == "count" else "number"


@register_field_type
class RollupType(_Computed):
    name = "rollup"
    label = Label(zh="汇总", en="Roll-up")
    config_model = RollupConfig
    stores = (
        "a column (BIGINT for count, NUMERIC otherwise) the kernel recomputes when related records "
        "change, and for every stored row when the field is added or changed"
    )

    def result(self, field: FieldDef) -> tuple[str, int]:
        config = field.config_as(RollupConfig)
        return config.effective_result_type, config.scale


class AutoNumberConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Text with ``{seq:N}`` and optional date tokens: ``HT-{YYYYMMDD}-{seq:4}``.
    pattern: str = Field(default="{seq:6}", min_length=1, max_length=80)
    #: Zone whose calendar the date tokens use.
    timezone: str = "Asia/Shanghai"

    @field_validator("pattern")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            parse_pattern(value)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        return value


@register_field_type
class AutoNumberType(FieldType):
    name = "auto_number"
    label = Label(zh="自动编号", en="Auto-number")
    config_model = AutoNumberConfig
    writable = False
    stores = "VARCHAR(100): the pattern filled by the kernel from a gap-free counter per sequence_key"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(100)

    def compile_coercer(self, field: FieldDef) -> Coercer:
        def run(value: Any) -> Any:
            if not isinstance(value, str):
                raise FieldValueError("invalid_text", value=value)
            return value

        return run

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        return {"type": "string", "readOnly": True}
