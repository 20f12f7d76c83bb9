"""Column types that keep one meaning on SQLite and PostgreSQL.

SQLite has no decimal, no time zones and no JSONB; these decorators make the Python values that
come back the same on both backends (exact ``Decimal``, aware UTC ``datetime``, lists).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """NUMERIC(p, s) on PostgreSQL; REAL on SQLite, quantised back to ``scale`` on read."""

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int = 18, scale: int = 4) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Float())
        return dialect.type_descriptor(sa.Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return float(value)
        return value if isinstance(value, Decimal) else Decimal(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(self._quantum)

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """Stores naive UTC; hands back aware UTC datetimes so comparisons never mix kinds."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or not isinstance(value, datetime):
            return value
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC)

    @property
    def python_type(self) -> type[datetime]:
        return datetime


def json_column() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL (indexable, ``?`` and ``@>`` operators).

    ``none_as_null``: Python None is SQL NULL, never the JSON value ``null``, so ``is_blank``
    and ``IS NULL`` in the rule engine's SQL mean the same as in Python.
    """
    return sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def json_text(column: Any, key: str) -> Any:
    """The text at ``key`` of a JSON column, as SQL can select, filter and group by on both
    backends (``JSON_EXTRACT`` on SQLite, ``->>`` on PostgreSQL): ``json_text(t.c.place,
    "province_code")`` groups addresses by province."""
    return column[key].as_string()


def id_column_type() -> sa.types.TypeEngine[int]:
    """BIGINT everywhere except SQLite, where only INTEGER PRIMARY KEY autoincrements."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
